/** The `mister-smith` command as a user runs it: a real process, real signals, real exit codes. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cli, fixture } from './fixtures/cli.js';

describe('mister-smith CLI', { timeout: 120_000 }, () => {
  test('start on a config with no plugins starts and stops cleanly (exit 0)', async () => {
    const { code, stdout } = await cli(['start', fixture('empty.json'), '--once']).exited;
    assert.equal(code, 0);
    assert.match(stdout, /"msg":"started 0 plugin\(s\)"/);
    assert.match(stdout, /"msg":"stopped"/);
  });

  test('SIGINT stops the kernel gracefully and exits 0', async () => {
    const run = cli(['start', fixture('forever.json')]);
    await run.waitFor(/forever started/);
    run.kill('SIGINT');
    const { code, stdout } = await run.exited;
    assert.equal(code, 0);
    assert.match(stdout, /forever stopped/);
  });

  test('SIGTERM stops the kernel gracefully too', async () => {
    const run = cli(['start', fixture('forever.json')]);
    await run.waitFor(/forever started/);
    run.kill('SIGTERM');
    assert.equal((await run.exited).code, 0);
  });

  test('a second signal forces exit 1 while a plugin hangs in stop', async () => {
    const run = cli(['start', fixture('stubborn.json')]);
    await run.waitFor(/stubborn started/);
    run.kill('SIGINT');
    await run.waitFor(/signal received/);
    // The stop says which plugin it is waiting for.
    await run.waitFor(/"plugin":"stubborn".*"msg":"stopping: waiting for plugin 'stubborn'"/);
    run.kill('SIGINT');
    const { code, stdout } = await run.exited;
    assert.equal(code, 1);
    assert.match(stdout, /second signal: forcing exit/);
  });

  test('a critical fault with no recovery decision stops the kernel with exit 1', async () => {
    const { code, stdout } = await cli(['start', fixture('critical.json')]).exited;
    assert.equal(code, 1);
    assert.match(stdout, /the reactor melted/);
    assert.match(stdout, /forever stopped/);
  });

  test('with the supervision plugin loaded, a critical fault still stops the kernel with exit 1', async () => {
    const { code, stdout } = await cli(['start', fixture('critical-supervised.json')]).exited;
    assert.equal(code, 1);
    assert.match(stdout, /the reactor melted/);
  });

  test('an unhandled rejection becomes a fault instead of crashing the process', async () => {
    const { code, stdout } = await cli(['start', fixture('rejects.json'), '--once']).exited;
    assert.equal(code, 0);
    assert.match(stdout, /nobody caught me/);
    assert.match(stdout, /"source":"process"/);
  });

  test('a TypeScript config module works', async () => {
    const { code, stdout } = await cli(['start', fixture('typescript.config.ts'), '--once']).exited;
    assert.equal(code, 0);
    assert.match(stdout, /forever stopped/);
  });

  test('start with a bad config exits 2 and lists every problem', async () => {
    const { code, stderr } = await cli(['start', fixture('broken.json')]).exited;
    assert.equal(code, 2);
    assert.match(stderr, /shutdownTimeoutMs: /);
    assert.match(stderr, /plugins\[0\]\.use: unknown plugin 'no-such-plugin'/);
    assert.match(stderr, /two plugins named 'forever'/);
  });

  test('check exits 2 on problems (as start does) and 0 with the load order', async () => {
    const bad = await cli(['check', fixture('broken.json')]).exited;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /3 problems/);
    const good = await cli(['check', fixture('forever.json')]).exited;
    assert.equal(good.code, 0);
    assert.match(good.stdout, /1\. forever@1\.0\.0/);
  });

  test('plugins --json prints each plugin with its options as JSON Schema', async () => {
    const { code, stdout } = await cli(['plugins', fixture('forever.json'), '--json']).exited;
    assert.equal(code, 0);
    const list = JSON.parse(stdout) as Array<{ name: string; version: string; options: object }>;
    assert.deepEqual(list.map((p) => p.name), ['forever']);
    assert.equal(list[0]!.version, '1.0.0');
  });

  test('check finds a forgotten dependsOn, a name-aliasing conflict and a mistyped option (exit 2 each)', async () => {
    const undeclared = await cli(['check', fixture('undeclared.json')]).exited;
    assert.equal(undeclared.code, 2);
    assert.match(undeclared.stderr, /plugin 'undeclared' resolves service 'helper' in setup, which plugin 'helper' provides, but 'helper' starts after 'undeclared': add 'helper' to the dependsOn of 'undeclared'/);
    const aliased = await cli(['check', fixture('aliased.json')]).exited;
    assert.equal(aliased.code, 2);
    assert.match(aliased.stderr, /plugin 'helper-2' provides service 'helper', which plugin 'helper' already provides/);
    const typo = await cli(['check', fixture('typo.json')]).exited;
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /plugins\[0\]\.options\.dney: unknown key \(did you mean `deny`\?\)/);
  });

  test('an optional plugin that is not installed: check notes it, start logs it and runs without it', async () => {
    const check = await cli(['check', fixture('optional-missing.json')]).exited;
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /skipped: 'ms-plugin-not-installed' \(optional, not installed\)/);
    const { code, stdout } = await cli(['start', fixture('optional-missing.json'), '--once']).exited;
    assert.equal(code, 0);
    assert.match(stdout, /optional plugin 'ms-plugin-not-installed' is not installed; running without it/);
    assert.match(stdout, /forever started/);
  });

  test('<command> --help prints that command\'s usage; help and --help document env vars and exit codes', async () => {
    const start = await cli(['start', '--help']).exited;
    assert.equal(start.code, 0);
    assert.match(start.stdout, /^Usage: mister-smith start \[config\] \[--once\]/);
    assert.doesNotMatch(start.stdout, /Commands:/);
    for (const args of [['help'], ['--help']]) {
      const help = await cli(args).exited;
      assert.equal(help.code, 0);
      assert.match(help.stdout, /MISTER_SMITH_LOG_LEVEL/);
      assert.match(help.stdout, /MISTER_SMITH__PLUGINS__<NAME>__<KEY>/);
      assert.match(help.stdout, /Exit codes:\n  0  clean stop\n  1  failure.*\n  2  bad usage or bad config/);
    }
    const one = await cli(['help', 'check']).exited;
    assert.match(one.stdout, /^Usage: mister-smith check \[config\]/);
  });

  test('plugins prints a table, and `plugins <name>` one plugin with its options', async () => {
    const all = await cli(['plugins']).exited;
    assert.equal(all.code, 0);
    const lines = all.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME +VERSION +DEPENDS ON +DESCRIPTION$/);
    assert.ok(lines.some((l) => /^actors +1\.0\.0 +supervision /.test(l)), all.stdout);
    assert.ok(lines.length < 40, `a table, not ${lines.length} lines`);
    const one = await cli(['plugins', 'actors']).exited;
    assert.equal(one.code, 0);
    assert.match(one.stdout, /^actors@1\.0\.0/);
    assert.match(one.stdout, /^mailbox\.capacity +(number|integer) +\d+/m);
    const json = await cli(['plugins', 'actors', '--json']).exited;
    assert.equal((JSON.parse(json.stdout) as { name: string }).name, 'actors');
    const missing = await cli(['plugins', 'nope']).exited;
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no plugin named 'nope'/);
  });

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

  test('schema writes a JSON Schema for "$schema": to stdout, or to --out, covering the config\'s plugins', async (t) => {
    const { code, stdout } = await cli(['schema', fixture('commander.json')]).exited;
    assert.equal(code, 0);
    const schema = JSON.parse(stdout) as { properties: Record<string, { items?: { anyOf: Array<{ allOf?: Array<{ if: { properties: { use: { const: string } } } }> }> } }> };
    assert.ok(schema.properties.shutdownTimeoutMs);
    const uses = schema.properties.plugins!.items!.anyOf[1]!.allOf!.map((c) => c.if.properties.use.const);
    assert.ok(uses.includes('./commander.plugin.ts') && uses.includes('actors'), uses.join(', '));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mister-smith-schema-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'mister-smith.schema.json');
    const written = await cli(['schema', '--out', out], {}, { cwd: dir }).exited;
    assert.equal(written.code, 0, written.stderr);
    assert.match(await readFile(out, 'utf8'), /"title": "Mister Smith config"/);
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

  test('bad usage exits 2', async () => {
    assert.equal((await cli(['launch']).exited).code, 2);
    assert.equal((await cli([]).exited).code, 2);
    assert.equal((await cli(['start', '--fast']).exited).code, 2);
  });

  test('a missing config file exits 2', async () => {
    const { code, stderr } = await cli(['start', fixture('nope.json')]).exited;
    assert.equal(code, 2);
    assert.match(stderr, /CONFIG_FILE_NOT_FOUND/);
  });

  test('MISTER_SMITH_LOG_LEVEL silences info logs', async () => {
    const { code, stdout } = await cli(['start', fixture('empty.json'), '--once'], { MISTER_SMITH_LOG_LEVEL: 'warn' }).exited;
    assert.equal(code, 0);
    assert.doesNotMatch(stdout, /"msg":"stopped"/);
  });
});
