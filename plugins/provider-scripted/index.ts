/** A model provider that plays scripts from the config: offline agents for examples and tests. */
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../agents/types.js';
import { ScriptedProvider } from './ScriptedProvider.js';

const StepSchema = z
  .object({
    reply: z.string().optional(),
    toolCalls: z.array(z.object({ id: z.string().optional(), name: z.string().min(1), input: z.unknown() })).optional(),
    usage: z.object({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() }).optional(),
    delayMs: z.number().int().nonnegative().optional(),
    fail: z.string().optional(),
  })
  .refine((s) => s.reply !== undefined || s.toolCalls !== undefined || s.fail !== undefined, 'a step needs a reply, toolCalls or fail');

export const ScriptedOptionsSchema = z.object({
  /** Scripts by model name: the steps one run goes through, in order. */
  scripts: z.record(z.string(), z.array(StepSchema)).default({}),
  /** The provider name agents refer to. */
  name: z.string().min(1).default('scripted'),
});

export default definePlugin({
  name: 'provider-scripted',
  version: '1.0.0',
  description: 'Offline model provider that plays scripted turns',
  kernel: '^1.0.0',
  dependsOn: ['agents'],
  options: ScriptedOptionsSchema,
  setup(ctx) {
    const unregister = ctx.resolve('agents').registerProvider(new ScriptedProvider(ctx.options.scripts, ctx.options.name));
    ctx.onStop(() => unregister());
  },
});

export { ScriptedProvider } from './ScriptedProvider.js';
export type { ScriptStep } from './ScriptedProvider.js';
