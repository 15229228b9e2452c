/**
 * Runs health checks on their own intervals, caches their results, and answers liveness and
 * readiness from the cache. A probe never runs a check: probes are frequent and must be cheap, and a
 * slow dependency must not turn `/livez` into a slow endpoint.
 */
import {
  type Disposer,
  TimeoutError,
  type Gauge,
  type Histogram,
  type KernelState,
  type Logger,
  type Metrics,
} from '../../sdk/index.js';
import { HEALTH_ERROR_CODES, HealthError } from './errors.js';
import type {
  CheckOptions,
  CheckResult,
  CheckState,
  HealthChangedData,
  HealthCheck,
  HealthReport,
  HealthService,
  HealthStatus,
} from './types.js';
import { withDeadline } from '../../sdk/util/index.js';

const STATUSES: ReadonlySet<string> = new Set<HealthStatus>(['healthy', 'degraded', 'unhealthy', 'unknown']);
/** Gauge encoding of a status, documented in the README (higher is better; unknown below all). */
const STATUS_VALUE: Readonly<Record<HealthStatus, number>> = { healthy: 1, degraded: 0.5, unhealthy: 0, unknown: -1 };

export interface HealthMonitorOptions {
  /** Default interval of a check. */
  readonly intervalMs: number;
  /** Default timeout of a check. */
  readonly timeoutMs: number;
  readonly version: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The kernel's state; readiness is false unless it is `running`. */
  readonly kernelState: () => KernelState;
  /** Called on every status change; the plugin publishes `health.changed` through it. */
  readonly onChange?: (change: HealthChangedData) => void;
}

interface Entry {
  readonly name: string;
  readonly check: HealthCheck;
  readonly kind: 'live' | 'ready';
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  state: CheckState;
  running: Promise<CheckState> | undefined;
  timer: NodeJS.Timeout | undefined;
  removed: boolean;
}

function positive(value: number | undefined, fallback: number, what: string, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new HealthError(HEALTH_ERROR_CODES.HEALTH_INVALID_OPTIONS, `health check '${name}': ${what} must be a positive number of ms, got ${String(value)}`);
  }
  return value;
}

function invalid(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return `check returned ${result === null ? 'null' : typeof result}, not { status }`;
  const status = (result as { status?: unknown }).status;
  if (typeof status !== 'string' || !STATUSES.has(status)) return `check returned status ${JSON.stringify(status)}; expected healthy, degraded, unhealthy or unknown`;
  return undefined;
}

/** The `health` service. */
export class HealthMonitor implements HealthService {
  readonly #options: HealthMonitorOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #statusGauge: Gauge;
  readonly #latency: Histogram;
  readonly #bornAt = performance.now();
  #stopping = new AbortController();
  #started = false;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
    this.#statusGauge = options.metrics.gauge({
      name: 'health_check_status',
      help: 'Last status of each health check: 1 healthy, 0.5 degraded, 0 unhealthy, -1 unknown',
      labelNames: ['check'],
    });
    this.#latency = options.metrics.histogram({
      name: 'health_check_duration_seconds',
      help: 'Duration of health check runs',
      labelNames: ['check'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5],
    });
  }

  register(name: string, check: HealthCheck, options: CheckOptions = {}): Disposer {
    if (typeof name !== 'string' || name === '') throw new HealthError(HEALTH_ERROR_CODES.HEALTH_INVALID_OPTIONS, 'a health check needs a non-empty name');
    if (typeof check !== 'function') throw new HealthError(HEALTH_ERROR_CODES.HEALTH_INVALID_OPTIONS, `health check '${name}' must be a function`);
    if (this.#entries.has(name)) {
      throw new HealthError(HEALTH_ERROR_CODES.HEALTH_CHECK_CONFLICT, `a health check named '${name}' is already registered; unregister it first or choose another name`);
    }
    const kind = options.kind ?? 'ready';
    if (kind !== 'live' && kind !== 'ready') {
      throw new HealthError(HEALTH_ERROR_CODES.HEALTH_INVALID_OPTIONS, `health check '${name}': kind must be 'live' or 'ready', got '${String(kind)}'`);
    }
    const timeoutMs = positive(options.timeoutMs, this.#options.timeoutMs, 'timeoutMs', name);
    const intervalMs = positive(options.intervalMs, this.#options.intervalMs, 'intervalMs', name);
    const critical = options.critical ?? false;
    const entry: Entry = {
      name,
      check,
      kind,
      critical,
      timeoutMs,
      intervalMs,
      state: Object.freeze({ name, kind, critical, status: 'unknown', timeoutMs, intervalMs }),
      running: undefined,
      timer: undefined,
      removed: false,
    };
    this.#entries.set(name, entry);
    this.#statusGauge.set({ check: name }, STATUS_VALUE.unknown);
    if (this.#started) void this.#runScheduled(entry);
    return async () => {
      if (entry.removed) return;
      entry.removed = true;
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      this.#entries.delete(name);
    };
  }

  run(name: string): Promise<CheckState>;
  run(): Promise<HealthReport>;
  async run(name?: string): Promise<CheckState | HealthReport> {
    if (name !== undefined) {
      const entry = this.#entries.get(name);
      if (entry === undefined) {
        throw new HealthError(HEALTH_ERROR_CODES.HEALTH_CHECK_NOT_FOUND, `no health check named '${name}'; registered: ${[...this.#entries.keys()].join(', ') || 'none'}`);
      }
      return this.#execute(entry);
    }
    await Promise.all([...this.#entries.values()].map((entry) => this.#execute(entry)));
    return this.report();
  }

  report(): HealthReport {
    const checks: Record<string, CheckState> = {};
    let anyCriticalUnhealthy = false;
    let anyDegraded = false;
    let anyUnknown = false;
    let live = true;
    let readyChecks = true;
    for (const entry of this.#entries.values()) {
      const { status } = entry.state;
      checks[entry.name] = entry.state;
      if (status === 'unhealthy') {
        anyDegraded = true;
        if (entry.critical) {
          anyCriticalUnhealthy = true;
          if (entry.kind === 'live') live = false;
          else readyChecks = false;
        }
      } else if (status === 'degraded') anyDegraded = true;
      else if (status === 'unknown') anyUnknown = true;
    }
    const kernel = this.#options.kernelState();
    const status: HealthStatus = anyCriticalUnhealthy ? 'unhealthy' : anyDegraded ? 'degraded' : anyUnknown ? 'unknown' : 'healthy';
    return {
      status,
      live,
      ready: kernel === 'running' && readyChecks,
      kernel,
      uptimeSeconds: Math.round(performance.now() - this.#bornAt) / 1000,
      version: this.#options.version,
      checks,
    };
  }

  /** First run of every check (awaited, each within its timeout), then each on its own interval. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    await Promise.all([...this.#entries.values()].map((entry) => this.#runScheduled(entry)));
  }

  /** Clears every timer and aborts the checks in progress. Results stay readable. */
  stop(): void {
    this.#started = false;
    this.#stopping.abort(new HealthError(HEALTH_ERROR_CODES.HEALTH_STOPPED, 'the health monitor is stopping'));
    for (const entry of this.#entries.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  async #runScheduled(entry: Entry): Promise<void> {
    entry.timer = undefined;
    await this.#execute(entry);
    // Re-armed after the run ends, so a slow check never overlaps itself.
    if (this.#started && !entry.removed) entry.timer = setTimeout(this.#onTimer, entry.intervalMs, entry);
  }

  readonly #onTimer = (entry: Entry): void => {
    void this.#runScheduled(entry);
  };

  #execute(entry: Entry): Promise<CheckState> {
    entry.running ??= this.#runOnce(entry).finally(() => (entry.running = undefined));
    return entry.running;
  }

  async #runOnce(entry: Entry): Promise<CheckState> {
    const began = performance.now();
    let result: CheckResult;
    const signal = this.#stopping.signal;
    try {
      const returned: unknown = await withDeadline((s) => entry.check(s), {
        timeoutMs: entry.timeoutMs,
        signal,
        timeoutError: () => new TimeoutError(`timed out after ${entry.timeoutMs} ms`, { code: HEALTH_ERROR_CODES.HEALTH_CHECK_TIMEOUT }),
      });
      const problem = invalid(returned);
      result = problem === undefined ? (returned as CheckResult) : { status: 'unhealthy', message: problem, details: { code: HEALTH_ERROR_CODES.HEALTH_CHECK_INVALID_RESULT } };
    } catch (error) {
      // Stopping is not a verdict on the check: keep what we knew.
      if (signal.aborted) return entry.state;
      const message = error instanceof Error ? error.message : String(error);
      result = { status: 'unhealthy', message: message || 'check failed' };
    }
    const latencyMs = performance.now() - began;
    if (entry.removed) return entry.state;
    const previous = entry.state.status;
    entry.state = Object.freeze({
      name: entry.name,
      kind: entry.kind,
      critical: entry.critical,
      status: result.status,
      ...(result.message !== undefined ? { message: String(result.message) } : {}),
      ...(result.details !== undefined ? { details: result.details } : {}),
      latencyMs: Math.round(latencyMs * 1000) / 1000,
      lastRun: new Date().toISOString(),
      timeoutMs: entry.timeoutMs,
      intervalMs: entry.intervalMs,
    });
    this.#statusGauge.set({ check: entry.name }, STATUS_VALUE[result.status]);
    this.#latency.observe({ check: entry.name }, latencyMs / 1000);
    if (previous !== result.status) this.#changed(entry, previous);
    return entry.state;
  }

  #changed(entry: Entry, from: HealthStatus): void {
    const to = entry.state.status;
    const log = { check: entry.name, from, to, critical: entry.critical, kind: entry.kind, message: entry.state.message };
    if (to === 'unhealthy') this.#options.logger[entry.critical ? 'error' : 'warn'](log, `health check '${entry.name}' is ${to}`);
    else if (to === 'degraded') this.#options.logger.warn(log, `health check '${entry.name}' is ${to}`);
    else this.#options.logger.info(log, `health check '${entry.name}' is ${to}`);
    const change: HealthChangedData = { check: entry.name, from, to, kind: entry.kind, critical: entry.critical, ...(entry.state.message !== undefined ? { message: entry.state.message } : {}) };
    try {
      this.#options.onChange?.(change);
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'health change listener failed');
    }
  }
}
