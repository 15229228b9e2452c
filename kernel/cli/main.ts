/**
 * The `mister-smith` command: start, check, plugins. Exit codes: 0 clean stop, 1 failure,
 * 2 bad usage or bad config. This file is the only place in the framework that prints with console.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, KernelError, MisterSmithError } from '../../sdk/index.js';
import { loadConfig, type LoadedConfig } from '../config.js';
import { createKernel } from '../createKernel.js';
import type { Kernel } from '../Kernel.js';
import { builtinPluginNames, loadPlugins } from '../loader.js';
import { KERNEL_VERSION } from '../../sdk/index.js';

const USAGE = `Usage: mister-smith <command> [config] [options]

Commands:
  start [config] [--once]   start the system; --once: stop when all tracked work has settled
  check [config]            validate the config and print the plugin load order
  plugins [config]          list plugins (of the config, or all built-ins) with their options schema

[config] defaults to mister-smith.config.{json,ts,js,mjs} in the working directory.
Options: --help, --version`;

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

interface Args {
  readonly command: string | undefined;
  readonly config: string | undefined;
  readonly once: boolean;
  readonly help: boolean;
  readonly version: boolean;
  readonly unknown: readonly string[];
}

function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const unknown: string[] = [];
  let once = false;
  let help = false;
  let version = false;
  for (const arg of argv) {
    if (arg === '--once') once = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--version' || arg === '-v') version = true;
    else if (arg.startsWith('-')) unknown.push(arg);
    else positional.push(arg);
  }
  if (positional.length > 2) unknown.push(...positional.slice(2));
  return { command: positional[0], config: positional[1], once, help, version, unknown };
}

const DEFAULT_CONFIG_NAMES = ['mister-smith.config.json', 'mister-smith.config.ts', 'mister-smith.config.js', 'mister-smith.config.mjs'];

function findConfig(given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  return DEFAULT_CONFIG_NAMES.map((n) => path.resolve(n)).find((p) => existsSync(p));
}

function printError(error: unknown): void {
  if (error instanceof MisterSmithError) {
    console.error(`error ${error.code}: ${error.message}`);
    let cause = error.cause;
    while (cause instanceof Error) {
      console.error(`  caused by: ${cause.message}`);
      cause = cause.cause;
    }
  } else {
    console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

async function readConfig(file: string | undefined): Promise<LoadedConfig> {
  const configPath = findConfig(file);
  if (configPath === undefined) {
    throw new ConfigError('CONFIG_FILE_NOT_FOUND', `no config file given and none of ${DEFAULT_CONFIG_NAMES.join(', ')} in ${process.cwd()}`);
  }
  return loadConfig(configPath);
}

async function check(file: string | undefined): Promise<number> {
  let config: LoadedConfig;
  try {
    config = await readConfig(file);
  } catch (error) {
    printError(error);
    return EXIT.failure;
  }
  const { plugins, problems } = await loadPlugins(stripPath(config), path.dirname(config.configPath!));
  if (problems.length > 0) {
    console.error(`${config.configPath}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    for (const p of problems) console.error(`  - ${p}`);
    return EXIT.failure;
  }
  console.log(`${config.configPath}: ok`);
  console.log('load order:');
  plugins.forEach((p, i) => {
    const deps = p.definition.dependsOn?.length ? ` (depends on ${p.definition.dependsOn.join(', ')})` : '';
    console.log(`  ${i + 1}. ${p.name}@${p.definition.version}${deps}${p.optional ? ' [optional]' : ''}`);
  });
  return EXIT.ok;
}

function stripPath(config: LoadedConfig): Omit<LoadedConfig, 'configPath'> {
  const { configPath: _omit, ...rest } = config;
  return rest;
}

async function listPlugins(file: string | undefined): Promise<number> {
  let raw: unknown;
  let dir = process.cwd();
  if (findConfig(file) !== undefined) {
    try {
      const config = await readConfig(file);
      raw = stripPath(config);
      dir = path.dirname(config.configPath!);
    } catch (error) {
      printError(error);
      return EXIT.failure;
    }
  } else {
    raw = { plugins: builtinPluginNames() };
  }
  const { plugins, problems } = await loadPlugins(raw, dir);
  for (const p of problems) console.error(`  - ${p}`);
  const out = plugins.map((p) => ({
    name: p.name,
    version: p.definition.version,
    description: p.definition.description,
    dependsOn: p.definition.dependsOn ?? [],
    optionalDependsOn: p.definition.optionalDependsOn ?? [],
    // DESIGN §2 lists "dependencies": the required ones (the same as `dependsOn`).
    dependencies: p.definition.dependsOn ?? [],
    options: p.definition.options ? z.toJSONSchema(p.definition.options, { io: 'input', unrepresentable: 'any' }) : {},
  }));
  console.log(JSON.stringify(out, null, 2));
  return problems.length > 0 ? EXIT.failure : EXIT.ok;
}

async function start(file: string | undefined, once: boolean): Promise<number> {
  let kernel: Kernel;
  try {
    kernel = await createKernel({ config: await readConfig(file) });
  } catch (error) {
    printError(error);
    return error instanceof ConfigError ? EXIT.usage : EXIT.failure;
  }

  // Keep the process alive while the kernel runs, even if no plugin holds a handle.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      kernel.logger.fatal({ signal }, 'second signal: forcing exit');
      kernel.logger.flush();
      process.exit(EXIT.failure);
    }
    kernel.logger.info({ signal }, 'signal received: stopping gracefully (send it again to force exit)');
    void kernel.stop(`signal ${signal}`);
  };
  const onRejection = (reason: unknown): void => {
    void kernel.reportFault({ error: reason, source: 'process', context: { event: 'unhandledRejection' } });
  };
  const onException = (error: Error): void => {
    void kernel.reportFault({ error, source: 'process', severity: 'critical', context: { event: 'uncaughtException' } });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const stopped = new Promise<void>((resolve) => kernel.hooks.stopped.tap('cli', () => resolve()));

  try {
    await kernel.start();
  } catch (error) {
    printError(error);
    cleanup();
    return EXIT.failure;
  }

  let code: number = EXIT.ok;
  if (once) {
    const failures = await Promise.race([kernel.settled(), stopped.then(() => 0)]);
    const report = await kernel.stop('all tracked work settled (--once)');
    if (failures > 0 || report.errors.length > 0) code = EXIT.failure;
  } else {
    await stopped;
    const report = await kernel.stop();
    if (report.errors.length > 0) code = EXIT.failure;
  }
  cleanup();
  return kernel.exitCode !== 0 ? kernel.exitCode : code;

  function cleanup(): void {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.version) {
    console.log(KERNEL_VERSION);
    return EXIT.ok;
  }
  if (args.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  if (args.unknown.length > 0 || args.command === undefined) {
    console.error(args.command === undefined ? 'error: no command given' : `error: unknown argument(s): ${args.unknown.join(' ')}`);
    console.error(USAGE);
    return EXIT.usage;
  }
  switch (args.command) {
    case 'start':
      return start(args.config, args.once);
    case 'check':
      return check(args.config);
    case 'plugins':
      return listPlugins(args.config);
    default:
      console.error(`error: unknown command '${args.command}'`);
      console.error(USAGE);
      return EXIT.usage;
  }
}

const invokedDirectly = process.argv[1] !== undefined && /kernel[\\/]cli[\\/]main\.[jt]s$/.test(process.argv[1]);
if (invokedDirectly || process.env.MISTER_SMITH_CLI === '1') {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // A plugin that leaked a handle must not keep a stopped system's process alive.
      setTimeout(() => process.exit(code), 2_000).unref();
    },
    (error: unknown) => {
      printError(error instanceof Error ? error : new KernelError('KERNEL_CLI_FAILED', String(error)));
      process.exitCode = EXIT.failure;
    },
  );
}
