/** Option schemas of the resilience plugin; `{}` validates, every default written here once. */
import { z } from '../../sdk/index.js';

/** Exponential backoff between attempts (the SDK's `DEFAULT_BACKOFF`). */
export const backoffSchema = z.object({
  initialMs: z.number().min(0).default(100),
  factor: z.number().min(1).default(2),
  maxMs: z.number().min(0).default(30_000),
  jitter: z.number().min(0).max(1).default(0.1),
});

export const retrySchema = z.object({
  /** Attempts including the first (the original system's 3). */
  maxAttempts: z.number().int().min(1).default(3),
  backoff: backoffSchema.prefault({}),
  /** `'retryable'`: what `classify` marks retryable; or the list of error codes to retry. */
  retryOn: z.union([z.literal('retryable'), z.array(z.string())]).default('retryable'),
});

/** The original system's breaker (§13): 5 consecutive failures, 30 s, ≤ 3 trials, 2 successes close it. */
export const circuitBreakerSchema = z.object({
  failureThreshold: z.number().int().min(1).default(5),
  resetMs: z.number().min(0).default(30_000),
  halfOpenMax: z.number().int().min(1).default(3),
  successThreshold: z.number().int().min(1).default(2),
});

export const bulkheadSchema = z.object({
  maxConcurrent: z.number().int().min(1).default(10),
  maxQueue: z.number().int().min(0).default(0),
});

/** One policy. Each part is optional; a policy with none of them just runs the function. */
export const policySchema = z
  .object({
    retry: retrySchema.optional(),
    timeoutMs: z.number().positive().optional(),
    circuitBreaker: circuitBreakerSchema.optional(),
    bulkhead: bulkheadSchema.optional(),
  })
  .refine((p) => p.circuitBreaker === undefined || p.circuitBreaker.halfOpenMax >= 1, {
    message: 'circuitBreaker.halfOpenMax must be at least 1',
  });

export const resilienceOptionsSchema = z.object({
  policies: z.record(z.string(), policySchema).default({}),
});

/** A policy definition as written in config (defaults optional). */
export type PolicyOptionsInput = z.input<typeof policySchema>;
/** A policy definition with defaults applied. */
export type PolicyOptions = z.output<typeof policySchema>;
export type ResilienceOptionsInput = z.input<typeof resilienceOptionsSchema>;
export type ResilienceOptions = z.output<typeof resilienceOptionsSchema>;
