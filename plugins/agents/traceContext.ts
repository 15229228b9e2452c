/**
 * Which trace context each effect of a run carries. The agents plugin knows no trace ids: it asks
 * `agents.hooks.traceparent` (tapped by the otel plugin) for a scope, and only while the hook is
 * tapped, so a system without tracing builds no scope objects at all.
 */
import type { AgentHooks, JournalRecordType, TraceScope } from './types.js';

type Hook = AgentHooks['traceparent'];

/** What of a run's start decides its trace: its parent run, and the caller's span it continues. */
export interface RunLineage {
  readonly parentRunId?: string;
  readonly parentTraceparent?: string;
}

function base(runId: string, lineage: RunLineage | undefined): { runId: string; parentRunId?: string; parentTraceparent?: string } {
  const scope: { runId: string; parentRunId?: string; parentTraceparent?: string } = { runId };
  if (lineage?.parentRunId !== undefined) scope.parentRunId = lineage.parentRunId;
  if (lineage?.parentTraceparent !== undefined) scope.parentTraceparent = lineage.parentTraceparent;
  return scope;
}

/** The scope a journal record belongs to: its tool call, its model call, else its run. */
function recordScope(runId: string, lineage: RunLineage | undefined, type: JournalRecordType, data: Record<string, unknown>, requestId: string | undefined): TraceScope {
  if ((type === 'agent.tool.called' || type === 'agent.tool.returned') && typeof data.callId === 'string') {
    return { kind: 'tool', ...base(runId, lineage), busCallId: `${runId}:${data.callId}` };
  }
  if (type === 'agent.model.responded' && requestId !== undefined) return { kind: 'model', ...base(runId, lineage), requestId };
  return { kind: 'run', ...base(runId, lineage) };
}

/** The `traceparent` of a record about to be journaled; undefined when nothing traces. */
export function recordTraceparent(
  hook: Hook,
  runId: string,
  lineage: RunLineage | undefined,
  type: JournalRecordType,
  data: Record<string, unknown>,
  requestId: string | undefined,
): string | undefined {
  return hook.isUsed() ? hook.call(recordScope(runId, lineage, type, data, requestId)) : undefined;
}

/** The `traceparent` of a model call (named by its `agent.model.requested` record). */
export function modelTraceparent(hook: Hook, runId: string, lineage: RunLineage | undefined, requestId: string | undefined): string | undefined {
  if (!hook.isUsed() || requestId === undefined) return undefined;
  return hook.call({ kind: 'model', ...base(runId, lineage), requestId });
}

/** The `traceparent` of a tool call (named by its bus call id). */
export function toolTraceparent(hook: Hook, runId: string, lineage: RunLineage | undefined, busCallId: string): string | undefined {
  if (!hook.isUsed()) return undefined;
  return hook.call({ kind: 'tool', ...base(runId, lineage), busCallId });
}
