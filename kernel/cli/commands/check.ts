import { EXIT, printError, println } from '../io.js';
import { commandProblems } from '../pluginCommands.js';
import { loadSystem, type LoadedSystem } from '../readConfig.js';
import type { CliCommand } from './CliCommand.js';
import { configArg } from './start.js';

/** Names of the built-in commands, which plugin commands may not reuse. */
export const BUILTIN_COMMAND_NAMES = ['start', 'check', 'plugins', 'schema', 'init', 'help'];

/** `mister-smith check [config]`. */
export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'validate the config without starting anything and print the plugin load order',
  usage: 'check [config]',
  options: {},
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    let system: LoadedSystem;
    try {
      system = await loadSystem(configArg(values, positionals));
    } catch (error) {
      printError(io, error);
      return EXIT.usage;
    }
    const problems = commandProblems(system.plugins, BUILTIN_COMMAND_NAMES);
    if (problems.length > 0) {
      println(io.stderr, `${system.configPath}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
      for (const p of problems) println(io.stderr, `  - ${p}`);
      return EXIT.usage;
    }
    println(io.stdout, `${system.configPath}: ok`);
    println(io.stdout, 'load order:');
    system.plugins.forEach((p, i) => {
      const deps = p.definition.dependsOn?.length ? ` (depends on ${p.definition.dependsOn.join(', ')})` : '';
      println(io.stdout, `  ${i + 1}. ${p.name}@${p.definition.version}${deps}${p.optional ? ' [optional]' : ''}`);
    });
    return EXIT.ok;
  },
};
