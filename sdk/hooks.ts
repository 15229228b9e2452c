import type { AsyncSeriesBailHook, AsyncSeriesHook, SyncHook } from 'tapable';
import type { Classification, ErrorKind, Severity } from './errors.js';
import type { MetricsBackend } from './metrics.js';

/** What `hooks.fault` taps may decide about a fault. */
export type RecoveryDecision = 'ignore' | 'retry' | 'restart' | 'escalate' | 'stop';

/** Something went wrong that no caller is waiting to hear about. */
export interface Fault {
  /** Who reports it: a plugin name, `supervisor:<id>`, `kernel`… */
  readonly source: string;
  readonly error: Error;
  readonly code: string;
  readonly kind: ErrorKind;
  readonly severity: Severity;
  readonly retryable: boolean;
  readonly message: string;
  readonly time: Date;
  readonly context: Readonly<Record<string, unknown>>;
}

/** What a reporter may say about a fault; everything else comes from `classify(error)`. */
export interface FaultReport {
  readonly error: unknown;
  readonly source?: string;
  readonly severity?: Severity;
  readonly kind?: ErrorKind;
  readonly context?: Readonly<Record<string, unknown>>;
}

/** A plugin as loaded, before any of its code ran. */
export interface LoadedPlugin {
  readonly name: string;
  readonly version: string;
  readonly dependsOn: readonly string[];
  readonly optionalDependsOn: readonly string[];
  /** Whether the config marked it `optional: true`. */
  readonly optional: boolean;
  /** Where it came from: a short name, a package name, a path, or `inline`. */
  readonly source: string;
}

/** Why the kernel is stopping. */
export interface StopInfo {
  readonly reason: string;
}

/**
 * The kernel's lifecycle as tapable hooks. Every tap needs a name; a tap that throws is reported
 * under that name and never leaves the kernel half-way through a transition.
 */
export interface KernelHooks {
  /** After every plugin's `setup` ran: the plugins in start order. */
  readonly loaded: SyncHook<[readonly LoadedPlugin[]]>;
  /** Before the first `onStart` handler; a throw fails the start. */
  readonly beforeStart: AsyncSeriesHook<[]>;
  /** After the last `onStart` handler; a throw fails (and rolls back) the start. */
  readonly started: AsyncSeriesHook<[]>;
  /** Before the first `onStop` handler; a throw is logged, the stop goes on. */
  readonly beforeStop: AsyncSeriesHook<[StopInfo]>;
  /** After everything stopped and the container was disposed; a throw is logged. */
  readonly stopped: AsyncSeriesHook<[StopInfo]>;
  /** Recovery policies; the first tap that returns a decision wins. */
  readonly fault: AsyncSeriesBailHook<[Fault], RecoveryDecision | undefined>;
  /** A backend plugin calls this to receive every facade metric. */
  readonly metricsBackend: SyncHook<[MetricsBackend]>;
}

export type { Classification };
