/**
 * Event-loop delay, the one signal every Node process has: a blocked loop delays timers, I/O and
 * every probe. Reads the p99 of `monitorEventLoopDelay` since the previous run, then resets it, so
 * each run judges its own window rather than the whole process lifetime.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { CheckResult, HealthCheck } from '../types.js';

export interface EventLoopDelayOptions {
  readonly degradedMs: number;
  readonly unhealthyMs: number;
  readonly resolutionMs: number;
}

/** The built-in `event-loop` check. Call `start()` before its first run and `stop()` on shutdown. */
export class EventLoopDelayCheck {
  readonly #options: EventLoopDelayOptions;
  #histogram: IntervalHistogram | undefined;

  constructor(options: EventLoopDelayOptions) {
    this.#options = options;
  }

  /** Enables the histogram (it samples on a libuv timer that does not keep the process alive). */
  start(): void {
    if (this.#histogram !== undefined) return;
    this.#histogram = monitorEventLoopDelay({ resolution: this.#options.resolutionMs });
    this.#histogram.enable();
  }

  /** Disables the histogram; a stopped check reports `unknown`. */
  stop(): void {
    this.#histogram?.disable();
    this.#histogram = undefined;
  }

  readonly check: HealthCheck = (): CheckResult => {
    const h = this.#histogram;
    if (h === undefined) return { status: 'unknown', message: 'event-loop monitor is not running' };
    const ns = h.count > 0 ? h.percentile(99) : 0;
    const p99Ms = ns / 1e6;
    const details = { p99Ms: round(p99Ms), maxMs: round(h.count > 0 ? h.max / 1e6 : 0), meanMs: round(h.count > 0 ? h.mean / 1e6 : 0), samples: h.count };
    h.reset();
    const { degradedMs, unhealthyMs } = this.#options;
    if (p99Ms >= unhealthyMs) return { status: 'unhealthy', message: `event-loop delay p99 ${round(p99Ms)} ms ≥ ${unhealthyMs} ms`, details };
    if (p99Ms >= degradedMs) return { status: 'degraded', message: `event-loop delay p99 ${round(p99Ms)} ms ≥ ${degradedMs} ms`, details };
    return { status: 'healthy', details };
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
