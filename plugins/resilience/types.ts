/**
 * Public contract of the resilience plugin. Other plugins import these with
 * `import type` and reach the service through `ctx.tryResolve('resilience')`.
 */
export type { PolicyOptions, PolicyOptionsInput, ResilienceOptions, ResilienceOptionsInput } from './options.js';

/** What the function run by a policy receives. */
export interface ExecuteContext {
  /**
   * Aborted when the attempt times out, the caller cancels or the policy is disposed. Created on
   * first read: a callee that never looks at it costs no AbortController.
   */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface ExecuteOptions {
  /** Cancels the call: the running attempt's signal aborts, no further retry starts, a queued call leaves the bulkhead queue. */
  readonly signal?: AbortSignal;
}

/** Breaker states; the gauge `circuit_breaker_state` reports them as 0, 1, 2. */
export type CircuitState = 'closed' | 'half-open' | 'open';

/** A read-only view of a policy's circuit breaker, plus a manual reset. */
export interface CircuitBreakerView {
  readonly state: CircuitState;
  /** Consecutive failures counted while closed. */
  readonly consecutiveFailures: number;
  /** Milliseconds until an open breaker lets a trial through; 0 unless open. */
  readonly retryAfterMs: number;
  /** Forces the breaker closed (an operator's override). */
  reset(): void;
}

/** Plain counters a policy keeps (read them for dashboards or tests; never reset). */
export interface PolicyStats {
  readonly executions: number;
  readonly successes: number;
  readonly failures: number;
  readonly retries: number;
  readonly timeouts: number;
  readonly circuitRejections: number;
  readonly bulkheadRejections: number;
  /** Calls holding a bulkhead slot right now. */
  readonly running: number;
  /** Calls waiting for a bulkhead slot right now. */
  readonly queued: number;
}

export interface Policy {
  readonly name: string;
  /**
   * Runs `fn` through the policy: bulkhead → circuit breaker → retry → timeout (per attempt).
   * Resolves with `fn`'s value; rejects with `fn`'s error, or a `ResilienceError`
   * (`RESILIENCE_CIRCUIT_OPEN`, `RESILIENCE_BULKHEAD_FULL`, `RESILIENCE_TIMEOUT`,
   * `RESILIENCE_RETRIES_EXHAUSTED` with the last error as `cause`), or the caller's abort reason.
   */
  execute<T>(fn: (ctx: ExecuteContext) => T | Promise<T>, options?: ExecuteOptions): Promise<T>;
  /** The breaker, when the policy has one. */
  readonly circuit: CircuitBreakerView | undefined;
  stats(): PolicyStats;
}

/** What a policy reports as it works: the plugin turns it into logs, metrics and events. */
export interface PolicyObserver {
  /** A retry is about to wait `delayMs` before attempt `attempt + 1`. */
  onRetry?(policy: string, attempt: number, delayMs: number, error: unknown): void;
  /** The breaker moved from one state to another. */
  onTransition?(policy: string, from: CircuitState, to: CircuitState): void;
  /** An attempt timed out. */
  onTimeout?(policy: string, attempt: number, timeoutMs: number): void;
  /** A call was refused by the breaker or the bulkhead. */
  onRejected?(policy: string, reason: 'circuit-open' | 'bulkhead-full'): void;
}

/** The `resilience` service. */
export interface ResilienceService {
  /** A named policy from the plugin options; throws RESILIENCE_UNKNOWN_POLICY for an unknown name. */
  policy(name: string): Policy;
  has(name: string): boolean;
  /** Names of every configured policy. */
  names(): string[];
}

declare module '../../sdk/index.js' {
  interface Services {
    resilience: ResilienceService;
  }
}
