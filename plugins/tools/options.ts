/** Options of the tools plugin; `{}` validates (every field has a default). */
import { z } from '../../sdk/index.js';
import { isPattern } from './patterns.js';

const pattern = z.string().refine(isPattern, { message: "expected a tool pattern: an exact name ('fs.read'), 'ns.*' or '*'" });

export const toolsOptions = z.object({
  /** Handler deadline when neither the call nor the tool sets one (ms). */
  defaultTimeoutMs: z.number().int().positive().default(30_000),
  /** Allow patterns per agent id (`'*'` as agent id: every agent). */
  grants: z.record(z.string(), z.array(pattern)).default({}),
  /** Deny patterns per agent id; a deny wins over any grant. */
  deny: z.record(z.string(), z.array(pattern)).default({}),
  /** Replay of completed calls by `callId`. `capacity: 0` turns it off. */
  idempotency: z
    .object({
      capacity: z.number().int().nonnegative().default(10_000),
      ttlMs: z.number().int().positive().default(600_000),
    })
    .prefault({}),
  /** Per-tool overrides by tool name: a resilience `policy` name and a `timeoutMs`. */
  tools: z
    .record(
      z.string(),
      z.object({
        policy: z.string().min(1).optional(),
        timeoutMs: z.number().int().positive().optional(),
      }),
    )
    .default({}),
  /** Longest delegation chain accepted; deeper agent-as-tool hops are denied. */
  maxDelegationDepth: z.number().int().positive().default(8),
  /** Time one call in this many per tool for latency stats (1 = every call); counts are exact. */
  latencySampleEvery: z.number().int().positive().default(8),
});

export type ToolsOptions = z.output<typeof toolsOptions>;
