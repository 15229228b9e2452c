/** The JSON Schema of a config (`mister-smith schema`), checked with a real JSON Schema validator. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { configJsonSchema } from '../../kernel/configSchema.js';
import { builtinPluginNames, definePlugin, loadPlugins, z } from '../../index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function validator(extra: Array<{ use: string; definition: ReturnType<typeof definePlugin> }> = []) {
  const { plugins } = await loadPlugins({ plugins: builtinPluginNames() }, ROOT);
  const schema = configJsonSchema([...plugins.map((p) => ({ use: p.source, definition: p.definition })), ...extra]);
  const ajv = new Ajv2020.default({ strict: false, logger: false });
  return ajv.compile(schema);
}

test('the quickstart config validates against the schema of all built-ins', async () => {
  const validate = await validator();
  const config = JSON.parse(await readFile(path.join(ROOT, 'examples/quickstart/mister-smith.config.json'), 'utf8')) as unknown;
  assert.equal(validate(config), true, JSON.stringify(validate.errors));
  assert.equal(validate({ $schema: './mister-smith.schema.json', name: 'x', plugins: ['actors'] }), true, JSON.stringify(validate.errors));
});

test('the schema rejects what check rejects: unknown kernel keys, unknown and mistyped plugin options', async () => {
  const validate = await validator();
  assert.equal(validate({ shutdownTimoutMs: 1 }), false);
  assert.equal(validate({ plugins: [{ use: 'tools', options: { grants: {}, dney: {} } }] }), false);
  assert.ok(validate.errors!.some((e) => e.params && (e.params as { additionalProperty?: string }).additionalProperty === 'dney'), JSON.stringify(validate.errors));
  assert.equal(validate({ plugins: [{ use: 'actors', options: { mailbox: { capacity: 'many' } } }] }), false);
  assert.equal(validate({ plugins: [{ use: 'actors', options: { mailbox: { capacty: 1 } } }] }), false);
  assert.equal(validate({ plugins: [{ use: 'actors', optoins: {} }] }), false);
  // A plugin the schema does not know keeps untyped options.
  assert.equal(validate({ plugins: [{ use: 'ms-third-party', options: { anything: 1 } }] }), true);
});

test("a config's own plugins get their options typed by their use string", async () => {
  const local = definePlugin({ name: 'local', version: '1.0.0', options: z.object({ size: z.number().default(1) }), setup() {} });
  const validate = await validator([{ use: './local.plugin.ts', definition: local }]);
  assert.equal(validate({ plugins: [{ use: './local.plugin.ts', options: { size: 2 } }] }), true);
  assert.equal(validate({ plugins: [{ use: './local.plugin.ts', options: { size: 'x' } }] }), false);
  assert.equal(validate({ plugins: [{ use: './local.plugin.ts', options: { sise: 2 } }] }), false);
});
