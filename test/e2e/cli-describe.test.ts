/** Describing plugins and configs: the `mister-smith` command run as a user runs it. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cli, fixture } from './fixtures/cli.js';

describe('mister-smith CLI: describing plugins and configs', { timeout: 120_000 }, () => {
  test('start on a config with no plugins starts and stops cleanly (exit 0)', async () => {
    const { code, stdout } = await cli(['start', fixture('empty.json'), '--once']).exited;
    assert.equal(code, 0);
    assert.match(stdout, /"msg":"started 0 plugin\(s\)"/);
    assert.match(stdout, /"msg":"stopped"/);
  });

  test('plugins --json prints each plugin with its options as JSON Schema', async () => {
    const { code, stdout } = await cli(['plugins', fixture('forever.json'), '--json']).exited;
    assert.equal(code, 0);
    const list = JSON.parse(stdout) as Array<{ name: string; version: string; options: object }>;
    assert.deepEqual(list.map((p) => p.name), ['forever']);
    assert.equal(list[0]!.version, '1.0.0');
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
});
