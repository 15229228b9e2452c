/**
 * The `agents` service: durable runs. A run is journaled in the event log from its first record;
 * while it runs it is an actor (`agent-run:<runId>`) under the actor system's supervisor, so a crash
 * of that actor restarts it and the restarted actor resumes the run from its journal. Runs of one
 * agent share `maxConcurrentRuns` slots and a bounded queue; a run suspended for a decision holds
 * no slot.
 *
 * Why this file is long (~870 lines): every public operation here (start, attach, wait, resume,
 * approve, cancel, recover) moves a run between the same three pieces of state — its handle, its
 * agent's slots and queue, and the run index — and keeping those transitions in one class is what
 * keeps them consistent. What needs none of that state lives beside it: the loop (RunLoop), the
 * fold of the journal (RunState), the journal (Journal), streams (chunkStream), outcomes
 * (runOutcome) and structured output (outputValidator).
 */
import { randomUUID } from 'node:crypto';
import { SyncBailHook } from 'tapable';
import { isTraceparent, TRACEPARENT_PROBLEM } from '../../sdk/util/index.js';
import { ConfigError, toError, z, type Counter, type Disposer, type Gauge, type Histogram, type Logger, type Metrics } from '../../sdk/index.js';
import type { ActorSystem } from '../actors/types.js';
import type { EventBus } from '../events/types.js';
import type { ResilienceService } from '../resilience/types.js';
import type { ToolBus, ToolDefinition } from '../tools/types.js';
import { agentError, AgentErrorCodes } from './errors.js';
import { EventJournal, MemoryJournal, toRecord, type Journal } from './Journal.js';
import { chunkStream, TERMINAL } from './chunkStream.js';
import { AgentDefinitionSchema, type AgentsOptions } from './options.js';
import { validatorFor } from './outputValidator.js';
import { RunHandle, type AgentEntry, type RunMessage } from './RunHandle.js';
import { RunIndex } from './RunIndex.js';
import { linkSignals } from './linkSignals.js';
import { cancelled, runLoop, RunStop, type LoopEnd, type LoopHost } from './RunLoop.js';
import { interrupted, raceSignal, resultOrError, settledResult, statusOf } from './runOutcome.js';
import { RunState, type StartedData } from './RunState.js';
import { recordTraceparent } from './traceContext.js';
import type {
  AgentDefinition,
  AgentHooks,
  AgentService as AgentServiceContract,
  ChatMessage,
  InterruptedRun,
  JournalRecord,
  JournalRecordType,
  ModelProvider,
  RunDetail,
  RunOptions,
  RunResult,
  RunScheduler,
  RunStatus,
  RunStreamChunk,
  RunSummary,
} from './types.js';

export interface AgentServiceDeps {
  readonly actors: ActorSystem;
  readonly tools: ToolBus;
  readonly events: EventBus | undefined;
  readonly resilience: ResilienceService | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Aborted when the kernel stops: runs in flight let go (left unfinished in the journal, to resume). */
  readonly signal: AbortSignal;
  readonly options: AgentsOptions;
}

/** A finished run's whole conversation, for the next run of its session. */
interface Conversation {
  readonly messages: readonly ChatMessage[];
  readonly providerSessionId: string | undefined;
}

export class AgentService implements AgentServiceContract {
  readonly hooks: AgentHooks = { traceparent: new SyncBailHook(['scope']) };
  readonly #deps: AgentServiceDeps;
  readonly #journal: Journal;
  readonly #agents = new Map<string, AgentEntry>();
  readonly #providers = new Map<string, ModelProvider>();
  readonly #handles = new Map<string, RunHandle>();
  readonly #index: RunIndex;
  readonly #sessions = new Map<string, string>();
  readonly #conversations = new Map<string, Conversation>();
  readonly #interrupted: InterruptedRun[] = [];
  readonly #providerFailures = new Map<string, number>();
  readonly #host: LoopHost;
  /** Controllers of the loops running now; the plugin's stop aborts them all. */
  readonly #live = new Set<AbortController>();
  #scheduler: RunScheduler | undefined;
  readonly #m: {
    runs: Counter;
    tokens: Counter;
    cost: Counter;
    resumes: Counter;
    restarts: Counter;
    modelLatency: Histogram;
    toolLatency: Histogram;
    duration: Histogram;
    suspended: Gauge;
    active: Gauge;
  };

  constructor(deps: AgentServiceDeps) {
    this.#deps = deps;
    deps.signal.addEventListener(
      'abort',
      () => {
        for (const c of this.#live) c.abort(deps.signal.reason);
        this.#live.clear();
      },
      { once: true },
    );
    this.#journal = deps.events !== undefined ? new EventJournal(deps.events) : new MemoryJournal();
    this.#index = new RunIndex(deps.options.retainRuns, (runId) => {
      this.#journal.forget(runId);
      this.#conversations.delete(runId);
    });
    const m = deps.metrics;
    this.#m = {
      runs: m.counter({ name: 'agent_runs_total', help: 'Agent runs that ended, by status', labelNames: ['agent', 'status'] }),
      tokens: m.counter({ name: 'agent_tokens_total', help: 'Model tokens used by agents', labelNames: ['agent', 'kind'] }),
      cost: m.counter({ name: 'agent_cost_usd_total', help: 'Model cost of agent runs in USD', labelNames: ['agent'] }),
      resumes: m.counter({ name: 'agent_run_resumes_total', help: 'Runs resumed from their journal', labelNames: ['agent', 'reason'] }),
      restarts: m.counter({ name: 'agent_run_restarts_total', help: 'Run actors restarted after a crash', labelNames: ['agent'] }),
      modelLatency: m.histogram({ name: 'agent_model_latency_seconds', help: 'Model call latency (retries included)', labelNames: ['agent', 'outcome'] }),
      toolLatency: m.histogram({ name: 'agent_tool_latency_seconds', help: 'Tool call latency inside runs', labelNames: ['agent', 'tool'] }),
      duration: m.histogram({ name: 'agent_duration_seconds', help: 'Active time of ended runs', labelNames: ['agent'] }),
      suspended: m.gauge({ name: 'agent_runs_suspended', help: 'Runs waiting for a decision' }),
      active: m.gauge({ name: 'agent_runs_active', help: 'Runs holding a slot' }),
    };
    const options = deps.options;
    this.#host = {
      journal: this.#journal,
      hooks: this.hooks,
      tools: deps.tools,
      resilience: deps.resilience,
      providerRetries: options.providerRetries,
      providerRetryMaxDelayMs: options.providerRetryMaxDelayMs,
      defaultPolicy: options.providerPolicy,
      provider: (name) => this.#provider(name),
      price: (model, usage) => {
        const p = options.prices[model];
        return p === undefined ? undefined : (usage.inputTokens * p.inputPerMTok + usage.outputTokens * p.outputPerMTok) / 1_000_000;
      },
      recorded: (handle, record) => this.#recorded(handle, record),
      checkBudgets: (handle, extra) => this.#checkBudgets(handle, extra),
      modelLatency: (agent, seconds, failed) => {
        this.#m.modelLatency.observe({ agent, outcome: failed ? 'error' : 'ok' }, seconds);
        const provider = this.#agents.get(agent)?.definition.provider;
        if (provider !== undefined) this.#providerFailures.set(provider, failed ? (this.#providerFailures.get(provider) ?? 0) + 1 : 0);
      },
      toolLatency: (agent, tool, seconds) => this.#m.toolLatency.observe({ agent, tool }, seconds),
    };
  }

  // ── definitions and providers ──────────────────────────────────────────────────────────────

  registerProvider(provider: ModelProvider): Disposer {
    if (this.#providers.has(provider.name)) {
      throw agentError(AgentErrorCodes.AGENT_PROVIDER_TAKEN, `a model provider named '${provider.name}' is already registered`, { provider: provider.name });
    }
    this.#providers.set(provider.name, provider);
    return async () => void (this.#providers.get(provider.name) === provider && this.#providers.delete(provider.name));
  }

  /** Throws AGENT_PROVIDER_NOT_FOUND for the first defined agent whose provider is not registered. */
  checkProviders(): void {
    for (const { definition } of this.#agents.values()) this.#provider(definition.provider, definition.name);
  }

  define(definition: AgentDefinition): Disposer {
    const parsed = AgentDefinitionSchema.safeParse(definition);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      const name = typeof (definition as { name?: unknown })?.name === 'string' ? ` '${definition.name}'` : '';
      throw new ConfigError(AgentErrorCodes.AGENT_INVALID_DEFINITION, `agent definition${name} is invalid`, problems, { context: { agent: definition?.name } });
    }
    const def = parsed.data;
    if (this.#agents.has(def.name)) throw agentError(AgentErrorCodes.AGENT_NAME_TAKEN, `an agent named '${def.name}' is already defined`, { agent: def.name });
    const entry: AgentEntry = { definition: def, running: 0, starting: 0, queue: [], validate: validatorFor(def) };
    if (def.tools.length > 0) this.#deps.tools.grant(def.name, def.tools);
    this.#agents.set(def.name, entry);
    this.#deps.logger.info({ agent: def.name, provider: def.provider, model: def.model, tools: def.tools }, `agent '${def.name}' defined`);
    return async () => {
      if (this.#agents.get(def.name) !== entry) return;
      this.#agents.delete(def.name);
      if (def.tools.length > 0) this.#deps.tools.revoke(def.name, def.tools);
    };
  }

  list(): AgentDefinition[] {
    return [...this.#agents.values()].map((a) => a.definition as AgentDefinition);
  }

  interruptedRuns(): InterruptedRun[] {
    return [...this.#interrupted];
  }

  attachScheduler(scheduler: RunScheduler): Disposer {
    this.#scheduler = scheduler;
    return async () => {
      if (this.#scheduler === scheduler) this.#scheduler = undefined;
    };
  }

  // ── starting and waiting ───────────────────────────────────────────────────────────────────

  async run<O = string>(agent: string, input: string, options: RunOptions = {}): Promise<RunResult<O>> {
    const { runId } = await this.start(agent, input, options);
    return this.wait<O>(runId);
  }

  start(agent: string, input: string, options: RunOptions = {}): Promise<{ readonly runId: string }> {
    return this.#start(agent, input, options, undefined);
  }

  async #start(agent: string, input: string, options: RunOptions, listener: ((chunk: RunStreamChunk) => void) | undefined): Promise<{ readonly runId: string }> {
    const entry = this.#entry(agent);
    if (typeof input !== 'string') throw agentError(AgentErrorCodes.AGENT_BAD_INPUT, `agent '${agent}': input must be a string, got ${typeof input}`, { agent });
    if (options.traceparent !== undefined && !isTraceparent(options.traceparent)) {
      throw agentError(AgentErrorCodes.AGENT_BAD_INPUT, `agent '${agent}': options.traceparent ${TRACEPARENT_PROBLEM}, got ${JSON.stringify(options.traceparent)}`, { agent, field: 'traceparent' });
    }
    if (this.#deps.signal.aborted) throw agentError(AgentErrorCodes.AGENT_INTERRUPTED, `agent '${agent}': the system is stopping`, { agent });
    if (options.runId !== undefined) {
      const attached = await this.#attach(options.runId, listener);
      if (attached) return { runId: options.runId };
    }
    const runId = options.runId ?? `run-${randomUUID()}`;
    let chain: readonly string[] = [];
    if (options.parentRunId !== undefined) {
      const parent = this.#handles.get(options.parentRunId)?.state;
      const parentAgent = parent?.agent ?? this.#index.agentOf(options.parentRunId);
      chain = [...(parent?.started?.chain ?? []), ...(parentAgent !== undefined ? [parentAgent] : [])];
      if (chain.includes(agent)) {
        throw agentError(AgentErrorCodes.AGENT_RECURSION, `agent '${agent}' is already in the chain of runs ${chain.join(' → ')} → ${agent}; a run may not call an agent of its own chain`, {
          agent,
          chain,
          parentRunId: options.parentRunId,
        });
      }
    }
    const def = entry.definition;
    const local = !(this.#deps.options.distributed && this.#scheduler !== undefined);
    if (local && entry.running + entry.queue.length + entry.starting >= def.maxConcurrentRuns + def.maxQueuedRuns) {
      throw agentError(AgentErrorCodes.AGENT_BUSY, `agent '${agent}' is busy: ${entry.running} runs running and ${entry.queue.length} queued (maxConcurrentRuns ${def.maxConcurrentRuns}, maxQueuedRuns ${def.maxQueuedRuns})`, {
        agent,
        running: entry.running,
        queued: entry.queue.length,
      });
    }
    entry.starting++;
    let handle: RunHandle;
    try {
      const state = new RunState(runId);
      const previousRunId = options.sessionId !== undefined ? this.#sessions.get(options.sessionId) : undefined;
      if (previousRunId !== undefined) {
        const previous = await this.#conversation(previousRunId);
        state.history = previous.messages;
        state.providerSessionId = previous.providerSessionId;
      }
      handle = new RunHandle(runId, entry, state);
      if (listener !== undefined) handle.listeners.add(listener);
      const started: StartedData = {
        agent,
        input,
        ...(options.parentRunId !== undefined ? { parentRunId: options.parentRunId } : {}),
        ...(options.sessionId !== undefined ? { sessionId: options.sessionId } : {}),
        ...(previousRunId !== undefined ? { previousRunId } : {}),
        ...(options.delegation !== undefined && options.delegation.length > 0 ? { delegation: options.delegation } : {}),
        ...(chain.length > 0 ? { chain } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.traceparent !== undefined ? { parentTraceparent: options.traceparent } : {}),
      };
      this.#handles.set(runId, handle);
      if (options.sessionId !== undefined) this.#sessions.set(options.sessionId, runId);
      let record: JournalRecord;
      try {
        const data = { ...started };
        record = await this.#journal.append(runId, agent, 'agent.run.started', data, undefined, recordTraceparent(this.hooks.traceparent, runId, started, 'agent.run.started', data, undefined));
      } catch (error) {
        // Not journaled, so not started: nothing of it may linger.
        if (this.#handles.get(runId) === handle) this.#handles.delete(runId);
        if (options.sessionId !== undefined && this.#sessions.get(options.sessionId) === runId) {
          if (previousRunId !== undefined) this.#sessions.set(options.sessionId, previousRunId);
          else this.#sessions.delete(options.sessionId);
        }
        throw error;
      }
      state.apply(record);
      this.#index.track({ state, status: () => statusOf(handle) });
      this.#recorded(handle, record);
    } finally {
      entry.starting--;
    }
    if (options.signal !== undefined) {
      const signal = options.signal;
      const onAbort = (): void => void this.cancel(runId).catch(() => undefined);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        void handle.done.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
      }
    }
    if (!local) {
      handle.phase = 'idle';
      await this.#scheduler!.schedule({ runId, agent });
      return { runId };
    }
    this.#enqueue(handle);
    return { runId };
  }

  /** `start` with the id of a run this process or the journal knows: attach to it (resume it if idle). */
  async #attach(runId: string, listener: ((chunk: RunStreamChunk) => void) | undefined): Promise<boolean> {
    const handle = this.#handles.get(runId);
    if (handle !== undefined) {
      if (listener !== undefined) handle.listeners.add(listener);
      if (handle.phase === 'idle' && !this.#deps.options.distributed) {
        handle.resumeReason ??= 'attach';
        this.#enqueue(handle);
      }
      return true;
    }
    const known = this.#index.summary(runId);
    if (known !== undefined && (known.status === 'completed' || known.status === 'failed' || known.status === 'cancelled')) return true;
    const records = await this.#journal.read(runId);
    if (records.length === 0) return known !== undefined;
    const state = await this.#rebuild(runId, records);
    if (state.terminal !== undefined) {
      this.#index.freeze(state.summary());
      return true;
    }
    if (this.#deps.options.distributed || this.#handles.has(runId)) return true;
    // Unfinished and not running here (reported at start, not resumed): starting it again resumes it.
    const revived = this.#revive(state, 'attach');
    if (listener !== undefined) revived?.listeners.add(listener);
    if (revived?.phase === 'idle') this.#enqueue(revived);
    return true;
  }

  async wait<O = string>(runId: string, options: { readonly signal?: AbortSignal } = {}): Promise<RunResult<O>> {
    return this.#wait(runId, options) as Promise<RunResult<O>>;
  }

  async #wait(runId: string, options: { readonly signal?: AbortSignal }): Promise<RunResult<unknown>> {
    const handle = this.#handles.get(runId);
    // Distributed: a run handed to the scheduler and not driven here ends on whichever node took
    // it, so its end comes through the journal, not through this node's handle.
    if (handle !== undefined && !(this.#deps.options.distributed && handle.phase === 'idle')) return raceSignal(handle.done, options.signal);
    if (handle !== undefined) return raceSignal(this.#awaitTerminal(runId), options.signal);
    const records = await this.#journal.read(runId);
    if (records.length === 0) throw agentError(AgentErrorCodes.AGENT_RUN_NOT_FOUND, `no run with id '${runId}'`, { runId });
    const state = await this.#rebuild(runId, records);
    if (state.terminal !== undefined) return settledResult(state);
    // Unfinished and not here: another node runs it (distributed), or it waits for `resume`.
    return raceSignal(this.#awaitTerminal(runId), options.signal);
  }

  /** Resolves when the journal gets the run's terminal record (a run another node drives). */
  #awaitTerminal(runId: string): Promise<RunResult<unknown>> {
    const events = this.#deps.events;
    if (events === undefined) return Promise.reject(agentError(AgentErrorCodes.AGENT_RUN_NOT_FOUND, `run '${runId}' is not running here`, { runId }));
    return new Promise<RunResult<unknown>>((resolve, reject) => {
      const sub = events.subscribe(
        { types: [...TERMINAL], correlationId: runId },
        async () => {
          void sub.unsubscribe();
          const state = await this.#rebuild(runId, await this.#journal.read(runId));
          resultOrError(state, resolve, reject);
        },
        { from: 'latest' },
      );
      // The end may have landed between the read and the subscription.
      void this.#journal.read(runId).then(async (records) => {
        if (!records.some((r) => TERMINAL.has(r.type))) return;
        void sub.unsubscribe();
        resultOrError(await this.#rebuild(runId, records), resolve, reject);
      });
    });
  }

  async resume<O = string>(runId: string, options: { readonly signal?: AbortSignal } = {}): Promise<RunResult<O>> {
    return this.#resume(runId, options) as Promise<RunResult<O>>;
  }

  async #resume(runId: string, options: { readonly signal?: AbortSignal }): Promise<RunResult<unknown>> {
    let handle = this.#handles.get(runId);
    if (handle === undefined) {
      const records = await this.#journal.read(runId);
      if (records.length === 0) throw agentError(AgentErrorCodes.AGENT_RUN_NOT_FOUND, `no run with id '${runId}'`, { runId });
      const state = await this.#rebuild(runId, records);
      if (state.terminal !== undefined) return settledResult(state);
      handle = this.#revive(state, 'resume');
      if (handle === undefined) throw agentError(AgentErrorCodes.AGENT_NOT_FOUND, `run '${runId}' is of agent '${state.agent}', which is not defined here`, { runId, agent: state.agent });
    } else if (handle.phase === 'idle') handle.resumeReason ??= 'resume';
    if (handle.phase === 'idle') this.#enqueue(handle);
    return raceSignal(handle.done, options.signal);
  }

  stream(agent: string, input: string, options: RunOptions = {}): AsyncIterable<RunStreamChunk> {
    return chunkStream(async (listener, end) => {
      const { runId } = await this.#start(agent, input, options, listener);
      // A run that had already ended (a known runId): replay its records instead.
      if (!this.#handles.has(runId)) {
        for (const record of await this.#journal.read(runId)) listener(record);
        end();
      }
      return undefined;
    });
  }

  /**
   * A run's records from the first (or from the one after `after`, a record id: an SSE client's
   * `Last-Event-ID` when it reconnects), then live until it ends. An `after` that is not a record of
   * the run is AGENT_BAD_INPUT.
   */
  follow(runId: string, options: { readonly after?: string } = {}): AsyncIterable<RunStreamChunk> {
    const after = options.after;
    return chunkStream(async (listener, end) => {
      const seen = new Set<string>();
      const buffered: RunStreamChunk[] = [];
      let replaying = true;
      const live = (chunk: RunStreamChunk): void => {
        if (replaying) buffered.push(chunk);
        else if (!('id' in chunk) || !seen.has(chunk.id)) listener(chunk);
      };
      const handle = this.#handles.get(runId);
      handle?.listeners.add(live);
      const records = await this.#journal.read(runId);
      if (records.length === 0 && handle === undefined) throw agentError(AgentErrorCodes.AGENT_RUN_NOT_FOUND, `no run with id '${runId}'`, { runId });
      const from = after === undefined ? 0 : records.findIndex((r) => r.id === after) + 1;
      if (from === 0 && after !== undefined) {
        handle?.listeners.delete(live);
        throw agentError(AgentErrorCodes.AGENT_BAD_INPUT, `run ${runId} has no record with id '${after}' to continue after`, { runId, after });
      }
      for (const [i, r] of records.entries()) {
        seen.add(r.id);
        if (i >= from) listener(r);
      }
      replaying = false;
      for (const chunk of buffered) if (!('id' in chunk) || !seen.has(chunk.id)) listener(chunk);
      // Not running here (reported, not resumed; or another node's): what the journal has is all there is.
      if (handle === undefined) end();
      return () => handle?.listeners.delete(live);
    });
  }

  // ── reading runs ───────────────────────────────────────────────────────────────────────────

  runs(filter: { readonly agent?: string; readonly status?: RunStatus } = {}): RunSummary[] {
    return this.#index.list(filter);
  }

  async get(runId: string): Promise<RunDetail | undefined> {
    const records = await this.#journal.read(runId);
    if (records.length === 0) return undefined;
    const state = new RunState(runId);
    for (const r of records) state.apply(r);
    const summary = this.#index.summary(runId) ?? state.summary();
    const children: RunDetail[] = [];
    for (const child of this.#index.children(runId)) {
      const detail = await this.get(child);
      if (detail !== undefined) children.push(detail);
    }
    return { summary, steps: records, children };
  }

  // ── approvals and cancellation ─────────────────────────────────────────────────────────────

  async approve(runId: string, callId: string, decision: 'allow' | 'deny'): Promise<void> {
    if (decision !== 'allow' && decision !== 'deny') throw agentError(AgentErrorCodes.AGENT_BAD_INPUT, `decision must be 'allow' or 'deny', got ${String(decision)}`, { runId, callId });
    const handle = this.#handles.get(runId);
    if (handle === undefined) {
      if (this.#index.has(runId)) throw agentError(AgentErrorCodes.AGENT_APPROVAL_NOT_PENDING, `run '${runId}' waits on no decision`, { runId, callId });
      throw agentError(AgentErrorCodes.AGENT_RUN_NOT_FOUND, `no run with id '${runId}'`, { runId, callId });
    }
    await this.#outside(handle, async () => {
      if (handle.phase !== 'suspended' || !handle.state.pending().some((c) => c.id === callId)) {
        throw agentError(AgentErrorCodes.AGENT_APPROVAL_NOT_PENDING, `run '${runId}' is not waiting on a decision for call '${callId}'`, { runId, callId, pending: handle.state.pending().map((c) => c.id) });
      }
      await this.#write(handle, 'agent.run.resumed', { reason: 'decision', callId, decision });
      handle.phase = 'idle';
      this.#updateSuspended();
      this.#enqueue(handle);
    });
  }

  async cancel(runId: string): Promise<void> {
    const handle = this.#handles.get(runId);
    if (handle === undefined) {
      if (this.#index.has(runId)) return; // already ended
      throw agentError(AgentErrorCodes.AGENT_RUN_NOT_FOUND, `no run with id '${runId}'`, { runId });
    }
    for (const child of this.#index.children(runId)) if (this.#handles.has(child)) await this.cancel(child);
    handle.cancelRequested = true;
    if (handle.controller !== undefined) {
      handle.controller.abort(new RunStop(cancelled(runId, handle.entry.definition.name, 'cancelled')));
      return;
    }
    if (handle.phase === 'active') return; // between loops (a crash restart): the next loop sees the request
    await this.#outside(handle, async () => {
      if (handle.state.terminal !== undefined || handle.phase === 'active') return;
      const queue = handle.entry.queue;
      const at = queue.indexOf(handle);
      if (at >= 0) queue.splice(at, 1);
      await this.#write(handle, 'agent.run.cancelled', { reason: `run ${runId} was cancelled`, usage: handle.state.usage });
      this.#finished(handle);
    });
  }

  // ── agent as tool ──────────────────────────────────────────────────────────────────────────

  asTool(agent: string, options: { readonly name?: string; readonly description?: string } = {}): Disposer {
    const entry = this.#entry(agent);
    const def = entry.definition;
    const definition: ToolDefinition<z.ZodObject<{ prompt: z.ZodString }>, z.ZodString> = {
      name: options.name ?? `agent.${agent.replace(/[^a-zA-Z0-9_-]/g, '_')}`,
      description: options.description ?? (def.instructions || `Delegates to the agent '${agent}'`),
      input: z.object({ prompt: z.string().min(1) }),
      output: z.string(),
      timeoutMs: def.timeoutMs,
      // Calling it again with the same call id attaches to the same sub-run: safe to repeat.
      idempotent: true,
      handler: async ({ prompt }, ctx) => {
        const parentRunId = this.#handles.has(ctx.correlationId) || this.#index.has(ctx.correlationId) ? ctx.correlationId : undefined;
        const { runId } = await this.start(agent, prompt, {
          // A sub-run's id follows from the call's id: a resumed parent finds the same sub-run.
          ...(parentRunId !== undefined ? { runId: `${ctx.callId}/${agent}`, parentRunId } : {}),
          delegation: [...ctx.delegation, ctx.agentId],
          // The sub-run continues the tool call's span, wherever the caller runs.
          ...(ctx.traceparent !== undefined ? { traceparent: ctx.traceparent } : {}),
        });
        // The caller going away (its signal) detaches from the sub-run; it does not cancel it.
        const result = await this.wait(runId, { signal: ctx.signal });
        return typeof result.output === 'string' ? result.output : JSON.stringify(result.output);
      },
    };
    return this.#deps.tools.register(definition);
  }

  // ── recovery ───────────────────────────────────────────────────────────────────────────────

  /** Reads the journal at start: runs that never ended are reported, and resumed with `resume`. */
  async recover(mode: 'report' | 'resume', track: (work: Promise<unknown>, label: string) => void): Promise<void> {
    const states = new Map<string, RunState>();
    for await (const record of this.#journal.scan(this.#deps.signal)) {
      let state = states.get(record.runId);
      if (state === undefined) states.set(record.runId, (state = new RunState(record.runId)));
      state.apply(record);
    }
    const conversation = (runId: string, depth = 0): Conversation => {
      const s = states.get(runId);
      if (s === undefined || depth > 1000) return { messages: [], providerSessionId: undefined };
      const history = s.started?.previousRunId !== undefined ? conversation(s.started.previousRunId, depth + 1).messages : [];
      return { messages: [...history, ...s.messages, ...(s.finalReply !== undefined ? [{ role: 'assistant' as const, content: s.finalReply.reply }] : [])], providerSessionId: s.providerSessionId };
    };
    const resumable: RunHandle[] = [];
    for (const state of states.values()) {
      if (state.started === undefined) continue; // the log's retention dropped its beginning
      if (state.started.sessionId !== undefined) this.#sessions.set(state.started.sessionId, state.runId);
      if (state.terminal !== undefined) {
        this.#index.freeze(state.summary());
        continue;
      }
      this.#interrupted.push({ runId: state.runId, agent: state.agent, input: state.input, startedAt: state.startedAt });
      if (state.started.previousRunId !== undefined) {
        const previous = conversation(state.started.previousRunId);
        state.history = previous.messages;
        state.providerSessionId ??= previous.providerSessionId;
      }
      if (mode !== 'resume' || !this.#agents.has(state.agent) || this.#deps.options.distributed) {
        this.#index.freeze(state.summary());
        this.#deps.logger.warn({ runId: state.runId, agent: state.agent }, `run ${state.runId} of agent '${state.agent}' was interrupted`);
        continue;
      }
      const handle = this.#revive(state, 'restart');
      if (handle !== undefined) resumable.push(handle);
    }
    for (const handle of resumable) {
      if (handle.phase === 'suspended') continue;
      this.#enqueue(handle);
      track(
        handle.done.then(
          () => undefined,
          () => undefined,
        ),
        `resume ${handle.runId}`,
      );
    }
    if (resumable.length > 0) this.#deps.logger.info({ runs: resumable.length }, `resuming ${resumable.length} interrupted runs`);
  }

  /** Makes a handle for an unfinished run rebuilt from the journal. */
  #revive(state: RunState, reason: string): RunHandle | undefined {
    const entry = this.#agents.get(state.agent);
    if (entry === undefined) return undefined;
    const handle = new RunHandle(state.runId, entry, state);
    this.#handles.set(state.runId, handle);
    this.#index.track({ state, status: () => statusOf(handle) });
    if (state.status === 'suspended') {
      handle.phase = 'suspended';
      this.#updateSuspended();
    } else handle.resumeReason = reason;
    return handle;
  }

  async #rebuild(runId: string, records: readonly JournalRecord[]): Promise<RunState> {
    const state = new RunState(runId);
    for (const r of records) state.apply(r);
    if (state.started?.previousRunId !== undefined) {
      const previous = await this.#conversation(state.started.previousRunId);
      state.history = previous.messages;
      state.providerSessionId ??= previous.providerSessionId;
    }
    return state;
  }

  /** The whole conversation of a run (its session's earlier runs first), for the next run of the session. */
  async #conversation(runId: string): Promise<Conversation> {
    const cached = this.#conversations.get(runId);
    if (cached !== undefined) return cached;
    const state = this.#handles.get(runId)?.state ?? (await this.#rebuild(runId, await this.#journal.read(runId)));
    const conversation: Conversation = {
      messages: [...state.conversation(), ...(state.finalReply !== undefined ? [{ role: 'assistant' as const, content: state.finalReply.reply }] : [])],
      providerSessionId: state.providerSessionId,
    };
    if (state.terminal !== undefined) this.#conversations.set(runId, conversation);
    return conversation;
  }

  // ── slots and actors ───────────────────────────────────────────────────────────────────────

  #enqueue(handle: RunHandle): void {
    if (handle.phase === 'queued' || handle.phase === 'active' || handle.phase === 'done') return;
    const entry = handle.entry;
    if (entry.running < entry.definition.maxConcurrentRuns) this.#dispatch(handle);
    else {
      handle.phase = 'queued';
      entry.queue.push(handle);
    }
  }

  #dispatch(handle: RunHandle): void {
    if (this.#deps.signal.aborted) {
      // Stopping: the run stays unfinished in the journal and resumes at the next start.
      handle.phase = 'idle';
      handle.reject(interrupted(handle.runId));
      return;
    }
    handle.entry.running++;
    this.#m.active.inc();
    handle.phase = 'active';
    const service = this;
    const ref = this.#deps.actors.spawn<RunMessage, void>(
      {
        init(ctx) {
          ctx.self.tell({ kind: 'go' });
          return undefined;
        },
        receive(message, ctx) {
          if (message.kind === 'go') return service.#go(handle, ctx.signal, ctx.restartCount);
          if (message.kind === 'crash') throw message.error;
          throw agentError(AgentErrorCodes.AGENT_BAD_INPUT, `the actor of run ${handle.runId} got a message it does not understand`, { runId: handle.runId });
        },
      },
      { name: `agent-run:${handle.runId}`, mailbox: { capacity: 16, overflow: 'fail' }, supervision: { restart: 'transient' } },
    );
    handle.ref = ref;
    this.#deps.actors.watch(ref, () => {
      // The actor ended for good while its run was active (stopped from outside, or gave up restarting).
      if (handle.ref !== ref || handle.phase !== 'active') return;
      void handle.loop.then(() => {
        if (handle.ref !== ref || handle.phase !== 'active') return;
        this.#release(handle);
        if (this.#deps.signal.aborted) {
          handle.phase = 'idle';
          handle.reject(interrupted(handle.runId));
          return;
        }
        handle.phase = 'idle';
        handle.resumeReason ??= 'restart';
        this.#enqueue(handle);
      });
    });
  }

  #go(handle: RunHandle, actorSignal: AbortSignal, restartCount: number): void {
    const agent = handle.entry.definition.name;
    if (restartCount > 0) {
      this.#m.restarts.inc({ agent });
      handle.resumeReason ??= 'crash';
      if (restartCount > this.#deps.options.maxRunRestarts) {
        handle.loop = handle.loop.then(async () => {
          const error = agentError(AgentErrorCodes.AGENT_CRASHED, `run ${handle.runId} of agent '${agent}' crashed ${restartCount} times`, { runId: handle.runId, agent });
          try {
            await this.#write(handle, 'agent.run.failed', { code: error.code, message: error.message, usage: handle.state.usage });
          } catch {
            handle.reject(error);
          }
          this.#ended(handle, 'finished');
        });
        return;
      }
    }
    // The actor's signal and the plugin's stop, on one controller. The plugin's stop reaches it
    // through #live (one listener for all runs, so a hundred runs do not pile listeners on it).
    const controller = new AbortController();
    const link = linkSignals([actorSignal], controller);
    const processSignal = link.signal;
    if (this.#deps.signal.aborted) controller.abort(this.#deps.signal.reason);
    else this.#live.add(controller);
    const unlink = (): void => {
      link.dispose();
      this.#live.delete(controller);
    };
    handle.loop = handle.loop
      .then(() => runLoop(this.#host, handle, processSignal))
      .then(
        (end) => {
          unlink();
          this.#ended(handle, end);
        },
        (error: unknown) => {
          unlink();
          this.#deps.logger.error({ err: error, runId: handle.runId, agent }, `run ${handle.runId} of agent '${agent}' crashed; its actor restarts and resumes it`);
          if (!actorSignal.aborted) handle.ref?.tell({ kind: 'crash', error: toError(error) });
          else this.#ended(handle, 'interrupted');
        },
      );
  }

  #ended(handle: RunHandle, end: LoopEnd): void {
    if (end === 'interrupted') {
      if (!this.#deps.signal.aborted) return; // the actor restarts and resumes the run
      this.#release(handle);
      handle.phase = 'idle';
      handle.reject(interrupted(handle.runId));
      return;
    }
    this.#release(handle);
    if (end === 'suspended') {
      handle.phase = 'suspended';
      this.#updateSuspended();
      if (handle.cancelRequested) void this.cancel(handle.runId).catch(() => undefined);
      return;
    }
    this.#finished(handle);
  }

  #release(handle: RunHandle): void {
    if (handle.phase !== 'active') return;
    const entry = handle.entry;
    entry.running--;
    this.#m.active.dec();
    const ref = handle.ref;
    handle.ref = undefined;
    handle.phase = 'idle';
    if (ref !== undefined) void ref.stop().catch(() => undefined);
    if (this.#deps.signal.aborted) return; // stopping: queued runs stay in the journal for the next start
    const next = entry.queue.shift();
    if (next !== undefined) {
      next.phase = 'idle';
      this.#dispatch(next);
    }
  }

  /** Settles a run that has its terminal record. */
  #finished(handle: RunHandle): void {
    handle.phase = 'done';
    const state = handle.state;
    this.#handles.delete(handle.runId);
    this.#index.freeze(state.summary());
    this.#updateSuspended();
    resultOrError(
      state,
      (r) => handle.resolve(r),
      (e) => handle.reject(e),
    );
  }

  // ── records, budgets, metrics ──────────────────────────────────────────────────────────────

  /** A write outside the loop (approve, cancel), ordered after the loop's own writes. */
  #outside(handle: RunHandle, work: () => Promise<void>): Promise<void> {
    const next = handle.loop.then(work);
    handle.loop = next.catch(() => undefined);
    return next;
  }

  async #write(handle: RunHandle, type: JournalRecordType, data: Record<string, unknown>): Promise<JournalRecord> {
    const state = handle.state;
    const traceparent = recordTraceparent(this.hooks.traceparent, handle.runId, state.started, type, data, state.pendingRequestId);
    const record = await this.#journal.append(handle.runId, handle.entry.definition.name, type, data, state.lastId, traceparent);
    handle.state.apply(record);
    this.#recorded(handle, record);
    return record;
  }

  #recorded(handle: RunHandle, record: JournalRecord): void {
    const agent = handle.entry.definition.name;
    switch (record.type) {
      case 'agent.model.responded': {
        const data = record.data as { usage: { inputTokens: number; outputTokens: number }; costUsd?: number };
        this.#m.tokens.inc({ agent, kind: 'input' }, data.usage.inputTokens);
        this.#m.tokens.inc({ agent, kind: 'output' }, data.usage.outputTokens);
        if (data.costUsd !== undefined) this.#m.cost.inc({ agent }, data.costUsd);
        break;
      }
      case 'agent.run.resumed':
        this.#m.resumes.inc({ agent, reason: String((record.data as { reason?: unknown }).reason ?? 'restart') });
        break;
      case 'agent.run.completed':
      case 'agent.run.failed':
      case 'agent.run.cancelled':
        this.#m.runs.inc({ agent, status: handle.state.status });
        this.#m.duration.observe({ agent }, handle.state.activeMsBefore / 1000);
        break;
    }
    if (handle.listeners.size > 0) handle.emit(record);
  }

  #checkBudgets(handle: RunHandle, extraToolCalls: number): void {
    // The common case costs nothing: no usage budget on the run and no parent to count toward.
    const own = handle.entry.definition.budget;
    if (own.maxTokens === undefined && own.maxCostUsd === undefined && own.maxToolCalls === undefined && handle.state.started?.parentRunId === undefined) return;
    for (let runId: string | undefined = handle.runId; runId !== undefined; runId = this.#index.parentOf(runId)) {
      const agent = this.#index.agentOf(runId);
      const budget = agent !== undefined ? this.#agents.get(agent)?.definition.budget : undefined;
      const used = this.#index.totalUsage(runId);
      if (budget === undefined || used === undefined) continue;
      const over = (name: string, limit: number | undefined, value: number): void => {
        if (limit === undefined || value <= limit) return;
        const whose = runId === handle.runId ? 'its' : `its ancestor run ${runId}'s`;
        throw agentError(AgentErrorCodes.AGENT_BUDGET_EXCEEDED, `run ${handle.runId} of agent '${handle.entry.definition.name}' went over ${whose} ${name} budget (${value} > ${limit})`, {
          agent: handle.entry.definition.name,
          runId: handle.runId,
          budget: name,
          limit,
          used: value,
          ...(runId !== handle.runId ? { budgetRunId: runId } : {}),
        });
      };
      over('maxTokens', budget.maxTokens, used.totalTokens);
      over('maxCostUsd', budget.maxCostUsd, used.costUsd);
      over('maxToolCalls', budget.maxToolCalls, used.toolCalls + extraToolCalls);
    }
  }

  #updateSuspended(): void {
    let n = 0;
    for (const h of this.#handles.values()) if (h.phase === 'suspended') n++;
    this.#m.suspended.set(n);
  }

  /** Health: runs active past their deadline, providers whose last calls all failed. */
  health(): { status: 'healthy' | 'degraded'; details: Record<string, unknown> } {
    const now = Date.now();
    const stuck: string[] = [];
    for (const h of this.#handles.values()) {
      if (h.phase !== 'active') continue;
      const limit = (h.state.started?.timeoutMs ?? h.entry.definition.timeoutMs) + 5_000;
      if (h.state.activeMs(now) > limit) stuck.push(h.runId);
    }
    const failing = [...this.#providerFailures].filter(([, n]) => n >= 3).map(([name]) => name);
    let suspended = 0;
    let active = 0;
    for (const h of this.#handles.values()) {
      if (h.phase === 'suspended') suspended++;
      if (h.phase === 'active') active++;
    }
    return {
      status: stuck.length > 0 || failing.length > 0 ? 'degraded' : 'healthy',
      details: { agents: this.#agents.size, active, suspended, stuckRuns: stuck, failingProviders: failing },
    };
  }

  /** Waits for every active loop to let go (kernel stop). */
  async drain(signal: AbortSignal): Promise<void> {
    const loops = [...this.#handles.values()].map((h) => h.loop);
    await raceSignal(Promise.allSettled(loops), signal).catch(() => undefined);
    // Queued and suspended runs wait for nothing now: their waiters hear it, the journal keeps them.
    for (const entry of this.#agents.values()) entry.queue.length = 0;
    for (const handle of this.#handles.values()) {
      if (handle.phase !== 'done') handle.reject(interrupted(handle.runId));
    }
  }

  #entry(agent: string): AgentEntry {
    const entry = this.#agents.get(agent);
    if (entry === undefined) {
      throw agentError(AgentErrorCodes.AGENT_NOT_FOUND, `no agent named '${agent}' (defined: ${[...this.#agents.keys()].join(', ') || 'none'})`, { agent });
    }
    return entry;
  }

  #provider(name: string, agent?: string): ModelProvider {
    const provider = this.#providers.get(name);
    if (provider === undefined) {
      throw agentError(
        AgentErrorCodes.AGENT_PROVIDER_NOT_FOUND,
        `${agent !== undefined ? `agent '${agent}' uses ` : ''}provider '${name}', which no loaded plugin registered (registered: ${[...this.#providers.keys()].join(', ') || 'none'}); add e.g. "provider-${name}" to the plugins`,
        { provider: name, ...(agent !== undefined ? { agent } : {}) },
      );
    }
    return provider;
  }
}

export { toRecord };
