import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Fault, FaultReport, KernelHooks, RecoveryDecision } from './hooks.js';
import type { Metrics } from './metrics.js';
import type { Services } from './index.js';

/** Undoes a registration. Calling it twice is harmless. */
export type Disposer = () => Promise<void>;

/** What may be provided under a name: the declared service type for a known name, anything else otherwise. */
export type ServiceValue<K extends string> = K extends keyof Services ? Services[K] : unknown;

/** Kernel states. */
export type KernelState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** A plugin lifecycle phase the kernel times. */
export type Phase = 'setup' | 'start' | 'stop';

/** One plugin's phase: when it began, how long it took and, if it failed, why. */
export interface PhaseRecord {
  readonly plugin: string;
  readonly phase: Phase;
  /** Wall-clock start, in ms since the epoch (sub-millisecond precision). */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly error?: string;
}

export interface ProvideOptions<T> {
  /** Runs when the service is disposed (kernel stop, or the disposer), in reverse order of `provide`. */
  readonly dispose?: (value: T) => void | Promise<void>;
}

/** When a lifecycle phase must be done. */
export interface PhaseDeadline {
  /** Epoch ms (`Date.now()` scale) at which the signal aborts and the kernel moves on. */
  readonly deadline: number;
}

/**
 * Lifecycle handler; the signal aborts at the handler's deadline. A handler that drains work can
 * read `deadline` to finish (or abort its own work) a little before the kernel gives up on it.
 */
export type LifecycleHandler = (signal: AbortSignal, phase: PhaseDeadline) => void | Promise<void>;

/**
 * The options a `PluginContext<O>` holds: `O` itself, or, when `O` is a zod schema, what it parses
 * to — so both `PluginContext<{ greeting: string }>` and `PluginContext<typeof options>`
 * (with `options` the plugin's schema) type `ctx.options`.
 */
export type ContextOptions<O> = [O] extends [z.ZodType] ? z.output<O> : O;

/** What a plugin's `setup` receives. Everything it registers through it is undone on stop. */
export interface PluginContext<O = unknown> {
  /** The plugin's name. */
  readonly name: string;
  /** The validated options, defaults applied. */
  readonly options: ContextOptions<O>;
  /** A pino child logger bound to `{ plugin: name }`. */
  readonly logger: Logger;
  /** The metrics facade (no-op until a backend plugin loads). */
  readonly metrics: Metrics;
  /** The kernel's lifecycle hooks. */
  readonly hooks: KernelHooks;
  /** Aborted when the kernel starts stopping: background work ends on it. */
  readonly signal: AbortSignal;
  /** The folder of the config file (or the working directory); relative paths in options resolve here. */
  readonly configDir: string;
  /** The kernel's current state. */
  readonly kernelState: () => KernelState;
  /** Boot and shutdown so far, as data (what `kernel.timeline()` returns); tracing plugins read it. */
  readonly timeline: () => readonly PhaseRecord[];

  /** Registers a service in the kernel's container. */
  provide<K extends string, T extends ServiceValue<K>>(name: K, value: T, options?: ProvideOptions<T>): Disposer;
  /** A service by name; throws a `KERNEL_SERVICE_NOT_FOUND` error naming what is registered. */
  resolve<K extends keyof Services>(name: K): Services[K];
  resolve<T>(name: string): T;
  /** A service by name, or undefined when no plugin provides it. */
  tryResolve<K extends keyof Services>(name: K): Services[K] | undefined;
  tryResolve<T>(name: string): T | undefined;

  /** Runs at start, after every plugin's setup, in plugin order, under `startTimeoutMs`. */
  onStart(handler: LifecycleHandler): void;
  /** Runs at stop, in reverse plugin order, under its share of `shutdownTimeoutMs`. */
  onStop(handler: LifecycleHandler): void;
  /**
   * Hands the kernel work the plugin runs on its own after start. A rejection is logged and
   * reported as a fault; `mister-smith start --once` waits for all tracked work, then stops.
   */
  track<T>(promise: Promise<T>, label?: string): Promise<T>;
  /** Reports a failure no caller is waiting for; see `Kernel.reportFault`. */
  reportFault(report: FaultReport | Error): Promise<RecoveryDecision | undefined>;
}

/** A plugin: a name, a version, options as a zod schema, and a `setup`. */
export interface PluginDefinition<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** Semver range of kernel versions this plugin works with (`^1.0.0`). */
  readonly kernel?: string;
  /** Plugins that must be loaded and started first. */
  readonly dependsOn?: readonly string[];
  /** Plugins started first when they are loaded. */
  readonly optionalDependsOn?: readonly string[];
  /** Options schema; its defaults fill what the config leaves out. */
  readonly options?: S;
  /**
   * CLI commands this plugin adds to `mister-smith` (`mister-smith <command> [--config f] …`), by
   * command name. The CLI finds them among the plugins of the config.
   */
  readonly commands?: Readonly<Record<string, PluginCommand<z.output<S>>>>;
  setup(ctx: PluginContext<z.output<S>>): void | Promise<void>;
}

/** A `mister-smith` subcommand contributed by a plugin. */
export interface PluginCommand<O = unknown> {
  /** One line for `mister-smith help`. */
  readonly summary: string;
  /** The arguments it takes, for `mister-smith <command> --help` (e.g. `runs show <runId>`). */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code (0 ok, 1 failure, 2 bad usage). */
  run(ctx: PluginCommandContext<O>): Promise<number>;
}

/** One plugin of the config, as a command sees it: validated options, in start order. */
export interface CommandConfigPlugin {
  readonly name: string;
  readonly version: string;
  /** A short name, a package name, a path, or `inline`. */
  readonly source: string;
  /** Its validated options, defaults applied. */
  readonly options: unknown;
  readonly optional: boolean;
}

/** The loaded, validated config a command runs under. */
export interface CommandConfig {
  readonly name: string;
  /** Absolute path of the config file. */
  readonly configPath: string;
  readonly log: { readonly level: string; readonly pretty?: boolean | undefined };
  readonly shutdownTimeoutMs: number;
  readonly startTimeoutMs: number;
  /** Every enabled plugin, in start order. */
  readonly plugins: readonly CommandConfigPlugin[];
}

/** What `PluginCommandContext.startKernel` accepts. */
export interface StartKernelOptions {
  /** Start only these plugins (by name); the plugins they depend on come along. Default: all. */
  readonly only?: readonly string[];
  /** Per plugin name, options deep-merged over that plugin's options from the config. */
  readonly options?: Readonly<Record<string, Record<string, unknown>>>;
  /** Where the kernel's logs go; default `stderr`, so a command's own output owns stdout. */
  readonly logTo?: 'stdout' | 'stderr' | 'silent';
}

/**
 * A started kernel as a command holds it (the `Kernel` class of `mister-smith` is one). The CLI
 * stops it after the command returns if the command did not.
 */
export interface CommandKernel {
  readonly state: KernelState;
  readonly logger: Logger;
  /** Aborted when the kernel starts stopping. */
  readonly signal: AbortSignal;
  resolve<K extends keyof Services>(name: K): Services[K];
  resolve<T>(name: string): T;
  tryResolve<K extends keyof Services>(name: K): Services[K] | undefined;
  tryResolve<T>(name: string): T | undefined;
  /** Waits until the work plugins handed to `ctx.track` has settled; resolves to how many rejected. */
  settled(options?: { readonly signal?: AbortSignal; readonly timeoutMs?: number }): Promise<number>;
  stop(reason?: string): Promise<{ readonly reason: string; readonly errors: readonly Error[] }>;
}

/** What a plugin command's `run` receives. */
export interface PluginCommandContext<O = unknown> {
  /** The arguments after the command name (`--config <file>` removed). */
  readonly argv: readonly string[];
  /** This plugin's validated options. */
  readonly options: O;
  /** The folder of the config file. */
  readonly configDir: string;
  /** The loaded, validated config. */
  readonly config: CommandConfig;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM (a second signal forces exit). */
  readonly signal: AbortSignal;
  /** Creates and starts a kernel from the config (or a part of it); see `StartKernelOptions`. */
  startKernel(options?: StartKernelOptions): Promise<CommandKernel>;
}

/** Brand that lets the loader tell a plugin definition from any other default export. */
export const PLUGIN_BRAND: unique symbol = Symbol.for('mister-smith.plugin');

/** A definition that went through `definePlugin`. */
export type Plugin<S extends z.ZodType = z.ZodType> = PluginDefinition<S> & { readonly [PLUGIN_BRAND]: true };

/** Declares a plugin. Type-checks the options against the schema and marks it for the loader. */
export function definePlugin<S extends z.ZodType = z.ZodObject<{}>>(definition: PluginDefinition<S>): Plugin<S> {
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true as const });
}

/** Whether a module's default export is a plugin definition. */
export function isPlugin(value: unknown): value is Plugin {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<PropertyKey, unknown>)[PLUGIN_BRAND] === true &&
    typeof (value as PluginDefinition).setup === 'function' &&
    typeof (value as PluginDefinition).name === 'string'
  );
}

export type { Fault, Logger };
