/** The `mister-smith` command as a user runs it: a real process, real signals, real exit codes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cli, fixture } from './fixtures/cli.js';

describe('mister-smith CLI: running a system', { timeout: 120_000 }, () => {
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

  test('MISTER_SMITH_LOG_LEVEL silences info logs', async () => {
    const { code, stdout } = await cli(['start', fixture('empty.json'), '--once'], { MISTER_SMITH_LOG_LEVEL: 'warn' }).exited;
    assert.equal(code, 0);
    assert.doesNotMatch(stdout, /"msg":"stopped"/);
  });
});
