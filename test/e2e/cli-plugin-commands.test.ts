/** Commands that plugins add to `mister-smith` (`definePlugin({ commands })`), run as a user runs them. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cli, fixture } from './fixtures/cli.js';

const config = fixture('commander.json');

describe('plugin CLI commands', { timeout: 120_000 }, () => {
  test('a plugin command starts a kernel of its plugin and the plugins it depends on, with merged options', async () => {
    const { code, stdout, stderr } = await cli(['greet', 'Ada', '--config', config]).exited;
    assert.equal(code, 0, stderr);
    // greeting from the config, punctuation merged in by the command, helper (a dependency) started.
    assert.match(stdout, /^hej, Ada! \(helped\) \(configured: helper,commander,forever; configured greeting: hej\)$/m);
    // Logs went to stderr (logTo), and only the selected plugins started.
    assert.match(stderr, /helper started/);
    assert.match(stderr, /"msg":"started 2 plugin\(s\)"/);
    assert.doesNotMatch(stderr, /forever started/);
    // The CLI stopped the kernel the command left running.
    assert.match(stderr, /helper stopped/);
  });

  test('run gets the arguments after the command without --config, and its exit code is the process exit code', async () => {
    const { code, stdout } = await cli(['argv', 'a', `--config=${config}`, '--flag', '--', '--config', 'b']).exited;
    assert.equal(code, 3);
    const out = JSON.parse(stdout) as { argv: string[]; configDir: string; name: string };
    assert.deepEqual(out.argv, ['a', '--flag', '--', '--config', 'b']);
    assert.equal(out.configDir, path.dirname(config));
    assert.equal(out.name, 'commands');
  });

  test('the default config in the working directory is searched for commands', async () => {
    const { code, stdout } = await cli(['argv', 'x'], {}, { cwd: fixture('commander-default') }).exited;
    assert.equal(code, 3);
    assert.deepEqual((JSON.parse(stdout) as { argv: string[] }).argv, ['x']);
  });

  test('a command that throws exits 1 and prints the error', async () => {
    const { code, stderr } = await cli(['fail', '--config', config]).exited;
    assert.equal(code, 1);
    assert.match(stderr, /the command broke/);
  });

  test('SIGINT aborts the command signal and stops the kernels it started', async () => {
    const run = cli(['wait', '--config', config]);
    await run.waitFor(/waiting for a signal/);
    run.kill('SIGINT');
    const { code, stdout } = await run.exited;
    assert.equal(code, 0);
    assert.match(stdout, /signalled; kernel (stopping|stopped)/);
    assert.match(stdout, /forever stopped/);
    assert.match(stdout, /helper stopped/);
  });

  test('help lists plugin commands; <command> --help prints its usage without running it', async () => {
    const help = await cli(['help', '--config', config]).exited;
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Commands of the config's plugins:/);
    assert.match(help.stdout, /greet <name> \[--loud\] +greet someone through a started kernel \[commander\]/);
    const one = await cli(['greet', '--help', '--config', config]).exited;
    assert.equal(one.code, 0);
    assert.match(one.stdout, /Usage: mister-smith greet <name> \[--loud\]/);
    assert.doesNotMatch(one.stdout, /hej/);
    const viaHelp = await cli(['help', 'argv', '--config', config]).exited;
    assert.match(viaHelp.stdout, /Usage: mister-smith argv/);
  });

  test('an unknown command exits 2, with a config or without', async () => {
    const withConfig = await cli(['nope', '--config', config]).exited;
    assert.equal(withConfig.code, 2);
    assert.match(withConfig.stderr, /unknown command 'nope'/);
    const empty = await mkdtemp(path.join(os.tmpdir(), 'mister-smith-cli-'));
    try {
      const without = await cli(['nope'], {}, { cwd: empty }).exited;
      assert.equal(without.code, 2);
      assert.match(without.stderr, /unknown command 'nope'/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('an unknown command with a broken config exits 2 and says why it could not look', async () => {
    const { code, stderr } = await cli(['greet', '--config', fixture('broken.json')]).exited;
    assert.equal(code, 2);
    assert.match(stderr, /unknown plugin 'no-such-plugin'/);
    assert.match(stderr, /looked for command 'greet'/);
  });
});
