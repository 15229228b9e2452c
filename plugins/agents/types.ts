/**
 * Public contract of the agents plugin: durable agent runs journaled in the event log, and the
 * provider contract model plugins implement. Providers register a `ModelProvider` with
 * `agents.registerProvider`; agents are defined in the plugin options or with `agents.define`.
 */
import type { SyncBailHook } from 'tapable';
import type { z } from 'zod';
import type { Disposer } from '../../sdk/index.js';
import type { JsonSchema, ToolInfo } from '../tools/types.js';

/** A tool call the model asked for, with the id the run journaled for it. */
export interface ToolCallRequest {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}

/** The conversation as providers see it (a neutral shape; each provider maps it to its API). */
export type ChatMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content?: string; readonly toolCalls?: readonly ToolCallRequest[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly name: string; readonly content: string; readonly isError: boolean };

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** One turn's request to a model. */
export interface ModelRequest {
  readonly runId: string;
  readonly agent: string;
  readonly model: string;
  readonly instructions: string;
  readonly messages: readonly ChatMessage[];
  /** The tools this agent may call, as JSON Schemas (the shape function-calling APIs take). */
  readonly tools: readonly ToolInfo[];
  /** 0 for the first model call of a run; a resumed run asks for the turn it would have asked for. */
  readonly turn: number;
  /** Aborted at the run's deadline, when it is cancelled, or when its process stops. */
  readonly signal: AbortSignal;
  /** The run's session, when it has one. */
  readonly sessionId?: string;
  /** What the provider returned as `providerSessionId` last in this run or session (claude-cli: `--resume`). */
  readonly providerSessionId?: string;
  /**
   * W3C trace context of this model call's span, when otel is loaded: HTTP providers send it as the
   * `traceparent` header, the claude-cli provider as the `TRACEPARENT` environment variable.
   */
  readonly traceparent?: string;
}

/** What the model answered: a final reply, or tool calls to make before asking it again. */
export interface ModelResponse {
  readonly reply?: string;
  readonly toolCalls?: ReadonlyArray<{ readonly id?: string; readonly name: string; readonly input: unknown }>;
  readonly usage: TokenUsage;
  /** What the provider says this response cost; else the agents plugin's price table decides. */
  readonly costUsd?: number;
  /** A provider-side conversation id to pass back on the next request (journaled with the response). */
  readonly providerSessionId?: string;
}

/** A streamed piece of a response; the last chunk is always the `response`. */
export type ModelStreamChunk = { readonly type: 'text.delta'; readonly text: string } | { readonly type: 'response'; readonly response: ModelResponse };

/**
 * A model backend: a script, an OpenAI-compatible HTTP API, a CLI subprocess… Errors are
 * `MisterSmithError`s whose `retryable` is true only for 429, 5xx, timeouts and dropped
 * connections, with `retryAfterMs` when the server says.
 */
export interface ModelProvider {
  readonly name: string;
  complete(request: ModelRequest): Promise<ModelResponse>;
  stream?(request: ModelRequest): AsyncIterable<ModelStreamChunk>;
}

export interface AgentBudget {
  /** Input + output tokens over the whole run, its resumes and its sub-runs. */
  readonly maxTokens?: number;
  /** Tool calls over the run and its sub-runs. */
  readonly maxToolCalls?: number;
  /** Provider-reported cost (else the price table's) over the run and its sub-runs. */
  readonly maxCostUsd?: number;
  /** Active wall time of the run (time suspended for a decision excluded). */
  readonly maxWallMs?: number;
}

/** What a run does with a tool call that was journaled as called but never as returned. */
export type InDoubtPolicy = 'error' | 'suspend' | 'retry';

export interface AgentDefinition {
  readonly name: string;
  /** A registered provider's name (`scripted`, `openai`, `claude-cli`). */
  readonly provider: string;
  readonly model: string;
  readonly instructions?: string;
  /** Tool patterns granted to this agent on the tool bus (`math.*`). */
  readonly tools?: readonly string[];
  /** Model calls per run (default 8). */
  readonly maxTurns?: number;
  /** Runs of this agent at once (default 8); more wait in a queue. */
  readonly maxConcurrentRuns?: number;
  /** Runs that may wait for a slot (default 100); past it `start` fails with `AGENT_BUSY`. */
  readonly maxQueuedRuns?: number;
  /** In-doubt non-idempotent calls (default `'error'`). */
  readonly onInDoubt?: InDoubtPolicy;
  readonly budget?: AgentBudget;
  /** Deadline of one run's active time (default 300 000 ms). */
  readonly timeoutMs?: number;
  /** Structured output: a JSON Schema (config) or a zod schema (code); the reply must be JSON that validates. */
  readonly output?: JsonSchema | z.ZodType;
  /** A resilience policy name for provider calls (overrides the plugin's `providerPolicy`). */
  readonly providerPolicy?: string;
}

export type RunStatus = 'queued' | 'running' | 'suspended' | 'completed' | 'failed' | 'cancelled';

/** The kinds of journal records of a run (event types). */
export type JournalRecordType =
  | 'agent.run.started'
  | 'agent.model.requested'
  | 'agent.model.responded'
  | 'agent.tool.called'
  | 'agent.tool.returned'
  | 'agent.run.suspended'
  | 'agent.run.resumed'
  | 'agent.run.completed'
  | 'agent.run.failed'
  | 'agent.run.cancelled';

/** One journal record: an event of the log with the run id as correlation id. */
export interface JournalRecord<D = Record<string, unknown>> {
  /** The event id (the next record's `causationId`). */
  readonly id: string;
  readonly type: JournalRecordType;
  readonly runId: string;
  /** ISO-8601 time it was stored. */
  readonly time: string;
  /** The id of the record before it in the run (absent on `agent.run.started`). */
  readonly causationId?: string;
  /** W3C trace context of the span the record belongs to (present when tracing was on; see `AgentHooks.traceparent`). */
  readonly traceparent?: string;
  readonly data: D;
}

/** One thing that happened in a run, as a result lists it. */
export type AgentStep =
  | { readonly type: 'model'; readonly turn: number; readonly reply?: string; readonly toolCalls: number; readonly usage: TokenUsage; readonly costUsd?: number }
  | { readonly type: 'tool'; readonly turn: number; readonly id: string; readonly name: string; readonly input: unknown; readonly output?: unknown; readonly error?: { readonly code: string; readonly message: string } };

export interface RunUsage extends TokenUsage {
  readonly totalTokens: number;
  readonly toolCalls: number;
  readonly turns: number;
  readonly costUsd: number;
}

/** A completed run. `O` is the output's type: the reply text, or (structured output) the validated JSON. */
export interface RunResult<O = string> {
  readonly runId: string;
  readonly agent: string;
  readonly status: 'completed';
  /** The reply; for an agent with `output`, the parsed and validated JSON (name its type as `O`). */
  readonly output: O;
  readonly steps: readonly AgentStep[];
  /** This run's own usage (sub-runs excluded; `agents.get` shows them as children). */
  readonly usage: RunUsage;
}

export interface RunOptions {
  /** Cancels the run (`AGENT_CANCELLED`, journaled). */
  readonly signal?: AbortSignal;
  /** Overrides the agent's run deadline. */
  readonly timeoutMs?: number;
  /** Default: a fresh id. The id of a known run attaches to it (resuming it if it is unfinished). */
  readonly runId?: string;
  /** Runs with one session id continue one conversation. */
  readonly sessionId?: string;
  /** The run this one is a sub-run of (set by agent-as-tool). */
  readonly parentRunId?: string;
  /** Agents the run acts for (set by agent-as-tool): its tool calls never get more rights than theirs. */
  readonly delegation?: readonly string[];
  /**
   * The caller's span, as a W3C `traceparent` (agent-as-tool passes its tool call's; an HTTP route
   * its request's): with tracing on, the run's span is its child, in its trace — also when the
   * caller is in another process. Journaled, so a resumed run stays in that trace. A malformed
   * value is `AGENT_BAD_INPUT`.
   */
  readonly traceparent?: string;
}

export interface RunSummary {
  readonly runId: string;
  readonly agent: string;
  readonly status: RunStatus;
  readonly parentRunId?: string;
  readonly sessionId?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly usage: RunUsage;
  /** Calls waiting for `agents.approve` while suspended. */
  readonly pending?: ReadonlyArray<{ readonly callId: string; readonly name: string; readonly input: unknown; readonly reason: 'approval' | 'in-doubt' }>;
  /** The failure's code, for a failed run. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** A run read back from its journal, with its sub-runs. */
export interface RunDetail {
  readonly summary: RunSummary;
  readonly steps: readonly JournalRecord[];
  readonly children: readonly RunDetail[];
}

/** What `agents.stream` yields: the run's records as they are stored, and text as the model writes it. */
export type RunStreamChunk = JournalRecord | { readonly type: 'text.delta'; readonly runId: string; readonly turn: number; readonly text: string };

/** A run handed to a scheduler (distributed runs). */
export interface RunTicket {
  readonly runId: string;
  readonly agent: string;
}

/** Places runs on nodes (transport-nats); the node that takes one calls `agents.resume(runId)`. */
export interface RunScheduler {
  schedule(ticket: RunTicket): Promise<void>;
}

/** A run that started and never finished (found in the event log at start). */
export interface InterruptedRun {
  readonly runId: string;
  readonly agent: string;
  readonly input: string;
  readonly startedAt: string;
}

/**
 * What a trace context is asked for: a run, one model call of it (named by the id of its
 * `agent.model.requested` record), or one tool call of it (named by the tool bus call id
 * `<runId>:<callId>`). Journal records belong to their run, except `agent.model.responded` (its
 * model call) and `agent.tool.called`/`agent.tool.returned` (their tool call).
 */
export type TraceScope = TraceScopeRun & ({ readonly kind: 'run' } | { readonly kind: 'model'; readonly requestId: string } | { readonly kind: 'tool'; readonly busCallId: string });

/** The run a trace scope is in, and what places it in a trace. */
export interface TraceScopeRun {
  readonly runId: string;
  readonly parentRunId?: string;
  /** The caller's span the run was started from (`RunOptions.traceparent`), when it had one. */
  readonly parentTraceparent?: string;
}

export interface AgentHooks {
  /**
   * The W3C `traceparent` of a scope, asked only while something is tapped (the otel plugin): the
   * answer rides on the scope's journal records (`EventInput.traceparent`), on model requests
   * (`ModelRequest.traceparent`) and on tool calls (`CallOptions.traceparent`). Untapped, runs do no
   * tracing work at all. A tap must be synchronous and cheap: it runs once per record.
   */
  readonly traceparent: SyncBailHook<[TraceScope], string | undefined>;
}

/** The `agents` service. */
export interface AgentService {
  readonly hooks: AgentHooks;
  /** Adds an agent; its tool patterns are granted on the tool bus. Throws a ConfigError for a bad definition. */
  define(definition: AgentDefinition): Disposer;
  /** Defined agents. */
  list(): AgentDefinition[];
  registerProvider(provider: ModelProvider): Disposer;
  /** Runs an agent on an input to its final reply (rejects with an `AGENT_*` error). */
  run<O = string>(agent: string, input: string, options?: RunOptions): Promise<RunResult<O>>;
  /** Starts a run without waiting (queued if the agent is at `maxConcurrentRuns`; `AGENT_BUSY` past the queue). */
  start(agent: string, input: string, options?: RunOptions): Promise<{ readonly runId: string }>;
  /** The result of a run started earlier (or found in the journal). */
  wait<O = string>(runId: string, options?: { readonly signal?: AbortSignal }): Promise<RunResult<O>>;
  /** Starts a run and yields its records as they happen, ending with its completed/failed/cancelled record. */
  stream(agent: string, input: string, options?: RunOptions): AsyncIterable<RunStreamChunk>;
  /** Summaries of known runs, newest last. */
  runs(filter?: { readonly agent?: string; readonly status?: RunStatus }): RunSummary[];
  /** A run read back from the journal as a tree; undefined when unknown. */
  get(runId: string): Promise<RunDetail | undefined>;
  /** Decides a call a suspended run waits on; the run resumes. */
  approve(runId: string, callId: string, decision: 'allow' | 'deny'): Promise<void>;
  /** Cancels a run (and its sub-runs): journaled `agent.run.cancelled`, waiters get `AGENT_CANCELLED`. */
  cancel(runId: string): Promise<void>;
  /** Registers `agent.<name>` on the tool bus: a sub-run per call, linked to the caller's run. */
  asTool(agent: string, options?: { readonly name?: string; readonly description?: string }): Disposer;
  /** Distributed runs: `start` hands runs to the scheduler instead of running them here. */
  attachScheduler(scheduler: RunScheduler): Disposer;
  /** Runs or resumes a run from its journal on this node and resolves to its result. */
  resume<O = string>(runId: string, options?: { readonly signal?: AbortSignal }): Promise<RunResult<O>>;
  /** Runs found unfinished in the event log when the plugin started. */
  interruptedRuns(): InterruptedRun[];
}

declare module '../../sdk/index.js' {
  interface Services {
    agents: AgentService;
  }
}
