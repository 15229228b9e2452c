/**
 * Which failures to retry and how long to wait. Retrying is decided from data (`classify`), never
 * from `instanceof`, so an error from any plugin or library is judged the same way.
 */
import { classify, type BackoffOptions } from '../../sdk/index.js';
import { abortReason, backoffDelay } from '../../sdk/util/index.js';

export interface RetrySettings {
  /** Attempts including the first. */
  readonly maxAttempts: number;
  readonly backoff: BackoffOptions;
  readonly retryOn: 'retryable' | readonly string[];
}

export class Retry {
  readonly maxAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #codes: ReadonlySet<string> | undefined;
  readonly #random: () => number;

  constructor(settings: RetrySettings, random: () => number = Math.random) {
    this.maxAttempts = settings.maxAttempts;
    this.#backoff = settings.backoff;
    this.#codes = settings.retryOn === 'retryable' ? undefined : new Set(settings.retryOn);
    this.#random = random;
  }

  /** Whether `error` is worth another attempt: classify's `retryable`, or its code is listed. */
  shouldRetry(error: unknown): boolean {
    const c = classify(error);
    if (c.kind === 'cancelled') return false;
    return this.#codes === undefined ? c.retryable : this.#codes.has(c.code);
  }

  /**
   * The wait before attempt `failedAttempt + 1`: the backoff for that retry, or the error's
   * `retryAfterMs` when the failing side asked for longer.
   */
  delayFor(failedAttempt: number, error: unknown): number {
    const backoff = backoffDelay(this.#backoff, failedAttempt - 1, this.#random);
    const retryAfter = classify(error).retryAfterMs;
    return retryAfter !== undefined && retryAfter > backoff ? retryAfter : backoff;
  }
}

/**
 * Waits `ms`, or rejects with the abort reason of whichever signal aborts first. Not
 * `sleep(ms, AbortSignal.any([...]))`: in Node 20 every `any()` over a long-lived signal (the
 * policy's disposal signal) stays registered on it, so a busy policy would accumulate them.
 */
export function backoffSleep(ms: number, caller: AbortSignal | undefined, disposal: AbortSignal): Promise<void> {
  const first = caller?.aborted ? caller : disposal.aborted ? disposal : undefined;
  if (first !== undefined) return Promise.reject(abortReason(first));
  return new Promise<void>((resolve, reject) => {
    const listener = {
      handleEvent(event: Event): void {
        done();
        reject(abortReason(event.target as AbortSignal));
      },
    };
    const done = (): void => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', listener);
      disposal.removeEventListener('abort', listener);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    caller?.addEventListener('abort', listener);
    disposal.addEventListener('abort', listener);
  });
}
