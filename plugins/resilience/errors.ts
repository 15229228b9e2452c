/**
 * Error codes of the resilience plugin. Codes never change once published; messages say what was
 * wrong and what to do about it.
 */
import { ResilienceError } from '../../sdk/index.js';

/** Every code this plugin throws. */
export const RESILIENCE_ERROR_CODES = Object.freeze({
  /** The circuit is open (or half-open with every trial slot taken); `retryAfterMs` = time until half-open. */
  RESILIENCE_CIRCUIT_OPEN: 'RESILIENCE_CIRCUIT_OPEN',
  /** The bulkhead has no free slot and its queue is full. */
  RESILIENCE_BULKHEAD_FULL: 'RESILIENCE_BULKHEAD_FULL',
  /** One attempt ran past the policy's `timeoutMs`; its signal was aborted. */
  RESILIENCE_TIMEOUT: 'RESILIENCE_TIMEOUT',
  /** Every attempt failed with a retryable error; `cause` is the last one. */
  RESILIENCE_RETRIES_EXHAUSTED: 'RESILIENCE_RETRIES_EXHAUSTED',
  /** `resilience.policy(name)` for a name the options do not define. */
  RESILIENCE_UNKNOWN_POLICY: 'RESILIENCE_UNKNOWN_POLICY',
  /** The policy was disposed (the plugin stopped) before or while the call ran. */
  RESILIENCE_POLICY_DISPOSED: 'RESILIENCE_POLICY_DISPOSED',
} as const);

export type ResilienceErrorCode = (typeof RESILIENCE_ERROR_CODES)[keyof typeof RESILIENCE_ERROR_CODES];

/** Fail-fast rejection by an open (or saturated half-open) breaker. Retryable after `retryAfterMs`. */
export function circuitOpenError(policy: string, state: 'open' | 'half-open', retryAfterMs: number | undefined): ResilienceError {
  const when = retryAfterMs === undefined ? 'when a trial call finishes' : `in ${retryAfterMs} ms`;
  return new ResilienceError(
    RESILIENCE_ERROR_CODES.RESILIENCE_CIRCUIT_OPEN,
    state === 'open'
      ? `policy '${policy}': circuit is open; calls fail fast until it goes half-open ${when}`
      : `policy '${policy}': circuit is half-open and every trial slot is taken; try again ${when}`,
    {
      retryable: true,
      severity: 'low',
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      context: { policy, state, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    },
  );
}

export function bulkheadFullError(policy: string, maxConcurrent: number, maxQueue: number): ResilienceError {
  return new ResilienceError(
    RESILIENCE_ERROR_CODES.RESILIENCE_BULKHEAD_FULL,
    `policy '${policy}': bulkhead is full (${maxConcurrent} running, ${maxQueue} queued); shed load or raise bulkhead.maxConcurrent/maxQueue`,
    { retryable: true, severity: 'low', context: { policy, maxConcurrent, maxQueue } },
  );
}

export function timeoutError(policy: string, timeoutMs: number, attempt: number): ResilienceError {
  // Retryable on purpose: a per-attempt timeout sits inside the retry so that a slow attempt can be
  // retried; callers who disagree list the codes to retry in `retry.retryOn`.
  return new ResilienceError(RESILIENCE_ERROR_CODES.RESILIENCE_TIMEOUT, `policy '${policy}': attempt ${attempt} timed out after ${timeoutMs} ms`, {
    retryable: true,
    context: { policy, timeoutMs, attempt },
  });
}

export function retriesExhaustedError(policy: string, attempts: number, cause: unknown): ResilienceError {
  const last = cause instanceof Error ? cause.message : String(cause);
  return new ResilienceError(RESILIENCE_ERROR_CODES.RESILIENCE_RETRIES_EXHAUSTED, `policy '${policy}': all ${attempts} attempts failed; last error: ${last}`, {
    cause,
    retryable: false,
    context: { policy, attempts },
  });
}

export function unknownPolicyError(name: string, known: readonly string[]): ResilienceError {
  return new ResilienceError(
    RESILIENCE_ERROR_CODES.RESILIENCE_UNKNOWN_POLICY,
    `unknown resilience policy '${name}'; defined: ${known.length === 0 ? '(none)' : known.join(', ')}. Add it under the resilience plugin's options.policies`,
    { severity: 'medium', context: { policy: name, known } },
  );
}

export function policyDisposedError(policy: string): ResilienceError {
  return new ResilienceError(RESILIENCE_ERROR_CODES.RESILIENCE_POLICY_DISPOSED, `policy '${policy}' was disposed (the resilience plugin stopped)`, {
    context: { policy },
  });
}
