/** Checking a config: the `mister-smith` command run as a user runs it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cli, fixture } from './fixtures/cli.js';

describe('mister-smith CLI: checking a config', { timeout: 120_000 }, () => {
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
});
