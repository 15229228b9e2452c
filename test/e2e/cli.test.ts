/** The `mister-smith` command as a user runs it: a real process, real signals, real exit codes. */
import assert from 'node:assert/strict';
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
