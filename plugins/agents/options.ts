/**
 * The plugin's options and an agent definition's schema (zod v4, strict: an unknown key — a
 * misspelt budget, say — is a config error, never silently dropped).
 */
import { z } from '../../sdk/index.js';

export const DEFAULT_RUN_TIMEOUT_MS = 300_000;

const budgetSchema = z.strictObject({
  maxTokens: z.number().int().positive().optional(),
  maxToolCalls: z.number().int().nonnegative().optional(),
  maxCostUsd: z.number().nonnegative().optional(),
  maxWallMs: z.number().int().positive().optional(),
});

/** A zod schema given in code (structured output); checked by shape, not by class identity. */
const zodSchema = z.custom<z.ZodType>((v) => typeof v === 'object' && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function');

/** An agent as written in the plugin options or passed to `agents.define`. */
export const AgentDefinitionSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'letters, digits, _ . - (starting with a letter or digit)'),
  provider: z.string().min(1),
  model: z.string().min(1),
  instructions: z.string().default(''),
  tools: z.array(z.string().min(1)).default([]),
  maxTurns: z.number().int().positive().default(8),
  maxConcurrentRuns: z.number().int().positive().default(8),
  maxQueuedRuns: z.number().int().nonnegative().default(100),
  onInDoubt: z.enum(['error', 'suspend', 'retry']).default('error'),
  budget: budgetSchema.default({}),
  timeoutMs: z.number().int().positive().default(DEFAULT_RUN_TIMEOUT_MS),
  /** Structured output: a JSON Schema (object) or, from code, a zod schema. */
  output: z.union([zodSchema, z.record(z.string(), z.unknown())]).optional(),
  providerPolicy: z.string().min(1).optional(),
});

export type ParsedAgentDefinition = z.output<typeof AgentDefinitionSchema>;

const priceSchema = z.strictObject({
  /** USD per million input tokens. */
  inputPerMTok: z.number().nonnegative(),
  /** USD per million output tokens. */
  outputPerMTok: z.number().nonnegative(),
});

export const AgentsOptionsSchema = z.strictObject({
  /** Agents to define at start. */
  agents: z.array(AgentDefinitionSchema).default([]),
  /**
   * Runs the event log shows unfinished at start: `report` them (`agent.run.interrupted`-free: they
   * are listed by `interruptedRuns()`), or `resume` them from their journal.
   */
  recovery: z.enum(['report', 'resume']).default('report'),
  /** Costs per model for providers that report none (`maxCostUsd`, the cost metric). */
  prices: z.record(z.string(), priceSchema).default({}),
  /** A resilience policy for provider calls when the resilience plugin is loaded (an agent's `providerPolicy` wins). */
  providerPolicy: z.string().min(1).optional(),
  /** Built-in retry of retryable provider errors when no policy applies: retries after the first attempt. */
  providerRetries: z.number().int().min(0).max(10).default(2),
  /** Cap on one built-in retry delay (a server's `retryAfterMs` beyond it is cut to it). */
  providerRetryMaxDelayMs: z.number().int().min(0).default(30_000),
  /** Finished runs whose summaries stay in memory for `runs()` (oldest dropped first). */
  retainRuns: z.number().int().positive().default(10_000),
  /** Restarts of one run's actor before the run fails with `AGENT_CRASHED`. */
  maxRunRestarts: z.number().int().min(0).default(3),
  /** `start` hands runs to an attached scheduler (`attachScheduler`) instead of running them here. */
  distributed: z.boolean().default(false),
  /** Mount the HTTP routes when the http plugin is loaded. */
  http: z.boolean().default(true),
});

export type AgentsOptions = z.output<typeof AgentsOptionsSchema>;
