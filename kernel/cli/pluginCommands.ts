/**
 * Commands that plugins add to `mister-smith` (`definePlugin({ commands })`): finding them among the
 * plugins of the config, and the context their `run` gets, including `startKernel`.
 */
import { parseArgs } from 'node:util';
import {
  ConfigError,
  KernelError,
  type CommandConfig,
  type CommandKernel,
  type PluginCommand,
  type PluginCommandContext,
  type StartKernelOptions,
} from '../../sdk/index.js';
import { createKernel } from '../createKernel.js';
import { createLogger } from '../createLogger.js';
import type { Kernel } from '../Kernel.js';
import type { ResolvedPlugin } from '../loader.js';
import { envOverridesOf, pluginKey, withEnvOverrides } from '../envOverrides.js';
import { deepMerge, isPlainObject } from '../merge.js';
import { EXIT, printError, type Io } from './io.js';
import type { ProcessGuard } from './ProcessGuard.js';
import { withoutPath, type LoadedSystem } from './readConfig.js';
import { KernelErrorCodes } from '../errors.js';

/** A command and the plugin that contributes it. */
export interface FoundCommand {
  readonly name: string;
  readonly plugin: ResolvedPlugin;
  readonly command: PluginCommand;
}

/** Every plugin command of a set of plugins, by command name (several when two plugins clash). */
export function pluginCommands(plugins: readonly ResolvedPlugin[]): Map<string, FoundCommand[]> {
  const found = new Map<string, FoundCommand[]>();
  for (const plugin of plugins) {
    for (const [name, command] of Object.entries(plugin.definition.commands ?? {})) {
      const list = found.get(name) ?? [];
      list.push({ name, plugin, command: command as PluginCommand });
      found.set(name, list);
    }
  }
  return found;
}

/**
 * Problems with plugin commands: two plugins adding one command, or a plugin command that a
 * built-in command hides.
 */
export function commandProblems(plugins: readonly ResolvedPlugin[], builtins: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [name, list] of pluginCommands(plugins)) {
    if (builtins.includes(name)) {
      problems.push(`plugin '${list[0]!.plugin.name}' adds command '${name}', which a built-in command of the same name hides`);
    }
    if (list.length > 1) {
      problems.push(`command '${name}' is added by ${list.length} plugins (${list.map((c) => `'${c.plugin.name}'`).join(', ')}); only one may add it`);
    }
  }
  return problems;
}

/** `--config <file>` (or `--config=<file>`) before any `--`, and the arguments without it. */
export function extractConfigFlag(argv: readonly string[]): { config: string | undefined; rest: string[] } {
  const { tokens } = parseArgs({ args: [...argv], options: { config: { type: 'string' } }, strict: false, allowPositionals: true, tokens: true });
  const drop = new Set<number>();
  let config: string | undefined;
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name !== 'config') continue;
    if (typeof token.value === 'string') config = token.value;
    drop.add(token.index);
    // `--config file` takes two arguments, `--config=file` one.
    if (!token.inlineValue && token.value !== undefined) drop.add(token.index + 1);
  }
  return { config, rest: argv.filter((_, i) => !drop.has(i)) };
}

/** The loaded config as a command sees it. */
export function commandConfig(system: LoadedSystem): CommandConfig {
  return Object.freeze({
    name: system.config.name,
    configPath: system.configPath,
    log: system.config.log,
    shutdownTimeoutMs: system.config.shutdownTimeoutMs,
    startTimeoutMs: system.config.startTimeoutMs,
    plugins: Object.freeze(
      system.plugins.map((p) =>
        Object.freeze({ name: p.name, version: p.definition.version, source: p.source, options: p.options, optional: p.optional }),
      ),
    ),
  });
}

/**
 * The raw config of a kernel made of some of the system's plugins: those named in `only` and,
 * transitively, the loaded plugins they depend on (required or optional), with `options` merged
 * over their options as written.
 */
export function partialConfig(system: LoadedSystem, opts: StartKernelOptions): Record<string, unknown> {
  const byName = new Map(system.plugins.map((p) => [p.name, p]));
  const known = (): string => [...byName.keys()].join(', ') || 'none';
  let selected: Set<string>;
  if (opts.only === undefined) {
    selected = new Set(byName.keys());
  } else {
    selected = new Set();
    const visit = (name: string, by: string | undefined): void => {
      const plugin = byName.get(name);
      if (plugin === undefined) {
        if (by !== undefined) return; // an optional dependency that is not loaded
        throw new ConfigError(KernelErrorCodes.CONFIG_INVALID, `startKernel({ only }): no plugin named '${name}' in ${system.configPath} (loaded: ${known()})`);
      }
      if (selected.has(name)) return;
      selected.add(name);
      for (const dep of [...(plugin.definition.dependsOn ?? []), ...(plugin.definition.optionalDependsOn ?? [])]) visit(dep, name);
    };
    for (const name of opts.only) visit(name, undefined);
  }
  for (const name of Object.keys(opts.options ?? {})) {
    if (!selected.has(name)) {
      throw new ConfigError(KernelErrorCodes.CONFIG_INVALID, `startKernel({ options }): '${name}' is not among the plugins started (${[...selected].join(', ') || 'none'})`);
    }
  }
  const entries = (system.raw.plugins ?? []) as unknown[];
  const plugins = system.plugins
    .filter((p) => selected.has(p.name))
    .sort((a, b) => a.configIndex - b.configIndex)
    .map((p) => {
      const raw = entries[p.configIndex];
      const entry: Record<string, unknown> = isPlainObject(raw) ? { ...raw } : { use: raw };
      const override = opts.options?.[p.name];
      if (override !== undefined) entry.options = deepMerge(isPlainObject(entry.options) ? entry.options : {}, override);
      return entry;
    });
  // Overrides for plugins left out have nothing to change here (and would be "matches nothing").
  const keys = new Set([...selected].map(pluginKey));
  const overrides = envOverridesOf(system.raw).filter((o) => o.plugin === undefined || keys.has(pluginKey(o.plugin)));
  return withEnvOverrides({ ...withoutPath(system.raw), plugins }, overrides);
}

/** Runs a plugin command; resolves to its exit code. Kernels it started and left running are stopped. */
export async function runPluginCommand(found: FoundCommand, system: LoadedSystem, argv: readonly string[], io: Io, guard: ProcessGuard): Promise<number> {
  const kernels: Kernel[] = [];
  const ctx: PluginCommandContext = {
    argv: Object.freeze([...argv]),
    options: found.plugin.options,
    configDir: system.configDir,
    config: commandConfig(system),
    stdout: io.stdout,
    stderr: io.stderr,
    signal: guard.signal,
    async startKernel(opts: StartKernelOptions = {}): Promise<CommandKernel> {
      if (guard.signal.aborted) throw new KernelError(KernelErrorCodes.KERNEL_STOPPING, 'startKernel: the command was interrupted by a signal');
      const raw = partialConfig(system, opts);
      const logTo = opts.logTo ?? 'stderr';
      const logger = createLogger({
        level: logTo === 'silent' ? 'silent' : system.config.log.level,
        pretty: system.config.log.pretty,
        name: system.config.name,
        destination: logTo === 'stdout' ? 1 : 2,
      });
      const kernel = await createKernel({ config: raw as never, configDir: system.configDir, logger });
      kernels.push(kernel);
      guard.attach(kernel);
      await kernel.start();
      return kernel;
    },
  };
  let code: number;
  try {
    code = await found.command.run(ctx);
    if (!Number.isInteger(code)) {
      throw new KernelError(KernelErrorCodes.KERNEL_COMMAND_FAILED, `command '${found.name}' of plugin '${found.plugin.name}' resolved to ${String(code)}, not an exit code`);
    }
  } catch (error) {
    printError(io, error);
    code = error instanceof ConfigError ? EXIT.usage : EXIT.failure;
  }
  for (const kernel of kernels) {
    const report = await kernel.stop(`command '${found.name}' finished`);
    if (report.errors.length > 0 && code === EXIT.ok) code = EXIT.failure;
    guard.detach(kernel);
  }
  return guard.exitRequested ?? code;
}
