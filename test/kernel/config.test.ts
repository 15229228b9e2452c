import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, createKernel, KernelConfigSchema, loadConfig } from '../../index.js';
import { FIXTURES, kernelOf, silent, tempDir, writeJson } from './fixtures/util.js';

const CONFIGS = path.join(FIXTURES, 'configs');

/** The problems a config produces, or [] when it loads. */
async function problemsOf(config: unknown, configDir?: string): Promise<string[]> {
  try {
    await createKernel({ config: config as never, logger: silent(), ...(configDir ? { configDir } : {}) });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    for (const problem of error.problems) assert.ok(error.message.includes(problem), 'the message lists every problem');
    return [...error.problems];
  }
}

test('defaults fill what a config leaves out', async () => {
  const kernel = await kernelOf({});
  assert.equal(kernel.config.name, 'mister-smith');
  assert.equal(kernel.config.log.level, 'info');
  assert.equal(kernel.config.shutdownTimeoutMs, 30_000);
  assert.equal(kernel.config.startTimeoutMs, 30_000);
  assert.equal(KernelConfigSchema.parse({}).plugins.length, 0);
});

test('an unknown top-level key is reported by its path', async () => {
  const problems = await problemsOf({ name: 'x', plugin: [], extra: 1 });
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /^plugin: /);
  assert.match(problems[1]!, /^extra: /);
  for (const p of problems) assert.match(p, /unknown key|unrecognized/i);
});

test('bad top-level types are reported as path: message', async () => {
  const problems = await problemsOf({ shutdownTimeoutMs: 'soon', log: { level: 'loud' }, startTimeoutMs: -1 });
  assert.equal(problems.length, 3);
  assert.ok(problems.some((p) => /^shutdownTimeoutMs: .*expected number/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^log\.level: /.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^startTimeoutMs: /.test(p)), problems.join('\n'));
});

test('loadConfig reads a JSON file; `use` paths resolve against the config file; enabled:false is skipped', async () => {
  const config = await loadConfig(path.join(CONFIGS, 'basic.json'), {});
  assert.equal(config.configPath, path.join(CONFIGS, 'basic.json'));
  assert.equal(config.name, 'fixture-json');
  const kernel = await createKernel({ config, logger: silent() });
  assert.equal(kernel.configDir, CONFIGS);
  assert.equal(kernel.config.shutdownTimeoutMs, 1234);
  assert.deepEqual(kernel.plugins.map((p) => [p.name, p.version, p.source]), [
    ['fixture-good', '1.2.3', '../plugins/good.ts'],
    ['needs-other', '1.0.0', '../plugins/needs-other.ts'],
  ]);
  await kernel.start();
  assert.deepEqual(kernel.resolve('fixture-good'), { greeting: 'hi', count: 1 });
  assert.equal(kernel.resolve('needs-other'), 'HI');
  await kernel.stop();
});

test('loadConfig reads a .ts module whose default export is the config, inline plugins included', async () => {
  const config = await loadConfig(path.join(CONFIGS, 'basic.config.ts'), {});
  const kernel = await createKernel({ config, logger: silent() });
  assert.equal(kernel.config.name, 'fixture-ts');
  assert.equal(kernel.config.startTimeoutMs, 4321);
  assert.deepEqual(kernel.plugins.map((p) => [p.name, p.source]), [
    ['inline', 'inline'],
    ['fixture-good', '../plugins/good.ts'],
  ]);
  await kernel.start();
  assert.equal(kernel.resolve('inline'), 'from a ts config');
  assert.deepEqual(kernel.resolve('fixture-good'), { greeting: 'hello', count: 7 });
  await kernel.stop();
});

test('loadConfig accepts a module exporting a function that returns the config', async () => {
  const config = await loadConfig(path.join(CONFIGS, 'function.config.ts'), {});
  assert.equal(config.name, 'from-a-function');
});

test('loadConfig reports a missing file, invalid JSON and a non-object config', async () => {
  await assert.rejects(loadConfig(path.join(CONFIGS, 'nope.json'), {}), (e: ConfigError) => e.code === 'CONFIG_FILE_NOT_FOUND' && e.message.includes('nope.json'));
  await assert.rejects(loadConfig(path.join(CONFIGS, 'nope.config.ts'), {}), (e: ConfigError) => e.code === 'CONFIG_FILE_NOT_FOUND');
  await assert.rejects(loadConfig(path.join(CONFIGS, 'broken.json'), {}), (e: ConfigError) => e.code === 'CONFIG_PARSE_FAILED' && /not valid JSON/.test(e.message));
  await assert.rejects(loadConfig(path.join(CONFIGS, 'not-object.json'), {}), (e: ConfigError) => e.code === 'CONFIG_INVALID' && /must hold an object/.test(e.message));
});

test('a JSON config in another folder resolves its relative plugin paths there, not in cwd', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'mister-smith.config.json'), {
    plugins: [{ use: path.relative(dir, path.join(FIXTURES, 'plugins', 'good.ts')).split(path.sep).join('/').replace(/^(?!\.)/, './') }],
  });
  const kernel = await createKernel({ config: await loadConfig(file, {}), logger: silent() });
  assert.deepEqual(kernel.plugins.map((p) => p.name), ['fixture-good']);
  const bad = await writeJson(path.join(dir, 'bad.json'), { plugins: ['./plugins/good.ts'] });
  await assert.rejects(createKernel({ config: await loadConfig(bad, {}), logger: silent() }), (e: ConfigError) => {
    assert.equal(e.problems.length, 1);
    assert.match(e.problems[0]!, /^plugins\[0\]\.use: plugin file '\.\/plugins\/good\.ts' not found/);
    assert.ok(e.problems[0]!.includes(path.join(dir, 'plugins', 'good.ts')), 'names where it looked');
    return true;
  });
});

test('a config error names the config file it came from', async (t) => {
  const dir = await tempDir(t);
  const file = await writeJson(path.join(dir, 'c.json'), { bogus: true });
  await assert.rejects(createKernel({ config: await loadConfig(file, {}), logger: silent() }), (e: ConfigError) => e.message.includes(file));
});

test('a config nested deeper than 100 levels is a config error naming where, from a file or an object', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'deep.json');
  await writeFile(file, `{"name":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
  await assert.rejects(loadConfig(file, {}), (e: unknown) => e instanceof ConfigError && /name\[0\]\[0\].*… \(100 levels down\): nested deeper than 100 levels/.test(e.message));
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 10_000; i++) deep = (deep.a = {}) as Record<string, unknown>;
  await assert.rejects(createKernel({ config: { plugins: [{ use: 'routing', options: root }] } as never, logger: silent() }), (e: unknown) =>
    e instanceof ConfigError && /plugins\[0\]\.options\.a\.a\.a… \(100 levels down\)/.test(e.message),
  );
  // 100 levels is fine; shared references are no problem.
  const shared = { x: 1 };
  const ok = await createKernel({ config: { name: 'ok', plugins: [], $schema: 'x', log: { level: 'info', pretty: false } } as never, logger: silent() });
  assert.equal(ok.config.name, 'ok');
  const { tooDeep } = await import('../../kernel/configDepth.js');
  assert.equal(tooDeep({ a: shared, b: shared, c: [shared, shared] }), undefined);
});
