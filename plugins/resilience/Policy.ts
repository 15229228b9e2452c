/**
 * A resilience policy: bulkhead → circuit breaker → retry → timeout, outermost first.
 *
 * - The bulkhead is outermost so that it bounds whole executions, retries and backoff sleeps
 *   included: `maxConcurrent` is the number of callers doing work against the dependency, not the
 *   number of attempts in the air at one instant.
 * - The breaker sits outside the retry, so it sees one outcome per execution (the retried call).
 *   A transient blip that one retry absorbs does not count against the dependency; an open breaker
 *   refuses before any attempt or backoff is spent.
 * - The timeout is innermost: it bounds each attempt, so a slow attempt can be retried.
 *
 * The success path is written for the engine: one `Attempt` object per attempt (it is the context,
 * the deadline-list node and the abort listener at once), no AbortController unless the callee reads
 * `ctx.signal`, no timer (a shared {@link DeadlineWheel} checks deadlines), and no metric calls
 * (plain counters, read on scrape).
 */
import type { Bulkhead } from './Bulkhead.js';
import type { CircuitBreaker } from './CircuitBreaker.js';
import { policyDisposedError, retriesExhaustedError, timeoutError } from './errors.js';
import { backoffSleep, type Retry } from './Retry.js';
import type { CircuitBreakerView, ExecuteContext, ExecuteOptions, Policy, PolicyObserver, PolicyStats } from './types.js';
import { abortReason, type DeadlineEntry, DeadlineWheel, isThenable } from '../../sdk/util/index.js';

/** The parts of a policy, each optional. */
export interface PolicyParts {
  readonly bulkhead?: Bulkhead | undefined;
  readonly breaker?: CircuitBreaker | undefined;
  readonly retry?: Retry | undefined;
  readonly timeoutMs?: number | undefined;
  readonly wheel?: DeadlineWheel | undefined;
  readonly observer?: PolicyObserver | undefined;
}

/** One attempt: the callee's context, a deadline-list node, and the caller-signal listener. */
class Attempt implements ExecuteContext, DeadlineEntry {
  readonly attempt: number;
  deadline = 0;
  deadlineTick = 0;
  prev: DeadlineEntry | undefined = undefined;
  next: DeadlineEntry | undefined = undefined;
  readonly #policy: ResiliencePolicy;
  readonly #caller: AbortSignal | undefined;
  #controller: AbortController | undefined = undefined;
  #abortedWith: Error | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;

  constructor(policy: ResiliencePolicy, attempt: number, caller: AbortSignal | undefined) {
    this.#policy = policy;
    this.attempt = attempt;
    this.#caller = caller;
  }

  get signal(): AbortSignal {
    // Without a timeout, only the caller can abort the attempt: its own signal is the attempt's.
    if (this.#controller === undefined && this.#caller !== undefined && this.#abortedWith === undefined && !this.#policy.hasTimeout) {
      return this.#caller;
    }
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortedWith !== undefined) this.#controller.abort(this.#abortedWith);
      else if (this.#caller?.aborted) this.#controller.abort(abortReason(this.#caller));
    }
    return this.#controller.signal;
  }

  /** Settles the attempt with `reason` now, whether or not the callee honours its signal. */
  abort(reason: Error): void {
    if (this.#abortedWith !== undefined) return;
    this.#abortedWith = reason;
    this.#controller?.abort(reason);
    this.#reject?.(reason);
  }

  /** The deadline passed (or the policy was disposed). */
  expire(): void {
    this.abort(this.#policy.expired(this.attempt));
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.abort(abortReason(this.#caller!));
  }

  race<T>(result: PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      result.then(resolve, reject);
    });
  }
}

/** A policy built from its parts. Create one with `createPolicy` or get one from the `resilience` service. */
export class ResiliencePolicy implements Policy {
  readonly name: string;
  readonly #bulkhead: Bulkhead | undefined;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #retry: Retry | undefined;
  readonly #timeoutMs: number;
  readonly #wheel: DeadlineWheel | undefined;
  readonly #observer: PolicyObserver | undefined;
  readonly #disposal = new AbortController();
  #executions = 0;
  #successes = 0;
  #failures = 0;
  #retries = 0;
  #timeouts = 0;
  #circuitRejections = 0;
  #bulkheadRejections = 0;

  constructor(name: string, parts: PolicyParts) {
    this.name = name;
    this.#bulkhead = parts.bulkhead;
    this.#breaker = parts.breaker;
    this.#retry = parts.retry;
    this.#timeoutMs = parts.timeoutMs ?? 0;
    this.#wheel = this.#timeoutMs > 0 ? parts.wheel : undefined;
    this.#observer = parts.observer;
  }

  get circuit(): CircuitBreakerView | undefined {
    return this.#breaker;
  }

  /** Whether attempts run under a deadline. */
  get hasTimeout(): boolean {
    return this.#wheel !== undefined;
  }

  /** Whether `dispose` was called. */
  get disposed(): boolean {
    return this.#disposal.signal.aborted;
  }

  stats(): PolicyStats {
    return {
      executions: this.#executions,
      successes: this.#successes,
      failures: this.#failures,
      retries: this.#retries,
      timeouts: this.#timeouts,
      circuitRejections: this.#circuitRejections,
      bulkheadRejections: this.#bulkheadRejections,
      running: this.#bulkhead?.running ?? 0,
      queued: this.#bulkhead?.queued ?? 0,
    };
  }

  execute<T>(fn: (ctx: ExecuteContext) => T | Promise<T>, options?: ExecuteOptions): Promise<T> {
    const signal = options?.signal;
    this.#executions++;
    if (this.#disposal.signal.aborted) return Promise.reject(policyDisposedError(this.name));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const bulkhead = this.#bulkhead;
    if (bulkhead !== undefined && !bulkhead.tryEnter()) {
      if (!bulkhead.canQueue()) {
        this.#bulkheadRejections++;
        this.#failures++;
        this.#observer?.onRejected?.(this.name, 'bulkhead-full');
        return Promise.reject(bulkhead.fullError());
      }
      return bulkhead.wait(signal).then(() => this.#run(fn, signal));
    }
    return this.#run(fn, signal);
  }

  /**
   * Aborts every attempt under a deadline, refuses queued and future calls with
   * `RESILIENCE_POLICY_DISPOSED`, and ends backoff sleeps. Idempotent.
   */
  dispose(): void {
    if (this.#disposal.signal.aborted) return;
    this.#disposal.abort(policyDisposedError(this.name));
    this.#bulkhead?.rejectQueued(policyDisposedError(this.name));
    this.#breaker?.dispose();
    this.#wheel?.removeAll((entry) => entry.expire());
  }

  /** The error an attempt ends with when the wheel expires it. */
  expired(attempt: number): Error {
    if (this.#disposal.signal.aborted) return policyDisposedError(this.name);
    this.#timeouts++;
    this.#observer?.onTimeout?.(this.name, attempt, this.#timeoutMs);
    return timeoutError(this.name, this.#timeoutMs, attempt);
  }

  async #run<T>(fn: (ctx: ExecuteContext) => T | Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const breaker = this.#breaker;
    try {
      let trial = false;
      if (breaker !== undefined) {
        try {
          trial = breaker.admit();
        } catch (error) {
          this.#circuitRejections++;
          this.#failures++;
          this.#observer?.onRejected?.(this.name, 'circuit-open');
          throw error;
        }
      }
      for (let attempt = 1; ; attempt++) {
        const ctx = new Attempt(this, attempt, signal);
        try {
          let value: T;
          const wheel = this.#wheel;
          if (wheel === undefined && signal === undefined) {
            value = await fn(ctx);
          } else {
            // The signal may have aborted while the call waited for a bulkhead slot.
            if (signal?.aborted) throw abortReason(signal);
            const result = fn(ctx);
            if (isThenable(result)) {
              wheel?.add(ctx, this.#timeoutMs);
              signal?.addEventListener('abort', ctx);
              try {
                value = await ctx.race(result);
              } finally {
                wheel?.remove(ctx);
                signal?.removeEventListener('abort', ctx);
              }
            } else {
              value = result;
            }
          }
          this.#successes++;
          breaker?.success(trial);
          return value;
        } catch (error) {
          const stop = this.#stopReason(signal);
          if (stop !== undefined) {
            // A cancelled call says nothing about the dependency's health.
            breaker?.release(trial);
            this.#failures++;
            throw stop;
          }
          const retry = this.#retry;
          if (retry === undefined || !retry.shouldRetry(error)) {
            this.#failed(trial);
            throw error;
          }
          if (attempt >= retry.maxAttempts) {
            this.#failed(trial);
            throw retriesExhaustedError(this.name, attempt, error);
          }
          const delayMs = retry.delayFor(attempt, error);
          this.#retries++;
          this.#observer?.onRetry?.(this.name, attempt, delayMs, error);
          try {
            await backoffSleep(delayMs, signal, this.#disposal.signal);
          } catch (cancelled) {
            breaker?.release(trial);
            this.#failures++;
            throw cancelled;
          }
        }
      }
    } finally {
      this.#bulkhead?.release();
    }
  }

  #stopReason(signal: AbortSignal | undefined): Error | undefined {
    if (signal?.aborted) return abortReason(signal);
    if (this.#disposal.signal.aborted) return policyDisposedError(this.name);
    return undefined;
  }

  #failed(trial: boolean): void {
    this.#failures++;
    this.#breaker?.failure(trial);
  }
}
