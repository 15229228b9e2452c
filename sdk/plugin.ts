import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Fault, FaultReport, KernelHooks, RecoveryDecision } from './hooks.js';
import type { Metrics } from './metrics.js';
import type { Services } from './index.js';

/** Undoes a registration. Calling it twice is harmless. */
export type Disposer = () => Promise<void>;

/** What may be provided under a name: the declared service type for a known name, anything else otherwise. */
export type ServiceValue<K extends string> = K extends keyof Services ? Services[K] : unknown;

/** Kernel states; see DESIGN §2. */
export type KernelState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

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
 * to — so both `PluginContext<{ greeting: string }>` and DESIGN §3's `PluginContext<typeof options>`
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
  setup(ctx: PluginContext<z.output<S>>): void | Promise<void>;
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
