/**
 * Agent runs and tool calls as spans, built from the event log.
 *
 * The run journal already records every step with its time, so spans are derived from it rather
 * than threaded through the agents plugin: a run span per run (`invoke_agent <agent>`), a child per
 * model call (`chat <model>`) and per tool call (`execute_tool <tool>`), a sub-run under the tool
 * call that started it. Ids come from `TraceIds.ts`, so a run resumed by another process lands in
 * the same trace and links to its first span. Tool-bus events (`tool.called|failed|denied`) add the
 * bus's outcome to an agent's tool span, or become spans of their own for calls made outside runs
 * (under the caller's span when the call carried a `traceparent`). It also answers the agents
 * plugin's `traceparent` hook with the ids it gives those spans, so the context on a run's records,
 * model requests and tool calls names spans that exist.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent, type TraceParent } from '../../sdk/util/index.js';
import type { TraceScope } from '../agents/types.js';
import type { StoredEvent } from '../events/types.js';
import { chatSpanId, firstRunSpanId, toolSpanId, traceIdOfRoot, type PresetIdGenerator } from './TraceIds.js';

/** What the tracer needs to know about agents (from the agents service, when loaded). */
export interface AgentDirectory {
  /** Provider and model of an agent by name. */
  agent(name: string): { readonly provider: string; readonly model: string } | undefined;
  /** Agent and parent of a run this process did not see start (a resumed run). */
  run(runId: string): { readonly agent: string; readonly parentRunId?: string | undefined } | undefined;
}

export interface RunTracerOptions {
  readonly recordToolPayloads: boolean;
  readonly maxPayloadChars: number;
  /** The sampling decision of a trace (the sampler's, decided from the trace id alone). */
  readonly sampled: (traceId: string) => boolean;
}

interface OpenRun {
  readonly span: Span;
  readonly context: Context;
  readonly agent: string;
  readonly model: string | undefined;
  readonly provider: string | undefined;
  readonly models: Map<number, Span>;
}

type Data = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const timeOf = (event: StoredEvent): number => Date.parse(event.time);

/** `<parentRunId>:<callId>/<agent>` (agent-as-tool's sub-run id) → the bus call id `<parentRunId>:<callId>`. */
function busCallIdOfSubRun(runId: string): string | undefined {
  const slash = runId.lastIndexOf('/');
  return slash > 0 ? runId.slice(0, slash) : undefined;
}

export class RunTracer {
  readonly #tracer: Tracer;
  readonly #ids: PresetIdGenerator;
  readonly #directory: AgentDirectory | undefined;
  readonly #options: RunTracerOptions;
  readonly #runs = new Map<string, OpenRun>();
  /** Open tool spans of runs by bus call id, and the context a sub-run started by them nests in. */
  readonly #tools = new Map<string, { span: Span; context: Context }>();
  /** Root run of every run seen, so sub-runs join their root's trace. */
  readonly #roots = new Map<string, string>();
  /**
   * Runs this process executes: those it handed out trace context for. Only they are traced here —
   * with a shared event log (JetStream) or bridged events every node sees every run's records,
   * and a span per node for one run would be the same span exported twice.
   */
  readonly #local = new Set<string>();
  /** The trace of each local run, as the traceparent hook computed it. */
  readonly #traces = new Map<string, { readonly traceId: string; readonly sampled: boolean }>();

  constructor(tracer: Tracer, ids: PresetIdGenerator, directory: AgentDirectory | undefined, options: RunTracerOptions) {
    this.#tracer = tracer;
    this.#ids = ids;
    this.#directory = directory;
    this.#options = options;
  }

  /** Spans still open (runs in flight). */
  get openSpans(): number {
    let n = this.#runs.size + this.#tools.size;
    for (const run of this.#runs.values()) n += run.models.size;
    return n;
  }

  /** Feeds one event of the log; events that are not run records or tool-bus calls are ignored. */
  observe(event: StoredEvent): void {
    if (event.type.startsWith('agent.') && !this.#local.has(event.correlationId ?? '')) return;
    const data = (event.data ?? {}) as Data;
    switch (event.type) {
      case 'agent.run.started':
        return this.#started(event, data);
      case 'agent.run.resumed':
        return this.#resumed(event, data);
      case 'agent.model.requested':
        return this.#modelRequested(event, data);
      case 'agent.model.responded':
        return this.#modelResponded(event, data);
      case 'agent.tool.called':
        return this.#toolCalled(event, data);
      case 'agent.tool.returned':
        return this.#toolReturned(event, data);
      case 'agent.run.suspended':
        this.#open(event)?.span.addEvent('suspended', { 'mister_smith.call_id': str(data.callId) ?? '', 'mister_smith.reason': str(data.reason) ?? '' }, timeOf(event));
        return;
      case 'agent.run.completed':
        return this.#ended(event, data, 'completed');
      case 'agent.run.failed':
        return this.#ended(event, data, 'failed');
      case 'agent.run.cancelled':
        return this.#ended(event, data, 'cancelled');
      case 'tool.called':
      case 'tool.failed':
      case 'tool.denied':
        return this.#busCall(event, data);
    }
  }

  /** Ends every open span (at stop): a run cut by a stop still shows what it did so far. */
  endAll(): void {
    const now = Date.now();
    for (const { span } of this.#tools.values()) span.setAttribute('mister_smith.interrupted', true).end(now);
    for (const run of this.#runs.values()) {
      for (const span of run.models.values()) span.setAttribute('mister_smith.interrupted', true).end(now);
      run.span.setAttribute('mister_smith.interrupted', true).end(now);
    }
    this.#tools.clear();
    this.#runs.clear();
    this.#local.clear();
    this.#traces.clear();
  }

  /**
   * The `traceparent` the agents plugin puts on a scope's records, model request or tool call: the
   * very ids this tracer gives the scope's span, so what a model API, an HTTP tool or another
   * process continues from is a span that exists in the trace.
   */
  traceparentOf(scope: TraceScope): string {
    this.#local.add(scope.runId);
    const spanId = scope.kind === 'run' ? firstRunSpanId(scope.runId) : scope.kind === 'model' ? chatSpanId(scope.runId, scope.requestId) : toolSpanId(scope.busCallId);
    // A run started from a traced caller is in the caller's trace, and follows its sampling decision.
    const caller = parseTraceparent(scope.parentTraceparent);
    if (caller !== undefined) return formatTraceparent({ traceId: caller.traceId, spanId, sampled: caller.sampled });
    let trace = this.#traces.get(scope.runId);
    if (trace === undefined) {
      // Once per run (the hook runs for every record): a hash and the sampler's decision.
      const traceId = traceIdOfRoot(this.#rootOf(scope.runId, scope.parentRunId));
      this.#traces.set(scope.runId, (trace = { traceId, sampled: this.#options.sampled(traceId) }));
    }
    return formatTraceparent({ traceId: trace.traceId, spanId, sampled: trace.sampled });
  }

  #rootOf(runId: string, parentRunId: string | undefined): string {
    let root = this.#roots.get(runId);
    if (root !== undefined) return root;
    if (parentRunId === undefined) root = runId;
    else root = this.#roots.get(parentRunId) ?? this.#rootOf(parentRunId, this.#directory?.run(parentRunId)?.parentRunId);
    this.#roots.set(runId, root);
    return root;
  }

  /** The context a run nests in: the tool call that started it (a sub-run), else none. */
  #parentContext(runId: string, parentRunId: string | undefined, traceId: string): Context | undefined {
    if (parentRunId === undefined) return undefined;
    const busCallId = busCallIdOfSubRun(runId);
    if (busCallId === undefined) {
      const parent = this.#runs.get(parentRunId);
      return parent?.context;
    }
    // The tool span may live in another process (the parent runs elsewhere): its id is derived.
    return (
      this.#tools.get(busCallId)?.context ??
      trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: toolSpanId(busCallId), traceFlags: TraceFlags.SAMPLED, isRemote: true })
    );
  }

  /**
   * Opens a run's span. Its trace is the caller's when the run was started from a traced span
   * (`caller`, journaled with the start), else the one the record carries (a run resumed here),
   * else its root run's.
   */
  #openRun(event: StoredEvent, agent: string, parentRunId: string | undefined, resumed: boolean, caller: TraceParent | undefined, sessionId?: string): OpenRun {
    const runId = event.correlationId!;
    const traceId = caller?.traceId ?? parseTraceparent(event.traceparent)?.traceId ?? traceIdOfRoot(this.#rootOf(runId, parentRunId));
    const parent = caller !== undefined && !resumed ? remoteParent(caller) : this.#parentContext(runId, parentRunId, traceId);
    const info = this.#directory?.agent(agent);
    const attributes: Attributes = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': agent,
      'mister_smith.run_id': runId,
    };
    if (info !== undefined) {
      attributes['gen_ai.provider.name'] = info.provider;
      attributes['gen_ai.request.model'] = info.model;
    }
    if (parentRunId !== undefined) attributes['mister_smith.parent_run_id'] = parentRunId;
    if (sessionId !== undefined) attributes['gen_ai.conversation.id'] = sessionId;
    const links: Link[] = [];
    if (resumed) {
      attributes['mister_smith.resumed'] = true;
      links.push({ context: { traceId, spanId: firstRunSpanId(runId), traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { 'mister_smith.link': 'first-incarnation' } });
    }
    this.#ids.next(parent === undefined ? traceId : undefined, resumed ? undefined : firstRunSpanId(runId));
    const span = this.#tracer.startSpan(`invoke_agent ${agent}`, { kind: SpanKind.INTERNAL, startTime: timeOf(event), attributes, links }, parent ?? ROOT_CONTEXT);
    this.#ids.next(undefined, undefined);
    const run: OpenRun = { span, context: trace.setSpan(ROOT_CONTEXT, span), agent, model: info?.model, provider: info?.provider, models: new Map() };
    this.#runs.set(runId, run);
    return run;
  }

  #started(event: StoredEvent, data: Data): void {
    if (event.correlationId === undefined || this.#runs.has(event.correlationId)) return;
    this.#openRun(event, str(data.agent) ?? 'unknown', str(data.parentRunId), false, parseTraceparent(data.parentTraceparent), str(data.sessionId));
  }

  #resumed(event: StoredEvent, data: Data): void {
    const open = this.#runs.get(event.correlationId ?? '');
    if (open !== undefined) {
      open.span.addEvent('resumed', { 'mister_smith.reason': str(data.reason) ?? '' }, timeOf(event));
      return;
    }
    this.#open(event);
  }

  /** The run's open span; a run this process never saw start (resumed after a restart) gets a new one, linked. */
  #open(event: StoredEvent): OpenRun | undefined {
    const runId = event.correlationId;
    if (runId === undefined) return undefined;
    const open = this.#runs.get(runId);
    if (open !== undefined) return open;
    const known = this.#directory?.run(runId);
    if (known === undefined) return undefined;
    return this.#openRun(event, known.agent, known.parentRunId, true, undefined);
  }

  #modelRequested(event: StoredEvent, data: Data): void {
    const run = this.#open(event);
    const turn = num(data.turn);
    if (run === undefined || turn === undefined) return;
    const attributes: Attributes = { 'gen_ai.operation.name': 'chat', 'mister_smith.turn': turn };
    if (run.provider !== undefined) attributes['gen_ai.provider.name'] = run.provider;
    if (run.model !== undefined) attributes['gen_ai.request.model'] = run.model;
    this.#ids.next(undefined, chatSpanId(event.correlationId!, event.id));
    const span = this.#tracer.startSpan(`chat ${run.model ?? run.agent}`, { kind: SpanKind.CLIENT, startTime: timeOf(event), attributes }, run.context);
    this.#ids.next(undefined, undefined);
    run.models.get(turn)?.end(timeOf(event));
    run.models.set(turn, span);
  }

  #modelResponded(event: StoredEvent, data: Data): void {
    const run = this.#open(event);
    const turn = num(data.turn);
    if (run === undefined || turn === undefined) return;
    const span = run.models.get(turn);
    if (span === undefined) return;
    run.models.delete(turn);
    setUsage(span, data.usage, data.costUsd);
    if (Array.isArray(data.toolCalls)) span.setAttribute('mister_smith.tool_calls', data.toolCalls.length);
    span.end(timeOf(event));
  }

  #toolCalled(event: StoredEvent, data: Data): void {
    const run = this.#open(event);
    const callId = str(data.callId);
    const name = str(data.name) ?? 'unknown';
    if (run === undefined || callId === undefined) return;
    const busCallId = `${event.correlationId}:${callId}`;
    const attributes: Attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': callId, 'mister_smith.agent': run.agent };
    if (this.#options.recordToolPayloads) attributes['mister_smith.tool.input'] = this.#payload(data.input);
    this.#ids.next(undefined, toolSpanId(busCallId));
    const span = this.#tracer.startSpan(`execute_tool ${name}`, { kind: SpanKind.INTERNAL, startTime: timeOf(event), attributes }, run.context);
    this.#ids.next(undefined, undefined);
    this.#tools.get(busCallId)?.span.end(timeOf(event));
    this.#tools.set(busCallId, { span, context: trace.setSpan(ROOT_CONTEXT, span) });
  }

  #toolReturned(event: StoredEvent, data: Data): void {
    const busCallId = `${event.correlationId}:${str(data.callId)}`;
    const open = this.#tools.get(busCallId);
    if (open === undefined) return;
    this.#tools.delete(busCallId);
    const error = data.error as { code?: unknown; message?: unknown } | undefined;
    if (error !== undefined) fail(open.span, str(error.code), str(error.message));
    else if (this.#options.recordToolPayloads) open.span.setAttribute('mister_smith.tool.output', this.#payload(data.output));
    open.span.end(timeOf(event));
  }

  /** A tool-bus event: the outcome of an agent's call (its span is open), or a call outside any run. */
  #busCall(event: StoredEvent, data: Data): void {
    const callId = str(data.callId);
    const outcome = event.type === 'tool.called' ? 'ok' : event.type === 'tool.denied' ? 'denied' : 'error';
    const open = callId === undefined ? undefined : this.#tools.get(callId);
    if (open !== undefined) {
      open.span.setAttribute('mister_smith.tool.outcome', outcome);
      if (outcome !== 'ok') fail(open.span, codeOf(event, data), str(data.message) ?? str(data.reason));
      return;
    }
    if (data.replayed === true) return;
    const tool = str(data.tool) ?? event.subject ?? 'unknown';
    const end = timeOf(event);
    const attributes: Attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'mister_smith.tool.outcome': outcome };
    const agentId = str(data.agentId);
    if (agentId !== undefined) attributes['mister_smith.agent'] = agentId;
    if (callId !== undefined) attributes['gen_ai.tool.call.id'] = callId;
    const caller = parseTraceparent(event.traceparent);
    const parent = caller === undefined ? ROOT_CONTEXT : remoteParent(caller);
    const span = this.#tracer.startSpan(`execute_tool ${tool}`, { kind: SpanKind.INTERNAL, startTime: end - (num(data.durationMs) ?? 0), attributes }, parent);
    if (outcome !== 'ok') fail(span, codeOf(event, data), str(data.message) ?? str(data.reason));
    span.end(end);
  }

  #ended(event: StoredEvent, data: Data, status: 'completed' | 'failed' | 'cancelled'): void {
    const run = this.#open(event);
    if (run === undefined) return;
    const runId = event.correlationId!;
    this.#runs.delete(runId);
    this.#roots.delete(runId);
    this.#local.delete(runId);
    this.#traces.delete(runId);
    const end = timeOf(event);
    for (const span of run.models.values()) span.end(end);
    for (const [id, tool] of this.#tools) {
      if (id.startsWith(`${runId}:`)) {
        tool.span.end(end);
        this.#tools.delete(id);
      }
    }
    run.span.setAttribute('mister_smith.run.status', status);
    setUsage(run.span, data.usage, (data.usage as Data | undefined)?.costUsd);
    if (status === 'failed') fail(run.span, str(data.code), str(data.message));
    run.span.end(end);
  }

  #payload(value: unknown): string {
    let text: string;
    try {
      text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
    } catch {
      text = String(value);
    }
    const max = this.#options.maxPayloadChars;
    return text.length > max ? `${text.slice(0, max)}…[${text.length - max} more]` : text;
  }
}

/** A span started in another process (or by a caller outside this tracer), as a parent context. */
function remoteParent(parent: TraceParent): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
}

/** A permission denial carries no code of its own (an approval rejection does). */
function codeOf(event: StoredEvent, data: Data): string | undefined {
  return str(data.code) ?? (event.type === 'tool.denied' ? 'TOOL_ACCESS_DENIED' : undefined);
}

function setUsage(span: Span, usage: unknown, costUsd: unknown): void {
  const u = (usage ?? {}) as Data;
  const input = num(u.inputTokens);
  const output = num(u.outputTokens);
  if (input !== undefined) span.setAttribute('gen_ai.usage.input_tokens', input);
  if (output !== undefined) span.setAttribute('gen_ai.usage.output_tokens', output);
  const cost = num(costUsd);
  if (cost !== undefined) span.setAttribute('mister_smith.usage.cost_usd', cost);
}

function fail(span: Span, code: string | undefined, message: string | undefined): void {
  if (code !== undefined) span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined ? { message } : {}) });
}
