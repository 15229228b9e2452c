import pino from 'pino';
import { createKernel } from '../../createKernel.js';
import { setupProblems } from '../../setupProblems.js';
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
  details: [
    'Validates the config and every plugin\'s options, then runs each plugin\'s setup (registration',
    'only, nothing starts) to find a service resolved from a plugin that starts later (a forgotten',
    'dependsOn) and services provided twice. Exit 0 when ok, 2 on any problem.',
  ],
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
    const problems = [...commandProblems(system.plugins, BUILTIN_COMMAND_NAMES), ...(await dryRun(system))];
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
    for (const s of system.skipped) println(io.stdout, `  skipped: '${s.use}' (optional, not installed)`);
    return EXIT.ok;
  },
};

/** Problems only running the setups shows (see `setupProblems`). */
async function dryRun(system: LoadedSystem): Promise<string[]> {
  const kernel = await createKernel({ config: system.raw, logger: pino({ level: 'silent' }) });
  const { outcomes, providers } = await kernel.dryRunSetups();
  return setupProblems(outcomes, providers);
}
