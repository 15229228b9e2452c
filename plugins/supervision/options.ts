import { z } from '../../sdk/index.js';

const decision = z.enum(['ignore', 'retry', 'restart', 'escalate', 'stop']);

/** Options of the supervision plugin; `{}` validates and gives the original system's defaults. */
export const SupervisionOptionsSchema = z.object({
  /**
   * Decision of the plugin's `hooks.fault` tap per error kind, over DEFAULT_RECOVERY (the original system's
   * runtime error table). Only the kinds given here change.
   */
  recovery: z
    .object({
      runtime: decision.optional(),
      supervision: decision.optional(),
      configuration: decision.optional(),
      resource: decision.optional(),
      network: decision.optional(),
      persistence: decision.optional(),
      actor: decision.optional(),
      stream: decision.optional(),
      task: decision.optional(),
      event: decision.optional(),
      tool: decision.optional(),
      resilience: decision.optional(),
      agent: decision.optional(),
      cancelled: decision.optional(),
      unknown: decision.optional(),
    })
    .prefault({}),
  /** The phi-accrual detector for children that call `ctx.heartbeat()` (the original defaults). */
  failureDetector: z
    .object({
      threshold: z.number().positive().default(10),
      windowSize: z.number().int().min(1).max(10_000).default(100),
      checkIntervalMs: z.number().int().min(1).default(1000),
    })
    .prefault({}),
  /** Register a health check per root tree when the health plugin is loaded. */
  healthChecks: z.boolean().default(true),
});

export type SupervisionOptions = z.output<typeof SupervisionOptionsSchema>;
