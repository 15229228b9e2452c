/** Output for people and misbehaving plugins: the `mister-smith` command run as a user runs it. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cli, fixture } from './fixtures/cli.js';

describe('mister-smith CLI: output for people and misbehaving plugins', { timeout: 120_000 }, () => {
  test('a plugin calling process.exit() from a timer: logged, stop handlers run, exit 1 (0 is not a clean stop)', async () => {
    const { code, stdout } = await cli(['start', fixture('exits-timer.json')]).exited;
    assert.equal(code, 1);
    assert.match(stdout, /"level":60.*"code":"KERNEL_PROCESS_EXIT".*process\.exit\(0\) was called inside a running Mister Smith system/);
    // The caller is named by the stack, the code after the call did not run, and every stop handler ran.
    assert.match(stdout, /exits\.plugin\.ts:\d+/);
    assert.doesNotMatch(stdout, /must not run/);
    assert.match(stdout, /exits stopped/);
    assert.match(stdout, /forever stopped/);
    assert.match(stdout, /"msg":"stopped"/);
  });

  test('a plugin calling process.exit(7) in its start handler: start fails, what started is stopped, exit 7', async () => {
    const { code, stdout, stderr } = await cli(['start', fixture('exits-start.json')]).exited;
    assert.equal(code, 7);
    assert.match(stdout, /process\.exit\(7\) was called/);
    assert.doesNotMatch(stdout, /must not run/);
    assert.match(stdout, /forever stopped/);
    assert.match(stderr, /KERNEL_START_FAILED: plugin 'exits' failed to start/);
  });

  test('a 100,000-deep JSON config is a config error (exit 2), not a stack overflow', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mister-smith-deep-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const depth = 100_000;
    const file = path.join(dir, 'deep.json');
    await writeFile(file, `{"plugins":[{"use":"routing","options":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`);
    for (const command of ['start', 'check']) {
      const { code, stderr } = await cli([command, file]).exited;
      assert.equal(code, 2, stderr);
      assert.match(stderr, /CONFIG_INVALID/);
      assert.match(stderr, /plugins\[0\]\.options\.a\.a\.a.*nested deeper than 100 levels/);
      assert.doesNotMatch(stderr, /RangeError|Maximum call stack/);
    }
  });

  test('human output: one line per log event, a start summary and a final one', async () => {
    const { code, stdout } = await cli(['start', fixture('pretty.json'), '--once']).exited;
    assert.equal(code, 0);
    assert.doesNotMatch(stdout, /\{"level"/);
    assert.match(stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[forever\] forever started$/m);
    // Every log event is one line: nothing but summary lines is indented or a bare brace.
    for (const line of stdout.trimEnd().split('\n')) assert.match(line, /^(\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+: |▶ |■ |✖ |  [a-zA-Z ]+)/, line);
    assert.match(stdout, /^▶ pretty: 1 plugin\(s\) running after \d+ ms — forever$/m);
    assert.match(stdout, /^  event log: none \(the events plugin is not loaded\)$/m);
    assert.match(stdout, /^  config: +.*pretty\.json$/m);
    assert.match(stdout, /^■ pretty: stopped after .* \(all tracked work settled \(--once\)\) — exit 0$/m);
    assert.match(stdout, /^  ran: +1 plugin\(s\); none failed$/m);
  });

  test('the summaries name what failed and what was not installed', async () => {
    const { code, stdout } = await cli(['start', fixture('pretty-failing.json'), '--once']).exited;
    assert.equal(code, 0);
    assert.match(stdout, /^  failed \(optional, running without\): fails-start \(start: boom at start\)$/m);
    assert.match(stdout, /^  not installed \(optional\): ms-plugin-not-installed$/m);
    assert.match(stdout, /^  ran: +1 plugin\(s\); failed: fails-start \(start: boom at start\)$/m);
    // An error is one line too: its message joins the event's line, its stack stays in the JSON form.
    assert.match(stdout, /^\[[\d:.]+\] ERROR: \[fails-start\] optional plugin 'fails-start' failed to start; the kernel runs on without it — boom at start/m);
    assert.doesNotMatch(stdout, /^ {4}/m);
  });
});
