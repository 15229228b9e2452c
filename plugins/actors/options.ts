import { z } from '../../sdk/index.js';

/**
 * The actors plugin's options. Every field has a default, so `{}` validates. `prefault` (not
 * `default`) on nested objects so that a partly given object still gets the inner defaults.
 */
export const actorsOptions = z.object({
  /** Default mailbox of every actor; `spawn(…, { mailbox })` overrides per actor. */
  mailbox: z
    .object({
      capacity: z.number().int().min(1).max(10_000_000).default(1000),
      overflow: z.enum(['fail', 'drop-newest', 'drop-oldest']).default('fail'),
    })
    .prefault({}),
  /** Default ask timeout in ms; 0 = none (no timer is created for an ask without a timeout). */
  askTimeoutMs: z.number().int().min(0).default(0),
  /** On kernel stop, how long to let mailboxes drain before the rest becomes dead letters ('shutdown'). */
  shutdownDrainMs: z.number().int().min(0).default(2000),
  /** Messages one actor handles before the next ready actor gets its turn (fairness vs. throughput). */
  throughput: z.number().int().min(1).max(1_000_000).default(100),
  /** The root actor supervisor (and the supervisors of parent actors). */
  supervision: z
    .object({
      /** Default restart type of actors: a crashing `receive` restarts the actor from `init`. */
      restart: z.enum(['permanent', 'transient', 'temporary']).default('permanent'),
      /** Restarts allowed within `periodMs` across all actors of one supervisor before it gives up. */
      intensity: z.number().int().min(1).default(1000),
      periodMs: z.number().int().min(1).default(60_000),
      /** How long a supervisor waits for an actor's in-flight message when stopping it. */
      shutdownMs: z.number().int().min(0).default(5000),
      /** Restart backoff (default: the supervision plugin's, 100 ms doubling to 30 s). */
      backoff: z
        .object({ initialMs: z.number().min(0), factor: z.number().min(1), maxMs: z.number().min(0), jitter: z.number().min(0).max(1) })
        .partial()
        .optional(),
    })
    .prefault({}),
  /** Register the probe check with the health plugin when it is loaded. */
  healthCheck: z.boolean().default(true),
});

export type ActorsOptions = z.output<typeof actorsOptions>;
