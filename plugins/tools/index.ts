/** The tools plugin: the permissioned ToolBus, provided as the `tools` service. */
import { definePlugin } from '../../sdk/index.js';
import type {} from '../events/types.js';
import type { HealthService } from '../health/types.js';
import type {} from '../resilience/types.js';
import { toolsOptions } from './options.js';
import { ToolBus } from './ToolBus.js';

export default definePlugin({
  name: 'tools',
  version: '1.0.0',
  description: 'ToolBus: zod-typed tools, deny-by-default grants, approval, middleware, agent-as-tool',
  optionalDependsOn: ['resilience', 'events', 'health', 'actors'],
  options: toolsOptions,
  setup(ctx) {
    const o = ctx.options;
    const bus = new ToolBus({
      defaultTimeoutMs: o.defaultTimeoutMs,
      idempotency: o.idempotency,
      tools: o.tools,
      maxDelegationDepth: o.maxDelegationDepth,
      latencySampleEvery: o.latencySampleEvery,
      metrics: ctx.metrics,
      logger: ctx.logger,
      events: ctx.tryResolve('events'),
      resilience: ctx.tryResolve('resilience'),
    });
    for (const [agentId, patterns] of Object.entries(o.grants)) bus.grant(agentId, patterns);
    for (const [agentId, patterns] of Object.entries(o.deny)) bus.permissions.deny(agentId, patterns);
    ctx.provide('tools', bus, { dispose: () => bus.close() });
    // Services provided after our setup (unusual, but allowed) are picked up at start.
    ctx.onStart(() => bus.attach({ events: ctx.tryResolve('events'), resilience: ctx.tryResolve('resilience') }));
    ctx.onStop(() => bus.close('the kernel is stopping'));
    const health: HealthService | undefined = ctx.tryResolve('health');
    health?.register('tools', () => ({ status: 'healthy', details: { tools: bus.stats().length, inFlight: bus.inFlight } }), { kind: 'live' });
  },
});

export { ToolBus } from './ToolBus.js';
export type { ToolBusOptions, ToolOverride } from './ToolBus.js';
export { agentAsTool } from './agentAsTool.js';
export { MAX_TIMEOUT_MS } from './callOptions.js';
export { ToolErrorCodes } from './errors.js';
export type { ToolErrorCode } from './errors.js';
export { isPattern, isToolName, matches, MAX_TOOL_NAME_LENGTH } from './patterns.js';
export { toolsOptions } from './options.js';
export type { ToolsOptions } from './options.js';
export type {
  AgentPermissions,
  AgentToolSpec,
  ApprovalDecision,
  ApprovalRequest,
  CallOptions,
  JsonSchema,
  NestedCallOptions,
  ToolCallContext,
  ToolCallMessage,
  ToolContext,
  ToolDefinition,
  ToolDescription,
  ToolHooks,
  ToolInfo,
  ToolMiddleware,
  ToolPermissions,
  ToolStats,
} from './types.js';
