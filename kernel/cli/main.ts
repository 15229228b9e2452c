/**
 * The `mister-smith` command. Exit codes: 0 clean stop, 1 failure, 2 bad usage or bad config.
 * This folder is the only place in the framework that prints directly.
 */
import { parseArgs } from 'node:util';
import { KERNEL_VERSION, KernelError, MisterSmithError } from '../../sdk/index.js';
import type { CliCommand } from './commands/CliCommand.js';
import { checkCommand } from './commands/check.js';
import { pluginsCommand } from './commands/plugins.js';
import { initCommand } from './commands/init.js';
import { schemaCommand } from './commands/schema.js';
import { startCommand } from './commands/start.js';
import { EXIT, printError, println, type Io } from './io.js';
import { extractConfigFlag, pluginCommands, runPluginCommand, type FoundCommand } from './pluginCommands.js';
import { ProcessGuard } from './ProcessGuard.js';
import { findConfig, loadSystem, type LoadedSystem } from './readConfig.js';
import { KernelErrorCodes } from '../errors.js';

export { EXIT } from './io.js';

const BUILTINS: readonly CliCommand[] = [startCommand, checkCommand, pluginsCommand, schemaCommand, initCommand];

const ENVIRONMENT = `Environment:
  MISTER_SMITH_LOG_LEVEL=<level>          log level: trace, debug, info, warn, error, fatal, silent
  MISTER_SMITH__<KEY>__<KEY>…=<value>     override a config key (\`__\` between path segments), e.g.
                                          MISTER_SMITH__SHUTDOWN_TIMEOUT_MS=5000
  MISTER_SMITH__PLUGINS__<NAME>__<KEY>…   override an option of the plugin named NAME (its \`name\`,
                                          else the plugin's own name; \`-\` written as \`_\`), e.g.
                                          MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY=10
  Values are parsed as JSON when they parse (10, true, ["a"]), else kept as strings. An override
  that matches no plugin is an error.`;

const EXIT_CODES = `Exit codes:
  0  clean stop
  1  failure (a plugin failed to start, failed work, a critical fault, a second signal)
  2  bad usage or bad config`;

/** The global help, with the plugin commands of `system` when a config was found. */
function globalHelp(plugin: ReadonlyMap<string, FoundCommand[]>): string {
  const rows = BUILTINS.map((c) => `  ${c.usage.padEnd(34)} ${c.summary}`);
  const pluginRows = [...plugin.values()].map(([c]) => `  ${c!.command.usage.padEnd(34)} ${c!.command.summary} [${c!.plugin.name}]`);
  return [
    `Usage: mister-smith <command> [arguments] [--config <file>]`,
    '',
    'Commands:',
    ...rows,
    `  ${'help [command]'.padEnd(34)} this help, or one command's`,
    ...(pluginRows.length > 0 ? ['', 'Commands of the config\'s plugins:', ...pluginRows] : []),
    '',
    '[config] and --config default to mister-smith.config.{json,ts,js,mjs} in the working directory.',
    `\`mister-smith <command> --help\` describes one command. Options: --help, --version.`,
    '',
    ENVIRONMENT,
    '',
    EXIT_CODES,
  ].join('\n');
}

function commandHelp(command: CliCommand): string {
  return [`Usage: mister-smith ${command.usage}`, '', command.summary, ...(command.details?.length ? ['', ...command.details] : []), '', 'Options: --config <file>, --help'].join('\n');
}

function pluginCommandHelp(found: FoundCommand): string {
  return [`Usage: mister-smith ${found.command.usage} [--config <file>]`, '', `${found.command.summary} (from plugin '${found.plugin.name}')`].join('\n');
}

/** The config's plugin commands, or none when there is no config or it does not load. */
async function quietPluginCommands(file: string | undefined): Promise<Map<string, FoundCommand[]>> {
  if (findConfig(file) === undefined) return new Map();
  try {
    return pluginCommands((await loadSystem(file)).plugins);
  } catch {
    return new Map();
  }
}

async function help(argv: readonly string[], io: Io): Promise<number> {
  const { config, rest } = extractConfigFlag(argv);
  const topic = rest[0];
  if (topic === undefined) {
    println(io.stdout, globalHelp(await quietPluginCommands(config)));
    return EXIT.ok;
  }
  const builtin = BUILTINS.find((c) => c.name === topic);
  if (builtin !== undefined) {
    println(io.stdout, commandHelp(builtin));
    return EXIT.ok;
  }
  const found = (await quietPluginCommands(config)).get(topic)?.[0];
  if (found !== undefined) {
    println(io.stdout, pluginCommandHelp(found));
    return EXIT.ok;
  }
  println(io.stderr, `error: unknown command '${topic}'`);
  return EXIT.usage;
}

async function runBuiltin(command: CliCommand, argv: readonly string[], io: Io, guard: ProcessGuard): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    println(io.stderr, `error: ${(error as Error).message}`);
    println(io.stderr, commandHelp(command));
    return EXIT.usage;
  }
  if (parsed.values.help === true) {
    println(io.stdout, commandHelp(command));
    return EXIT.ok;
  }
  if (parsed.positionals.length > command.maxPositionals) {
    println(io.stderr, `error: unexpected argument(s): ${parsed.positionals.slice(command.maxPositionals).join(' ')}`);
    println(io.stderr, commandHelp(command));
    return EXIT.usage;
  }
  return command.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals }, io, guard);
}

async function runUnknown(name: string, argv: readonly string[], io: Io, guard: ProcessGuard): Promise<number> {
  const { config, rest } = extractConfigFlag(argv);
  const unknown = (): number => {
    println(io.stderr, `error: unknown command '${name}'`);
    println(io.stderr, 'Run `mister-smith help` for the commands (plugin commands are found in the config: --config <file>).');
    return EXIT.usage;
  };
  if (findConfig(config) === undefined) return unknown();
  let system: LoadedSystem;
  try {
    system = await loadSystem(config);
  } catch (error) {
    // A command may exist in a config that does not load; say why it could not be looked for.
    printError(io, error);
    println(io.stderr, `(looked for command '${name}' among the config's plugins)`);
    return EXIT.usage;
  }
  const found = pluginCommands(system.plugins).get(name);
  if (found === undefined) return unknown();
  if (found.length > 1) {
    println(io.stderr, `error: command '${name}' is added by several plugins (${found.map((f) => f.plugin.name).join(', ')}); only one may add it`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    println(io.stdout, pluginCommandHelp(found[0]!));
    return EXIT.ok;
  }
  return runPluginCommand(found[0]!, system, rest, io, guard);
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }, guard = new ProcessGuard(io)): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    println(io.stdout, KERNEL_VERSION);
    return EXIT.ok;
  }
  if (first === '--help' || first === '-h') return help([], io);
  if (first === 'help') return help(rest, io);
  if (first === undefined || first.startsWith('-')) {
    println(io.stderr, first === undefined ? 'error: no command given' : `error: unknown option '${first}'`);
    println(io.stderr, globalHelp(new Map()));
    return EXIT.usage;
  }
  guard.install();
  try {
    const builtin = BUILTINS.find((c) => c.name === first);
    return builtin !== undefined ? await runBuiltin(builtin, rest, io, guard) : await runUnknown(first, rest, io, guard);
  } finally {
    guard.dispose();
  }
}

const invokedDirectly = process.argv[1] !== undefined && /kernel[\\/]cli[\\/]main\.[jt]s$/.test(process.argv[1]);
if (invokedDirectly || process.env.MISTER_SMITH_CLI === '1') {
  const io: Io = { stdout: process.stdout, stderr: process.stderr };
  const guard = new ProcessGuard(io);
  main(process.argv.slice(2), io, guard).then(
    (code) => {
      process.exitCode = code;
      // A plugin that leaked a handle must not keep a stopped system's process alive.
      setTimeout(() => guard.exitNow(code), 2_000).unref();
    },
    (error: unknown) => {
      printError(io, error instanceof MisterSmithError ? error : new KernelError(KernelErrorCodes.KERNEL_CLI_FAILED, String(error), { cause: error }));
      process.exitCode = EXIT.failure;
    },
  );
}
