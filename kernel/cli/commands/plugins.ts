import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Plugin } from '../../../sdk/index.js';
import { builtinPluginNames, loadPlugins, type ResolvedPlugin } from '../../loader.js';
import { EXIT, printError, println, type Io } from '../io.js';
import { findConfig, loadSystem } from '../readConfig.js';
import type { CliCommand } from './CliCommand.js';
import { table } from './table.js';

/** `mister-smith plugins [name] [config] [--json]`. */
export const pluginsCommand: CliCommand = {
  name: 'plugins',
  summary: 'list the plugins of the config (or all built-ins) as a table; `plugins <name>` shows one with its options',
  usage: 'plugins [name] [config] [--json]',
  details: [
    '--json   print JSON: name, version, description, dependencies, commands and options as JSON Schema',
    'A positional that names a file (.json, .ts, .js, .mjs or an existing path) is the config.',
  ],
  options: { json: { type: 'boolean' } },
  maxPositionals: 2,
  async run({ values, positionals }, io) {
    const fileArgs = positionals.filter(isConfigPath);
    const names = positionals.filter((p) => !isConfigPath(p));
    const file = (values.config as string | undefined) ?? fileArgs[0];
    let plugins: readonly ResolvedPlugin[];
    try {
      if (findConfig(file) !== undefined) {
        plugins = (await loadSystem(file)).plugins;
      } else {
        const loaded = await loadPlugins({ plugins: builtinPluginNames() }, process.cwd());
        for (const p of loaded.problems) println(io.stderr, `  - ${p}`);
        plugins = loaded.plugins;
      }
    } catch (error) {
      printError(io, error);
      return EXIT.usage;
    }
    if (names.length > 0) {
      const plugin = plugins.find((p) => p.name === names[0]);
      if (plugin === undefined) {
        println(io.stderr, `error: no plugin named '${names[0]}' (plugins: ${plugins.map((p) => p.name).join(', ') || 'none'})`);
        return EXIT.usage;
      }
      if (values.json === true) println(io.stdout, JSON.stringify(describe(plugin), null, 2));
      else printOne(io, plugin);
      return EXIT.ok;
    }
    if (values.json === true) {
      println(io.stdout, JSON.stringify(plugins.map(describe), null, 2));
      return EXIT.ok;
    }
    println(
      io.stdout,
      table(
        ['NAME', 'VERSION', 'DEPENDS ON', 'DESCRIPTION'],
        plugins.map((p) => [p.name, p.definition.version, (p.definition.dependsOn ?? []).join(', ') || '-', p.definition.description ?? '']),
      ),
    );
    println(io.stdout, `\n${plugins.length} plugin(s). \`mister-smith plugins <name>\` shows one with its options; --json for JSON.`);
    return EXIT.ok;
  },
};

function isConfigPath(arg: string): boolean {
  return /\.(json|[cm]?[jt]s)$/.test(arg) || arg.includes('/') || arg.includes(path.sep) || existsSync(arg);
}

/** A plugin's options schema as JSON Schema (input side: what a config may write). */
export function optionsSchema(definition: Plugin): Record<string, unknown> {
  if (definition.options === undefined) return { type: 'object', additionalProperties: false };
  const { $schema: _omit, ...schema } = z.toJSONSchema(definition.options, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}

function describe(p: ResolvedPlugin): Record<string, unknown> {
  return {
    name: p.name,
    version: p.definition.version,
    description: p.definition.description,
    source: p.source,
    dependsOn: p.definition.dependsOn ?? [],
    optionalDependsOn: p.definition.optionalDependsOn ?? [],
    // The required dependencies (the same as `dependsOn`), under the name the CLI docs use.
    dependencies: p.definition.dependsOn ?? [],
    commands: Object.keys(p.definition.commands ?? {}),
    options: optionsSchema(p.definition),
  };
}

function printOne(io: Io, p: ResolvedPlugin): void {
  const d = p.definition;
  println(io.stdout, `${p.name}@${d.version}${d.description ? ` — ${d.description}` : ''}`);
  println(io.stdout, `  source:              ${p.source}`);
  println(io.stdout, `  depends on:          ${(d.dependsOn ?? []).join(', ') || '-'}`);
  println(io.stdout, `  optional depends on: ${(d.optionalDependsOn ?? []).join(', ') || '-'}`);
  if (d.kernel !== undefined) println(io.stdout, `  kernel:              ${d.kernel}`);
  const commands = Object.entries(d.commands ?? {});
  if (commands.length > 0) {
    println(io.stdout, '  commands:');
    for (const [name, c] of commands) println(io.stdout, `    ${name.padEnd(12)} ${c.summary}`);
  }
  const rows = optionRows(optionsSchema(d));
  println(io.stdout, rows.length === 0 ? '  options: none' : '\noptions:');
  if (rows.length > 0) println(io.stdout, table(['OPTION', 'TYPE', 'DEFAULT', 'DESCRIPTION'], rows));
}

type Schema = Record<string, unknown>;

/** One row per option, nested objects flattened to dotted paths. */
export function optionRows(schema: Schema, prefix = ''): string[][] {
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (properties === undefined) return [];
  return Object.entries(properties).flatMap(([key, sub]) => {
    const name = prefix + key;
    const row = [name, typeOf(sub), sub.default === undefined ? '' : JSON.stringify(sub.default), String(sub.description ?? '')];
    return [row, ...(sub.properties !== undefined ? optionRows(sub, `${name}.`) : [])];
  });
}

function typeOf(schema: Schema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (variants !== undefined) return variants.map(typeOf).join(' | ');
  if (schema.type === 'array') return `${typeOf((schema.items as Schema | undefined) ?? {})}[]`;
  if (schema.type === 'object' && schema.additionalProperties !== undefined && typeof schema.additionalProperties === 'object') {
    return `record<${typeOf(schema.additionalProperties as Schema)}>`;
  }
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  return typeof schema.type === 'string' ? schema.type : 'any';
}
