/**
 * `mister-smith/sdk`: the plugin contract — what plugin authors import to write a plugin
 * (`definePlugin`, `z`, the context and service types, errors, metric types). The kernel implements
 * it. Shared helpers (deadlines, backoff, signals) live in `mister-smith/sdk/util`; the testing kit in
 * `mister-smith/testing`.
 */
export { z } from 'zod';
export { definePlugin, isPlugin, PLUGIN_BRAND } from './plugin.js';
export type {
  CommandConfig,
  CommandConfigPlugin,
  CommandKernel,
  ContextOptions,
  Disposer,
  KernelState,
  LifecycleHandler,
  Phase,
  PhaseDeadline,
  PhaseRecord,
  Logger,
  Plugin,
  PluginCommand,
  PluginCommandContext,
  PluginContext,
  PluginDefinition,
  ProvideOptions,
  StartKernelOptions,
} from './plugin.js';
export type { Fault, FaultReport, KernelHooks, LoadedPlugin, RecoveryDecision, StopInfo } from './hooks.js';
export {
  ActorError,
  AgentError,
  CancelledError,
  classify,
  ConfigError,
  ERROR_KIND_DEFAULTS,
  EventError,
  KernelError,
  MisterSmithError,
  NetworkError,
  PersistenceError,
  ResilienceError,
  ResourceError,
  SdkErrorCodes,
  StreamError,
  SupervisionError,
  TaskError,
  TimeoutError,
  toError,
  ToolError,
} from './errors.js';
export type { Classification, ErrorKind, KindDefaults, MisterSmithErrorOptions, RecoveryAction, Severity } from './errors.js';
export { METRIC_PREFIX, prefixedMetricName } from './metrics.js';
export type {
  Counter,
  CounterDefinition,
  CounterSink,
  CounterSinkDefinition,
  Gauge,
  GaugeDefinition,
  GaugeSink,
  Histogram,
  HistogramDefinition,
  HistogramSink,
  Labels,
  LabelValue,
  MetricDefinition,
  Metrics,
  MetricsBackend,
  MetricType,
} from './metrics.js';
export { KERNEL_VERSION } from './version.js';
// Also brings every built-in plugin's `Services` entry into scope for whoever imports the SDK.
export type { BuiltinServices } from './services.js';
/** The shape of retry backoff options in plugin configurations (the helpers live in `mister-smith/sdk/util`). */
export type { BackoffOptions } from './util/async.js';

/**
 * The container's service map, filled by declaration merging: a plugin that provides a service adds
 * it here so that `ctx.resolve('name')` is typed for everyone who imports its types.
 *
 * ```ts
 * declare module 'mister-smith/sdk' {
 *   interface Services { greeter: Greeter }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Services {}
