/**
 * The agents plugin: LLM agents as supervised actors that act through the tool bus, within turn,
 * token and tool-call budgets, with every step on the event log.
 */
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../actors/types.js';
import type {} from '../events/types.js';
import type {} from '../tools/types.js';
import { AgentDefinitionSchema, AgentService } from './AgentService.js';

export const AgentsOptionsSchema = z.object({
  /** Agents to define at setup. */
  agents: z.array(AgentDefinitionSchema).default([]),
  /** What to do at start with runs the event log shows as started but never finished. */
  recovery: z.enum(['report', 'resume']).default('report'),
  /** Runs that may wait for one agent before `run` fails with ACTOR_MAILBOX_FULL. */
  mailboxCapacity: z.number().int().positive().default(100),
});

export default definePlugin({
  name: 'agents',
  version: '1.0.0',
  description: 'LLM agents as supervised actors acting through the tool bus',
  kernel: '^1.0.0',
  dependsOn: ['actors', 'tools'],
  optionalDependsOn: ['events', 'health'],
  options: AgentsOptionsSchema,
  setup(ctx) {
    const service = new AgentService({
      actors: ctx.resolve('actors'),
      tools: ctx.resolve('tools'),
      events: ctx.tryResolve('events'),
      logger: ctx.logger,
      metrics: ctx.metrics,
      signal: ctx.signal,
      mailboxCapacity: ctx.options.mailboxCapacity,
    });
    ctx.provide('agents', service);
    ctx.onStart(async () => {
      // Providers register in their own setup, which has run by now: a missing one is a start error.
      for (const definition of ctx.options.agents) service.define(definition);
      service.checkProviders();
      await service.recover(ctx.options.recovery, (work, label) => void ctx.track(work, label));
    });
    ctx.tryResolve('health')?.register('agents', () => ({ status: 'healthy', details: { agents: service.list().length } }), { kind: 'ready' });
  },
});

export { AgentDefinitionSchema, AgentService, DEFAULT_RUN_TIMEOUT_MS } from './AgentService.js';
export { AgentErrorCodes } from './errors.js';
export { runAgent } from './runAgent.js';
export type * from './types.js';
