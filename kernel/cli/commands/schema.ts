import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configJsonSchema, type SchemaPlugin } from '../../configSchema.js';
import { builtinPluginNames, loadPlugins } from '../../loader.js';
import { EXIT, printError, println } from '../io.js';
import { findConfig, loadSystem } from '../readConfig.js';
import type { CliCommand } from './CliCommand.js';
import { configArg } from './start.js';

/** `mister-smith schema [config] [--out file]`. */
export const schemaCommand: CliCommand = {
  name: 'schema',
  summary: 'write a JSON Schema of the config (kernel keys and every plugin\'s options) for editors',
  usage: 'schema [config] [--out <file>]',
  details: [
    'Covers every built-in plugin and, with a config, the plugins it loads. Point the config at it:',
    '  { "$schema": "./mister-smith.schema.json", … }',
    '--out <file>   write to a file (default: stdout)',
  ],
  options: { out: { type: 'string', short: 'o' } },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const plugins: SchemaPlugin[] = [];
    try {
      const file = configArg(values, positionals);
      if (findConfig(file) !== undefined) {
        const system = await loadSystem(file);
        for (const p of system.plugins) if (p.source !== 'inline') plugins.push({ use: p.source, definition: p.definition });
      }
      const builtins = await loadPlugins({ plugins: builtinPluginNames() }, process.cwd());
      for (const p of builtins.plugins) plugins.push({ use: p.source, definition: p.definition });
    } catch (error) {
      printError(io, error);
      return EXIT.usage;
    }
    const text = `${JSON.stringify(configJsonSchema(plugins), null, 2)}\n`;
    const out = values.out as string | undefined;
    if (out === undefined) io.stdout.write(text);
    else {
      await writeFile(path.resolve(out), text);
      println(io.stderr, `wrote ${path.resolve(out)}`);
    }
    return EXIT.ok;
  },
};
