/**
 * Approves the demo's tool calls that need approval after a short delay, so `npm start` never
 * waits for a person. Turn it off (`"enabled": false`, or `MISTER_SMITH__PLUGINS__APPROVER__ENABLED=false`)
 * and the calls wait for the Allow/Deny buttons on the dashboard instead.
 *
 * With durable runs it answers `agent.run.suspended` (reason `approval`) with `agents.approve`,
 * including runs a killed process left suspended; with an agents build that has no `approve` it
 * answers the tool bus's approval hook for the same tools.
 */
import { definePlugin, z } from '../../sdk/index.js';
import { sleep } from '../../sdk/util/index.js';
import type {} from '../../plugins/agents/types.js';
import type { StoredEvent, Subscription } from '../../plugins/events/types.js';
import type {} from '../../plugins/tools/types.js';

interface ApprovingAgents {
  approve?(runId: string, callId: string, decision: 'allow' | 'deny'): Promise<void>;
  runs?(filter?: { status?: string }): ReadonlyArray<{ runId: string; pending?: ReadonlyArray<{ callId: string; reason: string }> }>;
}

export default definePlugin({
  name: 'approver',
  version: '1.0.0',
  description: 'Auto-approves tool calls that need approval, after a delay (demo only)',
  dependsOn: ['agents', 'tools', 'events'],
  options: z.object({
    enabled: z.boolean().default(true),
    /** How long a call waits before it is allowed: long enough to see it on the dashboard. */
    delayMs: z.number().int().nonnegative().default(1_500),
    /** Tool names (exact, or a prefix ending in `.*`) this plugin answers for when the agents service has no `approve`. */
    tools: z.array(z.string().min(1)).default(['report.*']),
  }),
  setup(ctx) {
    if (!ctx.options.enabled) return;
    const { delayMs } = ctx.options;
    const agents = ctx.resolve('agents') as unknown as ApprovingAgents;
    const events = ctx.resolve('events');
    const log = ctx.logger;
    const approve = agents.approve?.bind(agents);

    if (approve === undefined) {
      const matches = (tool: string): boolean => ctx.options.tools.some((p) => (p.endsWith('.*') ? tool.startsWith(p.slice(0, -1)) : tool === p));
      ctx.resolve('tools').hooks.approve.tapPromise('approver', async (request) => {
        if (!matches(request.tool)) return undefined;
        await sleep(delayMs, ctx.signal);
        log.info({ tool: request.tool, callId: request.callId }, 'auto-approved');
        return 'allow';
      });
      return;
    }

    const decided = new Set<string>();
    const later = (runId: string, callId: string): void => {
      const key = `${runId}/${callId}`;
      if (decided.has(key)) return;
      decided.add(key);
      void sleep(delayMs, ctx.signal)
        .then(() => approve(runId, callId, 'allow'))
        .then(
          () => log.info({ runId, callId }, 'auto-approved'),
          // Decided meanwhile (on the dashboard), or the kernel is stopping: nothing to do.
          (error: unknown) => log.debug({ err: error, runId, callId }, 'auto-approval skipped'),
        );
    };
    let subscription: Subscription | undefined;
    ctx.onStart(() => {
      subscription = events.subscribe('agent.run.suspended', (e: StoredEvent) => {
        const data = e.data as { callId?: string; reason?: string };
        if (data.reason === 'approval' && data.callId !== undefined && e.correlationId !== undefined) later(e.correlationId, data.callId);
      });
      // Runs a killed process left waiting.
      for (const run of agents.runs?.({ status: 'suspended' }) ?? []) {
        for (const p of run.pending ?? []) if (p.reason === 'approval') later(run.runId, p.callId);
      }
    });
    ctx.onStop(async () => {
      await subscription?.unsubscribe();
    });
  },
});
