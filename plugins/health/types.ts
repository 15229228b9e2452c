/**
 * Public contract of the health plugin. The health helper owns this file and may add to
 * it; other plugins register checks through `ctx.tryResolve('health')?.register(...)`.
 */
import type { Disposer, KernelState } from '../../sdk/index.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

export interface CheckResult {
  readonly status: HealthStatus;
  readonly message?: string;
  readonly details?: Record<string, unknown>;
}

/** A check; it gets a signal aborted at its timeout. */
export type HealthCheck = (signal: AbortSignal) => CheckResult | Promise<CheckResult>;

export interface CheckOptions {
  /** Default 5000 (the plugin's `timeoutMs`). */
  readonly timeoutMs?: number;
  /** Default: the plugin's intervalMs (30000). */
  readonly intervalMs?: number;
  /** A critical check that is unhealthy fails its probe: `/readyz` (kind ready) or `/livez` (kind live). Default false. */
  readonly critical?: boolean;
  /** Default 'ready'. */
  readonly kind?: 'live' | 'ready';
}

/** A check's cached state: its options and the outcome of its last run. */
export interface CheckState {
  readonly name: string;
  readonly kind: 'live' | 'ready';
  readonly critical: boolean;
  /** `unknown` until the first run ends. */
  readonly status: HealthStatus;
  readonly message?: string;
  readonly details?: Record<string, unknown>;
  /** How long the last run took, in ms. */
  readonly latencyMs?: number;
  /** When the last run ended (ISO-8601). */
  readonly lastRun?: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/** The whole picture, as `/healthz` serves it. */
export interface HealthReport {
  /**
   * Overall: `unhealthy` if a critical check is unhealthy; else `degraded` if any check is degraded
   * or unhealthy; else `unknown` if any has not run (or reported unknown); else `healthy`.
   */
  readonly status: HealthStatus;
  /** What `/livez` answers: no critical live check is unhealthy. */
  readonly live: boolean;
  /** What `/readyz` answers: the kernel is running and no critical ready check is unhealthy. */
  readonly ready: boolean;
  readonly kernel: KernelState;
  /** Seconds since the health plugin was set up. */
  readonly uptimeSeconds: number;
  /** The `version` option, or the Mister Smith version. */
  readonly version: string;
  readonly checks: Readonly<Record<string, CheckState>>;
}

/** The `data` of a `health.changed` event (published only when a check's status changes). */
export interface HealthChangedData {
  readonly check: string;
  readonly from: HealthStatus;
  readonly to: HealthStatus;
  readonly kind: 'live' | 'ready';
  readonly critical: boolean;
  readonly message?: string;
}

/** The `health` service. */
export interface HealthService {
  /** Returns a function that unregisters the check. Throws `HEALTH_CHECK_CONFLICT` for a taken name. */
  register(name: string, check: HealthCheck, options?: CheckOptions): Disposer;
  /** Runs one check now (sharing a run already in progress); `HEALTH_CHECK_NOT_FOUND` for an unknown name. */
  run(name: string): Promise<CheckState>;
  /** Runs every check now and returns the report. */
  run(): Promise<HealthReport>;
  /** The report from cached results (no check runs). */
  report(): HealthReport;
}

declare module '../../sdk/index.js' {
  interface Services {
    health: HealthService;
  }
}
