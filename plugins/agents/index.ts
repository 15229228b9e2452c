/**
 * The agents plugin: LLM agents whose runs are durable — journaled step by step in the event log,
 * resumed exactly after a crash or a restart — run as supervised actors, within budgets, with
 * approvals that suspend a run until a human decides.
 */
import { definePlugin } from '../../sdk/index.js';
import type {} from '../actors/types.js';
import type {} from '../events/types.js';
import type {} from '../health/types.js';
import type {} from '../http/types.js';
import type {} from '../resilience/types.js';
import type {} from '../tools/types.js';
import { AgentService } from './AgentService.js';
import { mountRoutes } from './routes.js';
import { AgentsOptionsSchema } from './options.js';
import { runsCommand } from './runsCommand.js';

export default definePlugin({
  name: 'agents',
  version: '2.0.0',
  description: 'LLM agents with durable, resumable runs journaled in the event log',
  kernel: '^1.0.0',
  dependsOn: ['actors', 'tools'],
  optionalDependsOn: ['events', 'health', 'http', 'resilience'],
  options: AgentsOptionsSchema,
  commands: { runs: runsCommand },
  setup(ctx) {
    const service = new AgentService({
      actors: ctx.resolve('actors'),
      tools: ctx.resolve('tools'),
      events: ctx.tryResolve('events'),
      resilience: ctx.tryResolve('resilience'),
      logger: ctx.logger,
      metrics: ctx.metrics,
      signal: ctx.signal,
      options: ctx.options,
    });
    ctx.provide('agents', service);
    ctx.onStart(async () => {
      // Providers register in their own setup, which has run by now: a missing one is a start error.
      for (const definition of ctx.options.agents) service.define(definition);
      service.checkProviders();
      await service.recover(ctx.options.recovery, (work, label) => void ctx.track(work, label));
    });
    ctx.onStop(async (signal) => {
      // The kernel's signal has told every loop to let go; runs stay unfinished in the journal.
      await service.drain(signal);
    });
    const http = ctx.options.http ? ctx.tryResolve('http') : undefined;
    if (http !== undefined) {
      const unmount = mountRoutes(http, service);
      ctx.onStop(() => unmount());
    }
    ctx.tryResolve('health')?.register('agents', () => service.health(), { kind: 'ready' });
  },
});

export { AgentService } from './AgentService.js';
export { AgentDefinitionSchema, AgentsOptionsSchema, DEFAULT_RUN_TIMEOUT_MS } from './options.js';
export { AgentErrorCodes, TOOL_OUTCOME_UNKNOWN, TOOL_REJECTED } from './errors.js';
export { formatRunsTable, formatRunTree, foldRuns, runsCommand } from './runsCommand.js';
export type * from './types.js';
