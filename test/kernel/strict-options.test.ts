/** Unknown option keys are config errors in every plugin, nested too, with a "did you mean". */
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { didYouMean, editDistance } from '../../kernel/didYouMean.js';
import { builtinPluginNames, ConfigError, createKernel, definePlugin, loadConfig, loadPlugins, z, type Plugin } from '../../index.js';
import { silent } from './fixtures/util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function problemsOf(config: unknown): Promise<string[]> {
  try {
    await createKernel({ config: config as never, logger: silent() });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('expected the config to be rejected');
}

const withOptions = (options: z.ZodType): Plugin => definePlugin({ name: 'third', version: '1.0.0', options, setup() {} });

test('a mistyped key in a built-in security option is an error with a suggestion (the tools "dney" case)', async () => {
  const problems = await problemsOf({ plugins: [{ use: 'tools', options: { grants: { a: ['*'] }, dney: { a: ['echo'] } } }] });
  assert.deepEqual(problems, ['plugins[0].options.dney: unknown key (did you mean `deny`?)']);
});

test('nested unknown keys in built-in options are found at their full path', async () => {
  const problems = await problemsOf({ plugins: ['supervision', { use: 'actors', options: { mailbox: { capacty: 3 } } }] });
  assert.deepEqual(problems, ['plugins[1].options.mailbox.capacty: unknown key (did you mean `capacity`?)']);
});

test('third-party z.object schemas are strict by default, nested, inside arrays, records and unions', async () => {
  const schema = z.object({
    server: z.object({ port: z.number().default(1) }).default({ port: 1 }),
    routes: z.array(z.object({ path: z.string() })).default([]),
    byName: z.record(z.string(), z.object({ weight: z.number().optional() })).default({}),
    store: z.discriminatedUnion('type', [z.object({ type: z.literal('memory') }), z.object({ type: z.literal('file'), dir: z.string() })]).optional(),
  });
  const problems = await problemsOf({
    plugins: [
      {
        use: withOptions(schema),
        options: { server: { prot: 2 }, routes: [{ path: '/', methd: 'GET' }], byName: { a: { wieght: 1 } }, store: { type: 'file', dir: 'x', dri: 'y' }, extra: true },
      },
    ],
  });
  assert.deepEqual(problems.sort(), [
    'plugins[0].options.byName.a.wieght: unknown key (did you mean `weight`?)',
    'plugins[0].options.extra: unknown key',
    'plugins[0].options.routes[0].methd: unknown key',
    'plugins[0].options.server.prot: unknown key (did you mean `port`?)',
    'plugins[0].options.store.dri: unknown key',
  ]);
});

test('a schema that opts into other keys (looseObject, passthrough, catchall) keeps them', async () => {
  let seen: unknown;
  const plugin = definePlugin({
    name: 'loose',
    version: '1.0.0',
    options: z.object({ headers: z.looseObject({}), env: z.object({}).passthrough(), limits: z.object({}).catchall(z.number()) }),
    setup(ctx) {
      seen = ctx.options;
    },
  });
  const kernel = await createKernel({
    config: { plugins: [{ use: plugin, options: { headers: { 'x-a': '1' }, env: { HOME: '/' }, limits: { rps: 5 } } }] },
    logger: silent(),
  });
  await kernel.start();
  await kernel.stop();
  assert.deepEqual(seen, { headers: { 'x-a': '1' }, env: { HOME: '/' }, limits: { rps: 5 } });
  // A catchall still checks what it catches.
  const problems = await problemsOf({ plugins: [{ use: plugin, options: { headers: {}, env: {}, limits: { rps: 'x' } } }] });
  assert.match(problems[0]!, /^plugins\[0\]\.options\.limits\.rps: expected number/);
});

test('unknown keys and bad values are reported together', async () => {
  const problems = await problemsOf({ plugins: [{ use: withOptions(z.object({ count: z.number(), name: z.string().optional() })), options: { count: 'x', nmae: 'n' } }] });
  assert.deepEqual(problems.sort(), ['plugins[0].options.count: expected number, received string', 'plugins[0].options.nmae: unknown key (did you mean `name`?)']);
});

test('options given to a plugin that declares no options schema are an error', async () => {
  const problems = await problemsOf({ plugins: [{ use: definePlugin({ name: 'bare', version: '1.0.0', setup() {} }), options: { x: 1 } }] });
  assert.deepEqual(problems, ["plugins[0].options.x: unknown key (plugin 'bare' takes no options)"]);
});

test('the kernel keys and entry keys get suggestions too; $schema is allowed at the top', async () => {
  const problems = await problemsOf({ $schema: './schema.json', shutdownTimoutMs: 1, plugins: [{ use: 'routing', optoins: {} }] });
  assert.deepEqual(problems.sort(), [
    'plugins[0].optoins: unknown key (did you mean `options`?)',
    'shutdownTimoutMs: unknown key (did you mean `shutdownTimeoutMs`?)',
  ]);
});

test('every built-in plugin validates with its default options', async () => {
  const names = builtinPluginNames();
  assert.ok(names.length >= 15, names.join(', '));
  const { problems, plugins } = await loadPlugins({ plugins: names }, ROOT);
  assert.deepEqual(problems, []);
  assert.equal(plugins.length, names.length);
});

test('the quickstart and every example config validate', async () => {
  const examples = path.join(ROOT, 'examples');
  const configs = readdirSync(examples)
    .map((d) => path.join(examples, d, 'mister-smith.config.json'))
    .filter((f) => existsSync(f));
  assert.ok(configs.some((f) => f.includes('quickstart')), configs.join(', '));
  for (const file of configs) {
    const config = await loadConfig(file, {});
    const { configPath, ...raw } = config;
    const { problems } = await loadPlugins(raw, path.dirname(configPath!));
    assert.deepEqual(problems, [], file);
  }
});

test('did-you-mean: an adjacent swap is one edit; far-off keys get no suggestion', () => {
  assert.equal(editDistance('dney', 'deny'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(didYouMean('dney', ['grants', 'deny']), 'deny');
  assert.equal(didYouMean('colour', ['color', 'cooler']), 'color');
  assert.equal(didYouMean('extra', ['grants', 'deny']), undefined);
  assert.equal(didYouMean('ab', ['xy']), undefined);
});
