/** A model provider that plays scripts from the config: offline agents for examples and tests. */
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../agents/types.js';
import { ScriptedProvider, type ScriptTurn } from './ScriptedProvider.js';

const FailSchema = z.union([
  z.string(),
  z.strictObject({
    message: z.string(),
    code: z.string().optional(),
    retryable: z.boolean().optional(),
    retryAfterMs: z.number().int().nonnegative().optional(),
    times: z.number().int().positive().optional(),
  }),
]);

const StepSchema = z
  .strictObject({
    reply: z.string().optional(),
    toolCalls: z.array(z.strictObject({ id: z.string().optional(), name: z.string().min(1), input: z.unknown() })).optional(),
    usage: z.strictObject({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() }).optional(),
    costUsd: z.number().nonnegative().optional(),
    delayMs: z.number().int().nonnegative().optional(),
    fail: FailSchema.optional(),
    match: z.string().min(1).optional(),
    providerSessionId: z.string().optional(),
  })
  .refine((s) => s.reply !== undefined || s.toolCalls !== undefined || s.fail !== undefined, 'a step needs a reply, toolCalls or fail');

const TurnSchema = z.union([StepSchema, z.array(StepSchema).min(1)]);

export const ScriptedOptionsSchema = z.strictObject({
  /** Scripts by model name: turn N of a run answers with entry N (a step, or alternatives picked by `match`). */
  scripts: z.record(z.string(), z.array(TurnSchema)).default({}),
  /** The provider name agents refer to. */
  name: z.string().min(1).default('scripted'),
});

export default definePlugin({
  name: 'provider-scripted',
  version: '2.0.0',
  description: 'Offline model provider that plays scripted turns',
  kernel: '^1.0.0',
  dependsOn: ['agents'],
  options: ScriptedOptionsSchema,
  setup(ctx) {
    const unregister = ctx.resolve('agents').registerProvider(new ScriptedProvider(ctx.options.scripts as Record<string, ScriptTurn[]>, ctx.options.name));
    ctx.onStop(() => unregister());
  },
});

export { ScriptedProvider } from './ScriptedProvider.js';
export { ScriptedErrorCodes } from './errors.js';
export type { ScriptFailure, ScriptStep, ScriptTurn } from './ScriptedProvider.js';
