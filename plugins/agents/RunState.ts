/**
 * A run rebuilt from its journal: a pure fold of its records. The run loop applies each record it
 * stores to the same fold, so a run resumed from the log and a run that never stopped are in the
 * same state after the same records — the heart of exact resume.
 */
import type { AgentStep, ChatMessage, JournalRecord, RunStatus, RunSummary, RunUsage, TokenUsage, ToolCallRequest } from './types.js';

/** A tool call of the run, as far as the journal knows it. */
export interface CallState {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
  readonly turn: number;
  /** `agent.tool.called` is stored: the tool may have run. */
  called: boolean;
  /** `agent.tool.returned` is stored. */
  result: { readonly output?: unknown; readonly error?: { readonly code: string; readonly message: string } } | undefined;
  /** An approval decision recorded by `agents.approve` (on `agent.run.resumed`) before the call ran. */
  decision: 'allow' | 'deny' | undefined;
  /** A decision on the call once it was in doubt (called, never returned). */
  inDoubtDecision: 'allow' | 'deny' | undefined;
  /** Why the run last suspended on this call (cleared by a decision). */
  suspended: 'approval' | 'in-doubt' | undefined;
}

export interface StartedData {
  readonly agent: string;
  readonly input: string;
  readonly parentRunId?: string;
  readonly sessionId?: string;
  /** The run of the same session this one continues (its conversation comes first). */
  readonly previousRunId?: string;
  readonly delegation?: readonly string[];
  /** Agents in the chain of parent runs, outermost first (recursion check). */
  readonly chain?: readonly string[];
  readonly timeoutMs?: number;
  /** The caller's span the run continues (`RunOptions.traceparent`). */
  readonly parentTraceparent?: string;
}

export interface RespondedData {
  readonly turn: number;
  readonly reply?: string;
  readonly toolCalls: readonly ToolCallRequest[];
  readonly usage: TokenUsage;
  readonly costUsd?: number;
  readonly providerSessionId?: string;
}

export function emptyUsage(): RunUsage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0, toolCalls: 0, turns: 0, costUsd: 0 };
}

export function addUsage(a: RunUsage, b: RunUsage): RunUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    toolCalls: a.toolCalls + b.toolCalls,
    turns: a.turns + b.turns,
    costUsd: a.costUsd + b.costUsd,
  };
}

export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}

export class RunState {
  readonly runId: string;
  agent = '';
  input = '';
  started: StartedData | undefined;
  startedAt = '';
  status: RunStatus = 'queued';
  /** The id of the last record applied: the next record's causation id. */
  lastId: string | undefined;
  /** The conversation of earlier runs of the session, set before the first record is applied. */
  history: readonly ChatMessage[] = [];
  /** This run's own messages. */
  readonly messages: ChatMessage[] = [];
  readonly steps: AgentStep[] = [];
  /** Model responses stored so far: the next model call asks for this turn. */
  turn = 0;
  /** A `model.requested` stored without its response (the request is repeated on resume). */
  pendingRequest: number | undefined;
  /** The id of that `model.requested` record (it names the model call's span when tracing). */
  pendingRequestId: string | undefined;
  #inputTokens = 0;
  #outputTokens = 0;
  #toolCalls = 0;
  #costUsd = 0;
  readonly calls = new Map<string, CallState>();
  /** Calls of the last response still waiting for results, in the order the model asked. */
  openTurn: CallState[] | undefined;
  /** The last response was a final reply that no terminal record followed yet (structured output re-ask). */
  finalReply: { readonly turn: number; readonly reply: string } | undefined;
  /** Structured-output re-asks made. */
  reasks = 0;
  providerSessionId: string | undefined;
  terminal: JournalRecord | undefined;
  /** `agent.run.resumed` records applied. */
  resumes = 0;
  /** Active time before the current active stretch (ms). */
  activeMsBefore = 0;
  /** Start of the current active stretch (epoch ms); undefined while suspended or finished. */
  activeSince: number | undefined;
  records = 0;

  constructor(runId: string) {
    this.runId = runId;
  }

  get usage(): RunUsage {
    return {
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      totalTokens: this.#inputTokens + this.#outputTokens,
      toolCalls: this.#toolCalls,
      turns: this.turn,
      costUsd: this.#costUsd,
    };
  }

  /** The conversation a model request sends: the session's history, then this run's messages. */
  conversation(): ChatMessage[] {
    return this.history.length === 0 ? [...this.messages] : [...this.history, ...this.messages];
  }

  /** Active wall time so far. */
  activeMs(now: number): number {
    return this.activeMsBefore + (this.activeSince === undefined ? 0 : Math.max(0, now - this.activeSince));
  }

  /** Calls waiting for a decision (`agents.approve`). */
  pending(): CallState[] {
    const out: CallState[] = [];
    for (const call of this.calls.values()) if (call.suspended !== undefined && call.result === undefined) out.push(call);
    return out;
  }

  apply(record: JournalRecord): void {
    this.records++;
    this.lastId = record.id;
    const data = record.data as Record<string, unknown>;
    switch (record.type) {
      case 'agent.run.started': {
        const started = data as unknown as StartedData;
        this.started = started;
        this.agent = started.agent;
        this.input = started.input;
        this.startedAt = record.time;
        this.status = 'running';
        this.activeSince = Date.parse(record.time);
        this.messages.push({ role: 'user', content: started.input });
        break;
      }
      case 'agent.model.requested': {
        this.pendingRequest = data.turn as number;
        this.pendingRequestId = record.id;
        const reask = data.reask as string | undefined;
        if (reask !== undefined && this.finalReply !== undefined) {
          this.messages.push({ role: 'assistant', content: this.finalReply.reply }, { role: 'user', content: reask });
          this.reasks++;
          this.finalReply = undefined;
        }
        break;
      }
      case 'agent.model.responded': {
        const r = data as unknown as RespondedData;
        this.pendingRequest = undefined;
        this.pendingRequestId = undefined;
        this.turn = r.turn + 1;
        this.#inputTokens += r.usage.inputTokens;
        this.#outputTokens += r.usage.outputTokens;
        this.#costUsd += r.costUsd ?? 0;
        if (r.providerSessionId !== undefined) this.providerSessionId = r.providerSessionId;
        this.steps.push({ type: 'model', turn: r.turn, ...(r.reply !== undefined ? { reply: r.reply } : {}), toolCalls: r.toolCalls.length, usage: r.usage, ...(r.costUsd !== undefined ? { costUsd: r.costUsd } : {}) });
        if (r.toolCalls.length === 0) {
          this.finalReply = { turn: r.turn, reply: r.reply ?? '' };
          break;
        }
        this.messages.push({ role: 'assistant', ...(r.reply !== undefined ? { content: r.reply } : {}), toolCalls: r.toolCalls });
        this.openTurn = r.toolCalls.map((c) => {
          const call: CallState = { id: c.id, name: c.name, input: c.input, turn: r.turn, called: false, result: undefined, decision: undefined, inDoubtDecision: undefined, suspended: undefined };
          this.calls.set(c.id, call);
          return call;
        });
        break;
      }
      case 'agent.tool.called': {
        const call = this.calls.get(data.callId as string);
        if (call !== undefined && !call.called) {
          call.called = true;
          this.#toolCalls++;
        }
        break;
      }
      case 'agent.tool.returned': {
        const call = this.calls.get(data.callId as string);
        if (call === undefined || call.result !== undefined) break;
        call.result = 'error' in data ? { error: data.error as { code: string; message: string } } : { output: data.output };
        call.suspended = undefined;
        this.steps.push({ type: 'tool', turn: call.turn, id: call.id, name: call.name, input: call.input, ...call.result });
        this.#closeTurnIfDone();
        break;
      }
      case 'agent.run.suspended': {
        const call = this.calls.get(data.callId as string);
        if (call !== undefined) call.suspended = data.reason as 'approval' | 'in-doubt';
        if (this.status !== 'suspended' && this.activeSince !== undefined) this.activeMsBefore += Math.max(0, Date.parse(record.time) - this.activeSince);
        this.activeSince = undefined;
        this.status = 'suspended';
        break;
      }
      case 'agent.run.resumed': {
        this.resumes++;
        const callId = data.callId as string | undefined;
        const decision = data.decision as 'allow' | 'deny' | undefined;
        if (callId !== undefined && decision !== undefined) {
          const call = this.calls.get(callId);
          if (call !== undefined) {
            if (call.called) call.inDoubtDecision = decision;
            else call.decision = decision;
            call.suspended = undefined;
          }
        }
        if (this.activeSince === undefined) this.activeSince = Date.parse(record.time);
        this.status = 'running';
        break;
      }
      case 'agent.run.completed':
      case 'agent.run.failed':
      case 'agent.run.cancelled': {
        this.terminal = record;
        this.status = record.type === 'agent.run.completed' ? 'completed' : record.type === 'agent.run.failed' ? 'failed' : 'cancelled';
        if (this.activeSince !== undefined) this.activeMsBefore += Math.max(0, Date.parse(record.time) - this.activeSince);
        this.activeSince = undefined;
        break;
      }
    }
  }

  #closeTurnIfDone(): void {
    const open = this.openTurn;
    if (open === undefined || open.some((c) => c.result === undefined)) return;
    // Results go back to the model in the order it asked for the calls, whatever order they finished in.
    for (const call of open) {
      const result = call.result!;
      this.messages.push({
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content: result.error !== undefined ? stringify({ error: result.error }) : stringify(result.output),
        isError: result.error !== undefined,
      });
    }
    this.openTurn = undefined;
  }

  /** The summary `agents.runs()` lists; `usage` is this run's own (the caller adds sub-runs). */
  summary(endedAt?: string): RunSummary {
    const pending = this.status === 'suspended' ? this.pending() : [];
    const t = this.terminal;
    const error = t?.type === 'agent.run.failed' ? { code: String((t.data as { code?: unknown }).code), message: String((t.data as { message?: unknown }).message) } : undefined;
    return {
      runId: this.runId,
      agent: this.agent,
      status: this.status,
      ...(this.started?.parentRunId !== undefined ? { parentRunId: this.started.parentRunId } : {}),
      ...(this.started?.sessionId !== undefined ? { sessionId: this.started.sessionId } : {}),
      startedAt: this.startedAt,
      ...(t !== undefined ? { endedAt: endedAt ?? t.time } : {}),
      usage: this.usage,
      ...(pending.length > 0 ? { pending: pending.map((c) => ({ callId: c.id, name: c.name, input: c.input, reason: c.suspended! })) } : {}),
      ...(error !== undefined ? { error } : {}),
    };
  }
}
