/**
 * Waiting, with a deadline and a way out. Every wait in Mister Smith goes through these so that
 * nothing can hang a shutdown and no timer outlives the wait it guards.
 */
import { CancelledError, TimeoutError } from '../errors.js';

/** Resolves after `ms`, or rejects with `CancelledError` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error a wait rejects with when its signal aborts: the signal's own reason if it is an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new CancelledError(typeof reason === 'string' ? reason : 'operation cancelled');
}

export interface DeadlineOptions {
  /** No deadline when undefined, 0 or Infinity. */
  readonly timeoutMs?: number | undefined;
  /** Aborting it ends the wait at once. */
  readonly signal?: AbortSignal | undefined;
  /** The error to reject with at the deadline (a `TimeoutError` by default). */
  readonly timeoutError?: () => Error;
}

/**
 * Runs `work(signal)` under a deadline. The signal handed to `work` aborts when the deadline passes or
 * the caller's signal aborts; the returned promise settles then, even if `work` ignores its signal.
 */
export function withDeadline<T>(work: (signal: AbortSignal) => Promise<T> | T, options: DeadlineOptions = {}): Promise<T> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const controller = new AbortController();
  const hasDeadline = timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (settled) return;
      finish();
      const reason = abortReason(signal!);
      controller.abort(reason);
      reject(reason);
    };
    if (hasDeadline) {
      timer = setTimeout(() => {
        if (settled) return;
        finish();
        const error = options.timeoutError?.() ?? new TimeoutError(`timed out after ${timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    let result: Promise<T> | T;
    try {
      result = work(controller.signal);
    } catch (error) {
      finish();
      reject(error);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        if (settled) return;
        finish();
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        finish();
        reject(error);
      },
    );
  });
}

/**
 * How long a drain may run so that it ends a little before `deadline` (epoch ms, as lifecycle
 * handlers get it): what is left, less a tenth of it (at most 100 ms) kept for cleaning up after the
 * drain, and at most `capMs`. Never negative.
 */
export function drainBudget(deadline: number, capMs = Infinity): number {
  const remaining = deadline - Date.now();
  return Math.max(0, Math.min(capMs, remaining - Math.min(100, remaining * 0.1)));
}

/** A signal that aborts when any of `signals` does (`AbortSignal.any` exists from Node 20.3). */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 1) return present[0]!;
  return AbortSignal.any(present);
}

/** Exponential backoff with proportional jitter; the shape every retrying part of the system uses. */
export interface BackoffOptions {
  /** First delay in ms (default 100). */
  readonly initialMs: number;
  /** Growth per attempt (default 2). */
  readonly factor: number;
  /** Upper bound in ms (default 30 000). */
  readonly maxMs: number;
  /** Random spread as a fraction of the delay, 0–1 (default 0.1: ±10 %). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ initialMs: 100, factor: 2, maxMs: 30_000, jitter: 0.1 });

/**
 * The delay before retry number `attempt` (0 = first retry): `initialMs × factor^attempt`, capped at
 * `maxMs`, then spread by ±`jitter` so that a crowd of retries does not arrive in lockstep.
 */
export function backoffDelay(options: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * Math.pow(options.factor, Math.max(0, attempt)));
  if (options.jitter <= 0) return base;
  const spread = base * options.jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(options.maxMs, Math.round(base + spread)));
}
