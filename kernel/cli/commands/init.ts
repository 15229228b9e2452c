import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configJsonSchema } from '../../configSchema.js';
import { builtinPluginNames, loadPlugins } from '../../loader.js';
import { EXIT, println, type Io } from '../io.js';
import {
  pluginNames,
  pluginPackageJson,
  pluginReadme,
  pluginSource,
  pluginTest,
  pluginTsconfig,
  systemConfig,
  systemPackageJson,
  systemPlugin,
  systemReadme,
} from '../templates.js';
import type { CliCommand } from './CliCommand.js';

/** npm's rules for a package name, as far as a new package needs them. */
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9-._~]*\/)?[a-z0-9][a-z0-9-._~]*$/;

/** `mister-smith init plugin <name> [--dir d]` and `mister-smith init system [--dir d]`. */
export const initCommand: CliCommand = {
  name: 'init',
  summary: 'create a plugin package (`init plugin <name>`) or a system with a sample plugin (`init system`)',
  usage: 'init plugin <package-name> | init system [--dir <folder>] [--force]',
  details: [
    'init plugin <name>   writes <name>/ (or --dir): package.json with exports, src/index.ts (definePlugin',
    '                     with options), test/plugin.test.ts (the mister-smith/testing kit), README.md,',
    '                     tsconfig.json. `npm install && npm test` passes out of the box.',
    'init system          writes mister-smith.config.json, plugins/hello.plugin.ts, its JSON Schema, a',
    '                     README and (when there is none) package.json into the working directory (or --dir).',
    '--force              overwrite files that exist (default: refuse)',
  ],
  options: { dir: { type: 'string' }, force: { type: 'boolean' } },
  maxPositionals: 2,
  async run({ values, positionals }, io) {
    const [what, name] = positionals;
    const force = values.force === true;
    if (what === 'plugin') {
      if (name === undefined || !PACKAGE_NAME.test(name)) {
        println(io.stderr, `error: init plugin needs a package name (lowercase letters, digits, - . _ ~; optionally @scope/): got ${name === undefined ? 'none' : `'${name}'`}`);
        return EXIT.usage;
      }
      const names = pluginNames(name);
      const dir = path.resolve((values.dir as string | undefined) ?? names.pkg.replace(/^@[^/]+\//, ''));
      return write(io, dir, force, {
        'package.json': pluginPackageJson(names),
        'tsconfig.json': pluginTsconfig(),
        'src/index.ts': pluginSource(names),
        'test/plugin.test.ts': pluginTest(names),
        'README.md': pluginReadme(names),
        '.gitignore': 'node_modules/\ndist/\n',
      }, [`cd ${path.relative(process.cwd(), dir) || '.'}`, 'npm install', 'npm test']);
    }
    if (what === 'system' && name === undefined) {
      const dir = path.resolve((values.dir as string | undefined) ?? '.');
      const builtins = await loadPlugins({ plugins: builtinPluginNames() }, dir);
      const schema = configJsonSchema(builtins.plugins.map((p) => ({ use: p.source, definition: p.definition })));
      // An existing package.json is the user's project: keep it (it needs "type": "module").
      const pkg: Record<string, string> = existsSync(path.join(dir, 'package.json')) ? {} : { 'package.json': systemPackageJson(path.basename(dir).toLowerCase().replace(/[^a-z0-9-._~]/g, '-') || 'my-system') };
      return write(io, dir, force, {
        ...pkg,
        'mister-smith.config.json': systemConfig(),
        'plugins/hello.plugin.ts': systemPlugin(),
        'mister-smith.schema.json': `${JSON.stringify(schema, null, 2)}\n`,
        'README.md': systemReadme(),
      }, ['npm install mister-smith tsx', 'npx mister-smith check', 'npx mister-smith start --once']);
    }
    println(io.stderr, `error: usage: mister-smith ${initCommand.usage}`);
    return EXIT.usage;
  },
};

async function write(io: Io, dir: string, force: boolean, files: Record<string, string>, next: readonly string[]): Promise<number> {
  const existing = Object.keys(files).filter((f) => existsSync(path.join(dir, f)));
  if (existing.length > 0 && !force) {
    println(io.stderr, `error: ${existing.map((f) => path.join(dir, f)).join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing written (--force overwrites)`);
    return EXIT.usage;
  }
  for (const [file, text] of Object.entries(files)) {
    const full = path.join(dir, file);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
    println(io.stdout, `created ${path.relative(process.cwd(), full) || full}`);
  }
  println(io.stdout, `\nnext:\n${next.map((l) => `  ${l}`).join('\n')}`);
  return EXIT.ok;
}
