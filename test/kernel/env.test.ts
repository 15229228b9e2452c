import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { applyEnvOverrides, createKernel, definePlugin, loadConfig, z } from '../../index.js';
import { FIXTURES, silent, tempDir, writeJson } from './fixtures/util.js';

test('MISTER_SMITH_LOG_LEVEL overrides log.level', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { log: { level: 'info', pretty: false } });
  const config = await loadConfig(file, { MISTER_SMITH_LOG_LEVEL: 'debug' });
  assert.deepEqual(config.log, { level: 'debug', pretty: false });
  const none = await loadConfig(path.join(dir, 'c.json'), {});
  assert.equal(none.log?.level, 'info');
  const created = await writeJson(path.join(dir, 'd.json'), {});
  assert.equal((await loadConfig(created, { MISTER_SMITH_LOG_LEVEL: 'warn' })).log?.level, 'warn');
});

test('MISTER_SMITH__SHUTDOWN_TIMEOUT_MS sets a top-level key, parsed as JSON', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { shutdownTimeoutMs: 30000 });
  const config = await loadConfig(file, { MISTER_SMITH__SHUTDOWN_TIMEOUT_MS: '5000', MISTER_SMITH__START_TIMEOUT_MS: '7000', MISTER_SMITH__NAME: 'from-env' });
  assert.equal(config.shutdownTimeoutMs, 5000);
  assert.equal(config.startTimeoutMs, 7000);
  assert.equal(config.name, 'from-env');
  const kernel = await createKernel({ config, logger: silent() });
  assert.equal(kernel.config.shutdownTimeoutMs, 5000);
});

test('MISTER_SMITH__LOG__LEVEL reaches a nested key', () => {
  assert.deepEqual(applyEnvOverrides({ log: { level: 'info' } }, { MISTER_SMITH__LOG__LEVEL: 'error' }), { log: { level: 'error' } });
});

test('MISTER_SMITH__PLUGINS__<NAME>__<path> sets a plugin option, nested, for string and object entries', async (t) => {
  const dir = await tempDir(t);
  const good = path.join(FIXTURES, 'plugins', 'good.ts');
  const file = await writeJson(path.join(dir, 'c.json'), {
    plugins: [good, { use: good, name: 'second-good', options: { greeting: 'hi' } }],
  });
  const config = await loadConfig(file, {
    MISTER_SMITH__PLUGINS__GOOD__COUNT: '10',
    MISTER_SMITH__PLUGINS__SECOND_GOOD__GREETING: 'bonjour',
    MISTER_SMITH__PLUGINS__SECOND_GOOD__MAILBOX__CAPACITY: '3',
  });
  assert.deepEqual(config.plugins, [
    { use: good, options: { count: 10 } },
    { use: good, name: 'second-good', options: { greeting: 'bonjour', mailbox: { capacity: 3 } } },
  ]);
});

test('an override for a plugin the config does not load changes nothing', () => {
  const raw = { plugins: ['actors'] };
  assert.deepEqual(applyEnvOverrides(raw, { MISTER_SMITH__PLUGINS__TOOLS__X: '1' }), raw);
});

test('overrides do not mutate the config they are given', () => {
  const raw = { log: { level: 'info' }, plugins: [{ use: 'actors', options: { mailbox: { capacity: 1 } } }] };
  const copy = structuredClone(raw);
  applyEnvOverrides(raw, { MISTER_SMITH_LOG_LEVEL: 'debug', MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '2' });
  assert.deepEqual(raw, copy);
});

test('a plugin option override reaches an inline plugin definition without touching the definition', async () => {
  const inline = definePlugin({
    name: 'inline-env',
    version: '1.0.0',
    options: z.object({ size: z.number().default(1) }),
    setup(ctx) {
      ctx.provide('size', ctx.options.size);
    },
  });
  const out = applyEnvOverrides({ plugins: [inline] }, { MISTER_SMITH__PLUGINS__INLINE_ENV__SIZE: '42' });
  const kernel = await createKernel({ config: out as never, logger: silent() });
  await kernel.start();
  assert.equal(kernel.resolve('size'), 42);
  await kernel.stop();
  assert.ok(inline.options !== undefined && typeof inline.options.safeParse === 'function', 'the schema is untouched');
});

test('a value that is not JSON stays a string, and a bad override is reported with its path', async (t) => {
  const dir = await tempDir(t);
  const good = path.join(FIXTURES, 'plugins', 'good.ts');
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: [good] });
  const config = await loadConfig(file, { MISTER_SMITH__PLUGINS__GOOD__COUNT: 'many' });
  await assert.rejects(createKernel({ config, logger: silent() }), (e: { problems: string[] }) => {
    assert.equal(e.problems.length, 1);
    assert.match(e.problems[0]!, /^plugins\[0\]\.options\.count: .*expected number/);
    return true;
  });
});

test('a plugin loaded from <folder>/index is addressed by the folder name', () => {
  const out = applyEnvOverrides({ plugins: ['./plugins/greeter/index.ts'] }, { MISTER_SMITH__PLUGINS__GREETER__GREETING: 'hey' });
  assert.deepEqual(out.plugins, [{ use: './plugins/greeter/index.ts', options: { greeting: 'hey' } }]);
});

test('an invalid MISTER_SMITH_LOG_LEVEL is reported as log.level', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), {});
  const config = await loadConfig(file, { MISTER_SMITH_LOG_LEVEL: 'chatty' });
  await assert.rejects(createKernel({ config, logger: silent() }), (e: { problems: string[] }) => /^log\.level: /.test(e.problems[0]!) && e.problems.length === 1);
});

test('MISTER_SMITH__PLUGINS__<NAME> without an option path leaves the plugin list alone', () => {
  const raw = { plugins: ['actors', { use: 'tools' }] };
  assert.deepEqual(applyEnvOverrides(raw, { MISTER_SMITH__PLUGINS__ACTORS: 'false' }), raw);
  // The whole list may still be replaced as JSON.
  assert.deepEqual(applyEnvOverrides(raw, { MISTER_SMITH__PLUGINS: '["events"]' }), { plugins: ['events'] });
});
