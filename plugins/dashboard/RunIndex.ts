/**
 * Runs and pending approvals rebuilt from the agents' journal on the event log (the
 * `agent.run.* / agent.model.* / agent.tool.*` records, correlation id = run id). Reading the
 * journal rather than the agents service keeps the page right after a restart (runs of earlier
 * processes are on the log too) and works against any agents build that journals its runs.
 */
import type { StoredEvent } from '../events/types.js';
import { clip } from './clip.js';
import type { PendingApproval, RunStep, RunSummary, RunUsageView } from './types.js';

interface MutableRun {
  runId: string;
  agent: string;
  status: string;
  parentRunId: string | undefined;
  startedAt: string;
  endedAt: string | undefined;
  input: string | undefined;
  output: string | undefined;
  error: { code: string; message: string } | undefined;
  usage: { inputTokens: number; outputTokens: number; toolCalls: number; turns: number; costUsd: number };
  /** Final usage as the run reported it (it may include sub-runs): wins over the sum of its steps. */
  reported: Partial<RunUsageView> | undefined;
  /** Tool calls by call id, from model responses and `tool.called`, to name what an approval is for. */
  calls: Map<string, { name: string; input: unknown }>;
  approvals: Map<string, PendingApproval>;
  children: string[];
}

type Data = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

export class RunIndex {
  readonly #runs = new Map<string, MutableRun>();
  readonly #maxRuns: number;

  constructor(maxRuns: number) {
    this.#maxRuns = maxRuns;
  }

  /** True for the events this index reads (so callers can skip the rest cheaply). */
  static wants(type: string): boolean {
    return type.startsWith('agent.');
  }

  /** Applies one journal record; returns the run id it changed, if any. */
  apply(event: StoredEvent): string | undefined {
    const runId = event.correlationId;
    if (runId === undefined || !RunIndex.wants(event.type)) return undefined;
    const data = (event.data ?? {}) as Data;
    let run = this.#runs.get(runId);
    if (event.type === 'agent.run.started' || run === undefined) {
      const agent = str(data.agent) ?? run?.agent ?? 'unknown';
      if (run === undefined) {
        run = {
          runId,
          agent,
          status: 'running',
          parentRunId: str(data.parentRunId),
          startedAt: event.time,
          endedAt: undefined,
          input: data.input === undefined ? undefined : clip(data.input, 200),
          output: undefined,
          error: undefined,
          usage: { inputTokens: 0, outputTokens: 0, toolCalls: 0, turns: 0, costUsd: 0 },
          reported: undefined,
          calls: new Map(),
          approvals: new Map(),
          children: [],
        };
        this.#runs.set(runId, run);
        if (run.parentRunId !== undefined) this.#runs.get(run.parentRunId)?.children.push(runId);
        this.#evict();
      }
      if (event.type === 'agent.run.started') return runId;
    }
    switch (event.type) {
      case 'agent.run.queued':
        run.status = 'queued';
        break;
      case 'agent.model.responded': {
        this.#addUsage(run, data.usage, data.costUsd);
        run.usage.turns++;
        const calls = Array.isArray(data.toolCalls) ? (data.toolCalls as Data[]) : [];
        for (const call of calls) {
          const id = str(call.id) ?? str(call.callId);
          if (id !== undefined) run.calls.set(id, { name: str(call.name) ?? '?', input: call.input });
        }
        break;
      }
      case 'agent.tool.called': {
        run.usage.toolCalls++;
        const callId = str(data.callId);
        if (callId !== undefined) run.calls.set(callId, { name: str(data.name) ?? '?', input: data.input });
        break;
      }
      case 'agent.tool.returned': {
        const callId = str(data.callId);
        if (callId !== undefined) run.approvals.delete(callId);
        break;
      }
      case 'agent.step': // the first agents build journaled one `agent.step` per model turn or tool call
        if (data.type === 'model') {
          this.#addUsage(run, data.usage, data.costUsd);
          run.usage.turns++;
        } else if (data.type === 'tool') run.usage.toolCalls++;
        break;
      case 'agent.run.suspended': {
        run.status = 'suspended';
        const callId = str(data.callId);
        if (callId !== undefined && data.reason === 'approval') {
          const named = str(data.name) ?? str(data.tool);
          const call = run.calls.get(callId) ?? (named !== undefined ? { name: named, input: data.input } : undefined);
          run.approvals.set(callId, {
            runId,
            agent: run.agent,
            callId,
            ...(call !== undefined ? { tool: call.name, input: call.input } : {}),
            since: event.time,
          });
        }
        break;
      }
      case 'agent.run.resumed':
        run.status = 'running';
        break;
      case 'agent.approval.decided': {
        const callId = str(data.callId);
        if (callId !== undefined) run.approvals.delete(callId);
        break;
      }
      case 'agent.run.completed':
        this.#finish(run, 'completed', event.time, data);
        run.output = data.output === undefined ? undefined : clip(data.output, 400);
        break;
      case 'agent.run.failed':
        this.#finish(run, 'failed', event.time, data);
        run.error = { code: str(data.code) ?? 'UNKNOWN', message: clip(data.message ?? '', 300) };
        break;
      case 'agent.run.cancelled':
        this.#finish(run, 'cancelled', event.time, data);
        break;
      case 'agent.run.interrupted':
        if (!FINISHED.has(run.status)) run.status = data.action === 'resume' ? 'running' : 'interrupted';
        break;
      default:
        break;
    }
    return runId;
  }

  /** Run summaries, newest first, optionally filtered. */
  list(filter: { agent?: string | undefined; status?: string | undefined } = {}): RunSummary[] {
    const out: RunSummary[] = [];
    for (const run of this.#runs.values()) {
      if (filter.agent !== undefined && run.agent !== filter.agent) continue;
      if (filter.status !== undefined && run.status !== filter.status) continue;
      out.push(this.#summary(run));
    }
    return out.reverse();
  }

  get(runId: string): RunSummary | undefined {
    const run = this.#runs.get(runId);
    return run === undefined ? undefined : this.#summary(run);
  }

  children(runId: string): RunSummary[] {
    const run = this.#runs.get(runId);
    if (run === undefined) return [];
    return run.children.flatMap((id) => {
      const child = this.#runs.get(id);
      return child === undefined ? [] : [this.#summary(child)];
    });
  }

  approvals(): PendingApproval[] {
    const out: PendingApproval[] = [];
    for (const run of this.#runs.values()) if (!FINISHED.has(run.status)) out.push(...run.approvals.values());
    return out;
  }

  get size(): number {
    return this.#runs.size;
  }

  #addUsage(run: MutableRun, usage: unknown, costUsd: unknown): void {
    const u = (usage ?? {}) as Data;
    run.usage.inputTokens += num(u.inputTokens);
    run.usage.outputTokens += num(u.outputTokens);
    run.usage.costUsd += num(costUsd);
  }

  #finish(run: MutableRun, status: string, time: string, data: Data): void {
    run.status = status;
    run.endedAt = time;
    run.approvals.clear();
    if (data.usage !== null && typeof data.usage === 'object') run.reported = data.usage as Partial<RunUsageView>;
  }

  #summary(run: MutableRun): RunSummary {
    const u = run.usage;
    const r = run.reported;
    const inputTokens = r?.inputTokens ?? u.inputTokens;
    const outputTokens = r?.outputTokens ?? u.outputTokens;
    const usage: RunUsageView = {
      inputTokens,
      outputTokens,
      totalTokens: r?.totalTokens ?? inputTokens + outputTokens,
      toolCalls: r?.toolCalls ?? u.toolCalls,
      turns: r?.turns ?? u.turns,
      costUsd: r?.costUsd ?? u.costUsd,
    };
    return {
      runId: run.runId,
      agent: run.agent,
      status: run.status,
      ...(run.parentRunId !== undefined ? { parentRunId: run.parentRunId } : {}),
      startedAt: run.startedAt,
      ...(run.endedAt !== undefined ? { endedAt: run.endedAt } : {}),
      ...(run.input !== undefined ? { input: run.input } : {}),
      ...(run.output !== undefined ? { output: run.output } : {}),
      ...(run.error !== undefined ? { error: run.error } : {}),
      usage,
      pendingApprovals: run.approvals.size,
    };
  }

  /** Forgets the oldest finished runs past `maxRuns` (runs in flight are always kept). */
  #evict(): void {
    if (this.#runs.size <= this.#maxRuns) return;
    for (const [id, run] of this.#runs) {
      if (this.#runs.size <= this.#maxRuns) break;
      if (FINISHED.has(run.status)) this.#runs.delete(id);
    }
  }
}

/** Turns a run's journal into the step list the detail view shows. */
export function toSteps(events: readonly StoredEvent[]): RunStep[] {
  const steps: RunStep[] = [];
  const toolNames = new Map<string, string>();
  for (const event of events) {
    if (!event.type.startsWith('agent.')) continue;
    const data = (event.data ?? {}) as Data;
    const base = { sequence: event.sequence, time: event.time, kind: event.type.slice('agent.'.length) };
    const turn = typeof data.turn === 'number' ? { turn: data.turn } : {};
    const callId = str(data.callId) !== undefined ? { callId: str(data.callId)! } : {};
    const error = data.error !== null && typeof data.error === 'object' ? (data.error as Data) : undefined;
    let text: string | undefined;
    let tool: string | undefined;
    switch (event.type) {
      case 'agent.run.started':
        text = clip(data.input, 300);
        break;
      case 'agent.model.responded': {
        const calls = Array.isArray(data.toolCalls) ? (data.toolCalls as Data[]) : [];
        text = data.reply !== undefined && data.reply !== null ? clip(data.reply, 300) : calls.length > 0 ? `asks for ${calls.map((c) => str(c.name) ?? '?').join(', ')}` : undefined;
        break;
      }
      case 'agent.tool.called':
        tool = str(data.name);
        if (tool !== undefined && str(data.callId) !== undefined) toolNames.set(str(data.callId)!, tool);
        text = clip(data.input, 300);
        break;
      case 'agent.tool.returned':
        tool = str(data.name) ?? toolNames.get(str(data.callId) ?? '');
        text = error === undefined ? clip(data.output, 300) : undefined;
        break;
      case 'agent.step':
        tool = str(data.name);
        text = data.type === 'model' ? clip(data.reply ?? `${num(data.toolCalls)} tool call(s)`, 300) : clip(data.output ?? data.input, 300);
        break;
      case 'agent.run.suspended':
        text = `waiting: ${str(data.reason) ?? '?'}`;
        break;
      case 'agent.run.completed':
        text = clip(data.output, 300);
        break;
      case 'agent.run.failed':
        text = `${str(data.code) ?? ''} ${clip(data.message ?? '', 280)}`.trim();
        break;
      default:
        break;
    }
    steps.push({
      ...base,
      ...turn,
      ...callId,
      ...(tool !== undefined ? { tool } : {}),
      ...(text !== undefined && text !== '' ? { text } : {}),
      ...(error !== undefined ? { error: { code: str(error.code) ?? 'ERROR', message: clip(error.message ?? '', 300) } } : {}),
    });
  }
  return steps;
}
