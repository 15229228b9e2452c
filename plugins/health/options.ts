import { z } from '../../sdk/index.js';

const eventLoop = z
  .object({
    enabled: z.boolean().default(true),
    /** p99 event-loop delay since the previous run at or above which the check is degraded. */
    degradedMs: z.number().positive().default(200),
    /** …and unhealthy. */
    unhealthyMs: z.number().positive().default(1_000),
    /** The original system's runtime check ran every 10 s. */
    intervalMs: z.number().int().positive().default(10_000),
    /** Sampling resolution of `monitorEventLoopDelay`. */
    resolutionMs: z.number().int().positive().default(20),
    critical: z.boolean().default(false),
  })
  .prefault({})
  .refine((o) => o.degradedMs < o.unhealthyMs, { message: 'degradedMs must be below unhealthyMs' });

const heap = z
  .object({
    enabled: z.boolean().default(true),
    /** Used heap / heap size limit at or above which the check is degraded. */
    degradedRatio: z.number().gt(0).lt(1).default(0.85),
    /** …and unhealthy. */
    unhealthyRatio: z.number().gt(0).max(1).default(0.95),
    intervalMs: z.number().int().positive().default(30_000),
    critical: z.boolean().default(false),
  })
  .prefault({})
  .refine((o) => o.degradedRatio < o.unhealthyRatio, { message: 'degradedRatio must be below unhealthyRatio' });

/** Options of the health plugin; `{}` validates. */
export const HealthOptionsSchema = z.object({
  /** Default interval of every check (the original system's 30 s). */
  intervalMs: z.number().int().positive().default(30_000),
  /** Default timeout of every check. */
  timeoutMs: z.number().int().positive().default(5_000),
  /** Reported by `/healthz`; default: the Mister Smith version. */
  version: z.string().min(1).optional(),
  /**
   * Whether `/livez` and `/readyz` skip the http plugin's bearer auth (orchestrator probes rarely
   * carry secrets). `/healthz` shows details and always requires the token when auth is on.
   */
  publicProbes: z.boolean().default(true),
  eventLoop,
  heap,
});

export type HealthOptions = z.output<typeof HealthOptionsSchema>;
