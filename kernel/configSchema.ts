/**
 * A JSON Schema of a whole config — the kernel's keys and, per plugin, its options — for editors
 * (`"$schema": "./mister-smith.schema.json"`). `mister-smith schema` writes it.
 */
import { z } from 'zod';
import type { Plugin } from '../sdk/index.js';
import { KernelConfigSchema } from './config.js';

type Schema = Record<string, unknown>;

/** A plugin as a config names it: its `use` string and its definition. */
export interface SchemaPlugin {
  readonly use: string;
  readonly definition: Plugin;
}

/** The options of one plugin as JSON Schema (what a config may write: the input side). */
export function pluginOptionsSchema(definition: Plugin): Schema {
  if (definition.options === undefined) return { type: 'object', additionalProperties: false };
  const { $schema: _omit, ...schema } = z.toJSONSchema(definition.options, { io: 'input', unrepresentable: 'any' }) as Schema;
  return closeObjects(schema);
}

/**
 * Objects the loader treats as strict (every object without an explicit catch-all) get
 * `additionalProperties: false`, so an editor flags the same unknown keys `check` does.
 */
function closeObjects(schema: Schema): Schema {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const out: Schema = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'default' || k === 'const' || k === 'enum' ? v : visit(v)]));
    if (out.type === 'object' && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
    return out;
  };
  return visit(schema) as Schema;
}

/** The JSON Schema of a config that may use `plugins` (and any other plugin, with untyped options). */
export function configJsonSchema(plugins: readonly SchemaPlugin[]): Schema {
  const kernel = z.toJSONSchema(KernelConfigSchema.omit({ plugins: true }), { io: 'input', unrepresentable: 'any' }) as Schema;
  const seen = new Set<string>();
  const known = plugins.filter((p) => !seen.has(p.use) && (seen.add(p.use), true));
  const entry: Schema = {
    type: 'object',
    required: ['use'],
    properties: {
      use: { type: 'string', minLength: 1, description: 'a built-in plugin, an npm package, or a path relative to the config file', examples: known.map((p) => p.use) },
      name: { type: 'string', minLength: 1, description: "overrides the plugin's own name (to load one plugin twice)" },
      options: { type: 'object' },
      enabled: { type: 'boolean', default: true },
      optional: { type: 'boolean', default: false, description: 'when true, failing to start (or not being installed) is reported and the kernel runs on' },
    },
    additionalProperties: false,
    allOf: known.map((p) => ({
      if: { properties: { use: { const: p.use } }, required: ['use'] },
      then: { properties: { options: { ...pluginOptionsSchema(p.definition), description: p.definition.description ?? `options of ${p.definition.name}` } } },
    })),
  };
  const properties = { ...(kernel.properties as Schema) };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Mister Smith config',
    ...kernel,
    properties: {
      ...properties,
      plugins: {
        type: 'array',
        description: 'the plugins to load: a name or path, or an entry with options',
        items: { anyOf: [{ type: 'string', minLength: 1, examples: known.map((p) => p.use) }, entry] },
      },
    },
    additionalProperties: false,
  };
}
