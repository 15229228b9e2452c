import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  builtinPluginNames,
  ConfigError,
  createKernel,
  definePlugin,
  KERNEL_VERSION,
  loadPlugins,
  orderPlugins,
  z,
  type Plugin,
} from '../../index.js';
import { FIXTURES, silent, tempDir } from './fixtures/util.js';

const PLUGINS = path.join(FIXTURES, 'plugins');

async function problemsOf(config: unknown, configDir = FIXTURES): Promise<string[]> {
  try {
    await createKernel({ config: config as never, configDir, logger: silent() });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('expected the config to be rejected');
}

const plain = (name: string, extra: Partial<Parameters<typeof definePlugin>[0]> = {}): Plugin =>
  definePlugin({ name, version: '1.0.0', setup() {}, ...extra });

test('an unknown plugin is reported with the list of built-in names', async () => {
  const problems = await problemsOf({ plugins: ['no-such-plugin'] });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^plugins\[0\]\.use: unknown plugin 'no-such-plugin'/);
  const builtins = builtinPluginNames();
  assert.ok(problems[0]!.includes(`(${builtins.join(', ')})`), problems[0]);
});

test('builtinPluginNames lists plugin folders with an index module, sorted', () => {
  const names = builtinPluginNames();
  assert.deepEqual(names, [...names].sort());
  for (const name of names) assert.match(name, /^[a-z][a-z0-9-]*$/);
});

test('a bad option type is reported with its full path', async () => {
  const typed = plain('typed', { options: z.object({ x: z.number(), nested: z.object({ y: z.boolean().default(true) }).default({ y: true }) }) });
  const problems = await problemsOf({ plugins: [plain('first'), { use: typed, options: { x: 'ten', nested: { y: 'yes' } } }] });
  assert.deepEqual(problems.length, 2);
  assert.match(problems[0]!, /^plugins\[1\]\.options\.x: .*expected number/);
  assert.match(problems[1]!, /^plugins\[1\]\.options\.nested\.y: .*expected boolean/);
});

test('options are validated with defaults applied', async () => {
  let seen: unknown;
  const p = plain('opts', {
    options: z.object({ a: z.number().default(3), b: z.string().default('x') }),
    setup(ctx: { options: unknown }) {
      seen = ctx.options;
    },
  } as never);
  const kernel = await createKernel({ config: { plugins: [{ use: p, options: { b: 'y' } }] }, logger: silent() });
  await kernel.start();
  assert.deepEqual(seen, { a: 3, b: 'y' });
  await kernel.stop();
});

test('a missing dependency names who needs it and what is loaded', async () => {
  const problems = await problemsOf({ plugins: [plain('a'), plain('b', { dependsOn: ['a', 'missing'] })] });
  assert.deepEqual(problems, ["plugins[1]: plugin 'b' depends on 'missing', which is not loaded (loaded: a, b)"]);
});

test('a dependency that is disabled counts as missing', async () => {
  const problems = await problemsOf({ plugins: [{ use: plain('a'), enabled: false }, plain('b', { dependsOn: ['a'] })] });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /plugin 'b' depends on 'a', which is not loaded/);
});

test('a cycle is printed as its path a → b → a', async () => {
  const problems = await problemsOf({ plugins: [plain('a', { dependsOn: ['b'] }), plain('b', { dependsOn: ['a'] }), plain('free')] });
  assert.deepEqual(problems, ['plugins: dependency cycle a → b → a']);
  const three = await problemsOf({ plugins: [plain('x', { dependsOn: ['z'] }), plain('y', { dependsOn: ['x'] }), plain('z', { dependsOn: ['y'] })] });
  assert.deepEqual(three, ['plugins: dependency cycle x → z → y → x']);
});

test('optional dependencies order plugins but never form an error cycle', async () => {
  const events = plain('events', { optionalDependsOn: ['health'] });
  const health = plain('health', { optionalDependsOn: ['events'] });
  const kernel = await createKernel({ config: { plugins: [plain('app', { dependsOn: ['events'] }), health, events] }, logger: silent() });
  // Neither can have both met: the first in config order whose required ones are met goes first.
  assert.deepEqual(kernel.plugins.map((p) => p.name), ['health', 'events', 'app']);
  // A required edge inside a mixed loop still orders: x needs z, z optionally wants x.
  const mixed = await createKernel({ config: { plugins: [plain('x', { dependsOn: ['z'] }), plain('z', { optionalDependsOn: ['x'] })] }, logger: silent() });
  assert.deepEqual(mixed.plugins.map((p) => p.name), ['z', 'x']);
});

test('a plugin optionally depending on one side of an optional cycle starts after the whole cycle, whatever the config order', async () => {
  // supervision optionally wants events and health, which optionally want each other: written
  // first, it used to start first (the cycle was broken at it) and so never saw the events bus.
  const supervision = plain('supervision', { optionalDependsOn: ['events', 'health'] });
  const events = plain('events', { optionalDependsOn: ['health'] });
  const health = plain('health', { optionalDependsOn: ['events'] });
  const free = plain('free');
  const orders = [
    [supervision, events, health, free],
    [supervision, health, events, free],
    [free, events, supervision, health],
    [health, supervision, free, events],
  ];
  for (const plugins of orders) {
    const kernel = await createKernel({ config: { plugins }, logger: silent() });
    const names = kernel.plugins.map((p) => p.name);
    const at = (name: string): number => names.indexOf(name);
    assert.ok(at('supervision') > at('events') && at('supervision') > at('health'), names.join(', '));
    // Inside the cycle config order decides; a free plugin keeps its place relative to the others' groups.
    assert.equal(at('events') < at('health'), plugins.indexOf(events) < plugins.indexOf(health), names.join(', '));
  }
  // A required edge into the cycle is kept, and one out of it too: app needs health, events needs db.
  const app = plain('app', { dependsOn: ['health'] });
  const db = plain('db');
  const withEvents = plain('events', { dependsOn: ['db'], optionalDependsOn: ['health'] });
  const kernel = await createKernel({ config: { plugins: [app, withEvents, health, db] }, logger: silent() });
  assert.deepEqual(kernel.plugins.map((p) => p.name), ['db', 'events', 'health', 'app']);
});

test('ordering stays config order among independent plugins and dependencies first, at scale', () => {
  const n = 2000;
  // A chain written backwards (each needs the next), interleaved with free plugins.
  const plugins = Array.from({ length: n }, (_, i) => ({
    name: `p${i}`,
    definition: plain(`p${i}`, i % 2 === 0 && i + 2 < n ? { dependsOn: [`p${i + 2}`] } : {}),
    options: {},
    optional: false,
    source: 'inline',
    configIndex: i,
  }));
  const { ordered, cycle } = orderPlugins(plugins);
  assert.equal(cycle, undefined);
  assert.equal(ordered.length, n);
  const position = new Map(ordered.map((p, i) => [p.name, i]));
  for (const p of plugins) for (const d of p.definition.dependsOn ?? []) assert.ok(position.get(d)! < position.get(p.name)!);
  const free = ordered.filter((p) => Number(p.name.slice(1)) % 2 === 1).map((p) => p.name);
  assert.deepEqual(free, plugins.filter((_, i) => i % 2 === 1).map((p) => p.name));
});

test('a plugin depending on itself is a cycle, not a missing dependency', async () => {
  const problems = await problemsOf({ plugins: [plain('self', { dependsOn: ['self'] })] });
  assert.deepEqual(problems, ['plugins: dependency cycle self → self']);
});

test('two plugins with one name is an error; `name` loads one plugin twice', async () => {
  const p = plain('twin');
  const problems = await problemsOf({ plugins: [p, plain('other'), p] });
  assert.deepEqual(problems, ["plugins[2]: two plugins named 'twin' (plugins[0] and plugins[2]); give one a different `name`"]);
  const kernel = await createKernel({ config: { plugins: [p, { use: p, name: 'twin-2' }] }, logger: silent() });
  assert.deepEqual(kernel.plugins.map((x) => x.name), ['twin', 'twin-2']);
});

test('a module that does not default-export a plugin definition is reported', async () => {
  const problems = await problemsOf({ plugins: ['./plugins/not-a-plugin.ts', './plugins/no-default.ts'] });
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /^plugins\[0\]\.use: module '\.\/plugins\/not-a-plugin\.ts' does not default-export a plugin definition/);
  assert.match(problems[1]!, /^plugins\[1\]\.use: module '\.\/plugins\/no-default\.ts' does not default-export a plugin definition/);
});

test('a module that throws while importing is reported with its error', async () => {
  const problems = await problemsOf({ plugins: ['./plugins/throws-on-import.ts'] });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^plugins\[0\]\.use: cannot import plugin '\.\/plugins\/throws-on-import\.ts': module body exploded/);
});

test('a bad entry shape is reported at its index', async () => {
  const problems = await problemsOf({ plugins: [42, { use: '' }, { use: './plugins/good.ts', enabled: 'no' }, { use: './plugins/good.ts', bogus: 1 }] });
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0]!, /^plugins\[0\]/);
  assert.match(problems[1]!, /^plugins\[1\]\.use: /);
  assert.match(problems[2]!, /^plugins\[2\]\.enabled: /);
  assert.match(problems[3]!, /^plugins\[3\]\.bogus: unknown key/);
});

test('a kernel version mismatch names both versions', async () => {
  assert.match(KERNEL_VERSION, /^\d+\.\d+\.\d+/);
  const problems = await problemsOf({ plugins: [plain('future', { kernel: '^99.0.0' })] });
  assert.deepEqual(problems, [`plugins[0]: plugin 'future' supports kernel ^99.0.0, but this kernel is ${KERNEL_VERSION}`]);
  const ok = await createKernel({ config: { plugins: [plain('now', { kernel: `^${KERNEL_VERSION.split('.')[0]}.0.0` })] }, logger: silent() });
  assert.equal(ok.plugins.length, 1);
});

test('every problem is reported at once, before any plugin code runs', async () => {
  let setupRan = false;
  const spy = plain('spy', {
    setup() {
      setupRan = true;
    },
  });
  const problems = await problemsOf({
    extra: true,
    plugins: [
      spy,
      'no-such-plugin',
      './plugins/not-a-plugin.ts',
      { use: plain('typed', { options: z.object({ n: z.number() }) }), options: { n: 'x' } },
      plain('needy', { dependsOn: ['ghost'] }),
      plain('a', { dependsOn: ['b'] }),
      plain('b', { dependsOn: ['a'] }),
      spy,
      plain('old', { kernel: '<0.1.0' }),
    ],
  });
  assert.equal(setupRan, false);
  const expected = [/^extra: unknown key$/, /^plugins\[1\]\.use: unknown plugin/, /^plugins\[2\]\.use: .*does not default-export/, /^plugins\[3\]\.options\.n: /, /^plugins\[4\]: plugin 'needy' depends on 'ghost'/, /dependency cycle a → b → a/, /^plugins\[7\]: two plugins named 'spy'/, /^plugins\[8\]: plugin 'old' supports kernel <0\.1\.0/];
  assert.equal(problems.length, expected.length, problems.join('\n'));
  for (const re of expected) assert.ok(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`);
});

test('loadPlugins returns problems instead of throwing and orders plugins', async () => {
  const result = await loadPlugins({ plugins: [plain('b', { dependsOn: ['a'] }), plain('a')] }, FIXTURES);
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.plugins.map((p) => p.name), ['a', 'b']);
  const { ordered, cycle } = orderPlugins(result.plugins);
  assert.equal(cycle, undefined);
  assert.deepEqual(ordered.map((p) => p.name), ['a', 'b']);
});

test('an npm package name resolves from the config folder (ESM-only exports map)', async (t) => {
  const dir = await tempDir(t);
  const pkg = path.join(dir, 'node_modules', '@acme', 'ms-plugin');
  await mkdir(path.join(pkg, 'dist'), { recursive: true });
  await writeFile(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: '@acme/ms-plugin', version: '2.0.0', type: 'module', exports: { '.': { import: './dist/index.js' } } }),
  );
  // Written without the SDK, as a third party could: the brand is a registered symbol.
  await writeFile(
    path.join(pkg, 'dist', 'index.js'),
    `export default Object.freeze({ [Symbol.for('mister-smith.plugin')]: true, name: 'acme', version: '2.0.0',
       setup(ctx) { ctx.provide('acme', 'from npm'); } });\n`,
  );
  const kernel = await createKernel({ config: { plugins: ['@acme/ms-plugin'] }, configDir: dir, logger: silent() });
  assert.deepEqual(kernel.plugins.map((p) => [p.name, p.version, p.source]), [['acme', '2.0.0', '@acme/ms-plugin']]);
  await kernel.start();
  assert.equal(kernel.resolve('acme'), 'from npm');
  await kernel.stop();
});

test('an installed package that is not a plugin is reported as such', async () => {
  const problems = await problemsOf({ plugins: ['pino'] }, process.cwd());
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^plugins\[0\]\.use: module 'pino' does not default-export a plugin definition/);
});

test('an absolute path and a file: URL both load a plugin', async () => {
  const file = path.join(PLUGINS, 'good.ts');
  const a = await createKernel({ config: { plugins: [file] }, logger: silent() });
  assert.deepEqual(a.plugins.map((p) => p.name), ['fixture-good']);
  const b = await createKernel({ config: { plugins: [`file://${file}`] }, logger: silent() });
  assert.deepEqual(b.plugins.map((p) => p.name), ['fixture-good']);
});

test('an optional plugin that is not installed is logged and the system runs without it', async () => {
  const { capturingLogger } = await import('./fixtures/util.js');
  const { logger, lines } = capturingLogger();
  const kernel = await createKernel({
    config: { plugins: [{ use: 'ms-plugin-not-installed', optional: true }, { use: './no-such-file.ts', optional: true }, plain('present')] },
    configDir: FIXTURES,
    logger,
  });
  assert.deepEqual(kernel.plugins.map((p) => p.name), ['present']);
  await kernel.start();
  await kernel.stop();
  const warnings = lines.filter((l) => l.level === 40).map((l) => String(l.msg));
  assert.deepEqual(warnings, [
    "optional plugin 'ms-plugin-not-installed' is not installed; running without it",
    "optional plugin './no-such-file.ts' is not installed; running without it",
  ]);
});

test('optional covers "not installed" only: a present module that fails to import is still an error', async () => {
  const problems = await problemsOf({ plugins: [{ use: path.join(PLUGINS, 'throws-on-import.ts'), optional: true }] });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /cannot import plugin/);
  // A required dependency on a skipped optional plugin is still missing.
  const missing = await problemsOf({ plugins: [{ use: 'ms-plugin-not-installed', optional: true }, plain('needs', { dependsOn: ['ms-plugin-not-installed'] })] });
  assert.match(missing[0]!, /plugin 'needs' depends on 'ms-plugin-not-installed', which is not loaded/);
});
