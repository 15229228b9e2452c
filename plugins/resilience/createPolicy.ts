/** Builds a policy from options, for code that wants one without the plugin's config. */
import { Bulkhead } from './Bulkhead.js';
import { CircuitBreaker } from './CircuitBreaker.js';
import { policySchema, type PolicyOptionsInput } from './options.js';
import { ResiliencePolicy } from './Policy.js';
import { Retry } from './Retry.js';
import type { PolicyObserver } from './types.js';
import { DeadlineWheel, resolutionFor } from '../../sdk/util/index.js';

export interface CreatePolicyOptions extends PolicyOptionsInput {
  /** Names the policy in errors, logs and metrics (default `'anonymous'`). */
  readonly name?: string;
  /** Receives retries, breaker transitions, timeouts and rejections. */
  readonly observer?: PolicyObserver;
  /** Jitter source (tests pass a constant). */
  readonly random?: () => number;
}

/**
 * A policy from options, defaults applied and validated like the plugin's config:
 * `createPolicy({ retry: {}, timeoutMs: 1000, circuitBreaker: {}, bulkhead: { maxConcurrent: 10 } })`.
 * Call `dispose()` when done with it if calls may still be in flight.
 */
export function createPolicy(options: CreatePolicyOptions = {}): ResiliencePolicy {
  const { name = 'anonymous', observer, random, ...rest } = options;
  const parsed = policySchema.parse(rest);
  let policy: ResiliencePolicy | undefined;
  const breaker =
    parsed.circuitBreaker === undefined
      ? undefined
      : new CircuitBreaker(name, parsed.circuitBreaker, (from, to) => observer?.onTransition?.(policy?.name ?? name, from, to));
  policy = new ResiliencePolicy(name, {
    bulkhead: parsed.bulkhead === undefined ? undefined : new Bulkhead(name, parsed.bulkhead),
    breaker,
    retry: parsed.retry === undefined ? undefined : new Retry(parsed.retry, random),
    timeoutMs: parsed.timeoutMs,
    wheel: parsed.timeoutMs === undefined ? undefined : new DeadlineWheel(resolutionFor(parsed.timeoutMs), true),
    observer,
  });
  return policy;
}
