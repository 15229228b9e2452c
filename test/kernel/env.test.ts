import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { applyEnvOverrides, ConfigError, createKernel, definePlugin, loadConfig, loadPlugins, z } from '../../index.js';
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

/** The options each plugin ended up with, by name, after loading `file` with `env`. */
async function optionsAfter(file: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const { plugins, problems } = await loadPlugins(await loadConfig(file, env), path.dirname(file));
  assert.deepEqual(problems, []);
  return Object.fromEntries(plugins.map((p) => [p.name, p.options]));
}

async function problemsOf(file: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const config = await loadConfig(file, env);
  try {
    await createKernel({ config, logger: silent() });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('expected the overrides to be rejected');
}

const good = path.join(FIXTURES, 'plugins', 'good.ts');

test('MISTER_SMITH__PLUGINS__<NAME> is the plugin name (definition name, or `name`), not the `use` string', async (t) => {
  const dir = await tempDir(t);
  // good.ts defines the plugin 'fixture-good'; the second entry renames it.
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: [good, { use: good, name: 'second-good', options: { greeting: 'hi' } }] });
  const options = await optionsAfter(file, {
    MISTER_SMITH__PLUGINS__FIXTURE_GOOD__COUNT: '10',
    MISTER_SMITH__PLUGINS__SECOND_GOOD__GREETING: 'bonjour',
  });
  assert.deepEqual(options, { 'fixture-good': { greeting: 'hello', count: 10 }, 'second-good': { greeting: 'bonjour', count: 1 } });
});

test('an option segment maps to the schema key (HEALTH_CHECKS → healthChecks), nested', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: ['supervision', 'actors'] });
  const options = await optionsAfter(file, { MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '7', MISTER_SMITH__PLUGINS__SUPERVISION__HEALTH_CHECKS: 'false' });
  assert.equal((options.actors as { mailbox: { capacity: number } }).mailbox.capacity, 7);
  assert.equal((options.supervision as { healthChecks: boolean }).healthChecks, false);
});

test('an override that matches no plugin is an error naming the variable', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: [good] });
  // `GOOD` is the file name, not the plugin's name.
  const problems = await problemsOf(file, { MISTER_SMITH__PLUGINS__GOOD__COUNT: '10' });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^MISTER_SMITH__PLUGINS__GOOD__COUNT: no plugin named 'good' in the config \(plugins: fixture-good\)/);
});

test('an override naming a plugin but no option is an error', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: [good] });
  assert.deepEqual(await problemsOf(file, { MISTER_SMITH__PLUGINS__FIXTURE_GOOD: '1' }), [
    "MISTER_SMITH__PLUGINS__FIXTURE_GOOD: names plugin 'fixture-good' but no option (write MISTER_SMITH__PLUGINS__FIXTURE_GOOD__<OPTION>)",
  ]);
});

test('an override for a disabled plugin is no error and changes nothing', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: [{ use: 'actors', enabled: false }] });
  const kernel = await createKernel({ config: await loadConfig(file, { MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '1' }), logger: silent() });
  assert.deepEqual(kernel.plugins, []);
});

test('a bad value names the variable it came from, for plugin options and top-level keys', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: [good] });
  const problems = await problemsOf(file, { MISTER_SMITH__PLUGINS__FIXTURE_GOOD__COUNT: 'many', MISTER_SMITH__SHUTDOWN_TIMEOUT_MS: '-5' });
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.ok(problems.some((p) => /^plugins\[0\]\.options\.count: .*expected number.* \(from MISTER_SMITH__PLUGINS__FIXTURE_GOOD__COUNT\)$/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^shutdownTimeoutMs: .* \(from MISTER_SMITH__SHUTDOWN_TIMEOUT_MS\)$/.test(p)), problems.join('\n'));
});

test('an override of an option the plugin does not have is an unknown key naming the variable', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { plugins: [good] });
  assert.deepEqual(await problemsOf(file, { MISTER_SMITH__PLUGINS__FIXTURE_GOOD__COUNTT: '1' }), [
    'plugins[0].options.countt: unknown key (did you mean `count`?) (from MISTER_SMITH__PLUGINS__FIXTURE_GOOD__COUNTT)',
  ]);
  const top = await writeJson(path.join(dir, 'd.json'), {});
  assert.deepEqual(await problemsOf(top, { MISTER_SMITH__SHUTDOWN_TIMEOUT: '1' }), [
    'shutdownTimeout: unknown key (did you mean `shutdownTimeoutMs`?) (from MISTER_SMITH__SHUTDOWN_TIMEOUT)',
  ]);
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

test('MISTER_SMITH_LOG_LEVEL is case-insensitive; an invalid one names the variable', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), {});
  assert.equal((await loadConfig(file, { MISTER_SMITH_LOG_LEVEL: 'DEBUG' })).log?.level, 'debug');
  assert.equal((await loadConfig(file, { MISTER_SMITH_LOG_LEVEL: ' Warn ' })).log?.level, 'warn');
  const problems = await problemsOf(file, { MISTER_SMITH_LOG_LEVEL: 'chatty' });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^log\.level: .* \(from MISTER_SMITH_LOG_LEVEL\)$/);
});

test('MISTER_SMITH__PLUGINS replaces the whole list as JSON', () => {
  assert.deepEqual(applyEnvOverrides({ plugins: ['actors', { use: 'tools' }] }, { MISTER_SMITH__PLUGINS: '["events"]' }).plugins, ['events']);
});
