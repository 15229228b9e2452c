/**
 * The permissioned tool bus. A call goes: permission (every agent of the
 * delegation chain too) → lookup → idempotency replay → input validation → approval hook →
 * middleware (registration order) → handler under its deadline → output validation.
 *
 * The fast path — granted agent, sync or fast handler, no approval taps — allocates one `ToolCall`
 * and the async function's promise; permission decisions are cached, hooks with no taps are
 * skipped, and no timer or AbortSignal is made unless the handler is still running when it returns
 * (then it joins the shared deadline list) or someone reads `ctx.signal`.
 */
import { randomUUID } from 'node:crypto';
import { AsyncSeriesBailHook } from 'tapable';
import { z } from 'zod';
import {
  MisterSmithError,
  ToolError,
  type Counter,
  type Disposer,
  type Histogram,
  type Labels,
  type Logger,
  type Metrics,
} from '../../sdk/index.js';
import type { EventBus } from '../events/types.js';
import type { Policy, ResilienceService } from '../resilience/types.js';
import type { ActorRef } from '../actors/types.js';
import { agentAsTool } from './agentAsTool.js';
import { capTimeout, checkCallOptions, checkTimeoutSetting } from './callOptions.js';
import { Deadlines } from './Deadlines.js';
import { ToolErrorCodes, toolError } from './errors.js';
import { fingerprint } from './fingerprint.js';
import { IdempotencyCache } from './IdempotencyCache.js';
import { assertToolName } from './patterns.js';
import { Permissions } from './Permissions.js';
import { ToolCall, type CallHost } from './ToolCall.js';
import type {
  AgentPermissions,
  AgentToolSpec,
  ApprovalDecision,
  ApprovalRequest,
  CallOptions,
  JsonSchema,
  NestedCallOptions,
  ToolBus as ToolBusContract,
  ToolCallMessage,
  ToolContext,
  ToolDefinition,
  ToolDescription,
  ToolHooks,
  ToolInfo,
  ToolMiddleware,
  ToolStats,
} from './types.js';
import { isThenable } from '../../sdk/util/index.js';

/** Per-tool overrides from the config file. */
export interface ToolOverride {
  readonly policy?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

/** How a ToolBus is built; every field has a default, so `new ToolBus()` works in tests. */
export interface ToolBusOptions {
  /** Handler deadline when neither the call, the config nor the tool says (default 30 000 ms). */
  readonly defaultTimeoutMs?: number;
  /** Completed results kept for replay by `callId` (default 10 000, 10 minutes). */
  readonly idempotency?: { readonly capacity: number; readonly ttlMs: number };
  /** Per-tool `policy` and `timeoutMs`, winning over the tool's own. */
  readonly tools?: Readonly<Record<string, ToolOverride>>;
  /** Longest delegation chain accepted (default 8); deeper calls are denied, which ends A→B→A loops. */
  readonly maxDelegationDepth?: number;
  /**
   * Time one call in this many per tool for the latency stats and histogram (default 8; 1 = every
   * call). Counts are always exact; with the events plugin loaded every call is timed.
   */
  readonly latencySampleEvery?: number;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** The events service, when loaded: calls publish `tool.called`, `tool.failed`, `tool.denied`. */
  readonly events?: EventBus | undefined;
  /** The resilience service, when loaded: tools with a `policy` run through it. */
  readonly resilience?: ResilienceService | undefined;
}

type Outcome = 'ok' | 'error' | 'timeout' | 'denied' | 'rejected' | 'replayed';

interface MutableStats {
  calls: number;
  successes: number;
  errors: number;
  timeouts: number;
  replays: number;
  /** Calls whose duration was measured (see `latencySampleEvery`). */
  timed: number;
  totalLatencyMs: number;
  maxLatencyMs: number;
}

interface Registered {
  readonly name: string;
  readonly definition: ToolDefinition<z.ZodType, z.ZodType>;
  readonly input: z.ZodType;
  readonly output: z.ZodType | undefined;
  readonly timeoutMs: number;
  readonly policyName: string | undefined;
  readonly idempotent: boolean;
  /** `false` (the common case, one comparison on the hot path), `true`, or the tool's predicate. */
  readonly needsApproval: boolean | ((input: unknown) => boolean);
  /** Resolved on first call: a Policy, or null when resilience is absent (warned once). */
  policy: Policy | null | undefined;
  readonly stats: MutableStats;
  /** Label objects made once per tool: the hot path must not allocate them per call. */
  readonly labels: Readonly<Record<Outcome, Labels>>;
  readonly durationLabels: Labels;
  info: ToolInfo | undefined;
  description: ToolDescription | undefined;
}

const EMPTY_CHAIN: readonly string[] = Object.freeze([]);
const RESOLVED: Promise<void> = Promise.resolve();
const UNKNOWN_TOOL = '(unknown)';

function outcomeLabels(tool: string): Readonly<Record<Outcome, Labels>> {
  const make = (outcome: Outcome): Labels => Object.freeze({ tool, outcome });
  return Object.freeze({
    ok: make('ok'),
    error: make('error'),
    timeout: make('timeout'),
    denied: make('denied'),
    rejected: make('rejected'),
    replayed: make('replayed'),
  });
}

/** Whether a call with this (validated) input needs approval; a predicate that throws means yes. */
function approvalNeeded(rule: boolean | ((input: unknown) => boolean), input: unknown): boolean {
  if (typeof rule === 'boolean') return rule;
  try {
    return rule(input) !== false;
  } catch {
    return true;
  }
}

function describeIssues(error: z.ZodError): { message: string; issues: Array<{ path: string; message: string; code: string }> } {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message, code: i.code }));
  return { message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

function isAsyncParseError(error: unknown): boolean {
  return error instanceof z.core.$ZodAsyncError;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  try {
    return z.toJSONSchema(schema) as JsonSchema;
  } catch {
    // Transforms and the like have no JSON Schema; describe what can be described.
    return z.toJSONSchema(schema, { unrepresentable: 'any' }) as JsonSchema;
  }
}

/** The `tools` service. */
export class ToolBus implements ToolBusContract {
  readonly hooks: ToolHooks = Object.freeze({
    approve: new AsyncSeriesBailHook<[ApprovalRequest], ApprovalDecision | undefined>(['request']),
  });

  readonly #tools = new Map<string, Registered>();
  readonly #permissions = new Permissions();
  /** Copy-on-write, so a call keeps the chain it started with while `use` adds to it. */
  #middleware: readonly ToolMiddleware[] = [];
  readonly #deadlines = new Deadlines();
  readonly #idempotency: IdempotencyCache;
  readonly #defaultTimeoutMs: number;
  readonly #overrides: Readonly<Record<string, ToolOverride>>;
  readonly #maxDepth: number;
  readonly #sampleEvery: number;
  readonly #logger: Logger | undefined;
  readonly #callsTotal: Counter | undefined;
  readonly #duration: Histogram | undefined;
  readonly #unknownLabels = outcomeLabels(UNKNOWN_TOOL);
  #events: EventBus | undefined;
  #resilience: ResilienceService | undefined;
  readonly #callIdPrefix = `${randomUUID().slice(0, 8)}-`;
  #callSeq = 0;
  #closed = false;
  readonly #host: CallHost;

  constructor(options: ToolBusOptions = {}) {
    this.#defaultTimeoutMs = checkTimeoutSetting(options.defaultTimeoutMs ?? 30_000, (message) =>
      toolError(ToolErrorCodes.INVALID_OPTIONS, `ToolBus defaultTimeoutMs: ${message}`, { option: 'defaultTimeoutMs' }),
    );
    this.#idempotency = new IdempotencyCache(options.idempotency ?? { capacity: 10_000, ttlMs: 600_000 });
    this.#overrides = options.tools ?? {};
    this.#maxDepth = options.maxDelegationDepth ?? 8;
    this.#sampleEvery = Math.max(1, Math.floor(options.latencySampleEvery ?? 8));
    this.#logger = options.logger;
    this.#events = options.events;
    this.#resilience = options.resilience;
    if (options.metrics !== undefined) {
      this.#callsTotal = options.metrics.counter({
        name: 'tool_calls_total',
        help: 'Tool calls by tool and outcome (ok, error, timeout, denied, rejected, replayed)',
        labelNames: ['tool', 'outcome'],
      });
      this.#duration = options.metrics.histogram({
        name: 'tool_call_duration_seconds',
        help: 'Duration of tool calls that reached the tool (one call in latencySampleEvery per tool)',
        labelNames: ['tool'],
        buckets: [0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      });
    }
    const bus = this;
    this.#host = {
      nextCallId: () => this.#callIdPrefix + (++this.#callSeq).toString(36),
      nested: (parent, name, input, opts) => bus.#start(parent.agentId, name, input, opts, parent),
      checkOutput: (call, value) => bus.#checkOutput(call, value),
      timeoutError: (call) =>
        toolError(
          ToolErrorCodes.TIMEOUT,
          call.phase === 'approval'
            ? `approval of tool '${call.tool}' was not given within ${call.timeoutMs} ms`
            : `tool '${call.tool}' did not finish within ${call.timeoutMs} ms`,
          { tool: call.tool, agentId: call.agentId, callId: call.callId, timeoutMs: call.timeoutMs, phase: call.phase },
        ),
      cancelledError: (call, reason) =>
        toolError(
          ToolErrorCodes.CANCELLED,
          `call of tool '${call.tool}' was cancelled${reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : ''}`,
          { tool: call.tool, agentId: call.agentId, callId: call.callId },
          reason,
        ),
      settled: (call) => bus.#deadlines.remove(call),
    };
  }

  // ── registry ────────────────────────────────────────────────────────────────────────────

  /** Registers a tool; throws TOOL_INVALID_NAME, TOOL_INVALID_DEFINITION or TOOL_NAME_TAKEN. The disposer unregisters it. */
  register<I extends z.ZodType, O extends z.ZodType = z.ZodType>(definition: ToolDefinition<I, O>): Disposer {
    const def = definition as unknown as ToolDefinition<z.ZodType, z.ZodType>;
    assertToolName(def?.name);
    if (typeof def.description !== 'string' || typeof def.handler !== 'function' || !(def.input instanceof z.ZodType)) {
      throw toolError(
        ToolErrorCodes.INVALID_DEFINITION,
        `tool '${def.name}' needs a description (string), an input zod schema and a handler function`,
        { name: def.name },
      );
    }
    if (def.output !== undefined && !(def.output instanceof z.ZodType)) {
      throw toolError(ToolErrorCodes.INVALID_DEFINITION, `tool '${def.name}': output must be a zod schema`, { name: def.name });
    }
    if (def.idempotent !== undefined && typeof def.idempotent !== 'boolean') {
      throw toolError(ToolErrorCodes.INVALID_DEFINITION, `tool '${def.name}': idempotent must be a boolean`, { name: def.name });
    }
    const needsApproval = def.needsApproval ?? false;
    if (typeof needsApproval !== 'boolean' && typeof needsApproval !== 'function') {
      throw toolError(ToolErrorCodes.INVALID_DEFINITION, `tool '${def.name}': needsApproval must be a boolean or a function (input) => boolean`, {
        name: def.name,
      });
    }
    if (this.#tools.has(def.name)) {
      throw toolError(ToolErrorCodes.NAME_TAKEN, `a tool named '${def.name}' is already registered; unregister it first or pick another name`, {
        name: def.name,
      });
    }
    const badTimeout = (message: string): Error => toolError(ToolErrorCodes.INVALID_DEFINITION, `tool '${def.name}': ${message}`, { name: def.name });
    const ownTimeout = def.timeoutMs === undefined ? undefined : checkTimeoutSetting(def.timeoutMs, badTimeout);
    const override = this.#overrides[def.name];
    const entry: Registered = {
      name: def.name,
      definition: def,
      input: def.input,
      output: def.output,
      timeoutMs: override?.timeoutMs === undefined ? (ownTimeout ?? this.#defaultTimeoutMs) : checkTimeoutSetting(override.timeoutMs, badTimeout),
      policyName: override?.policy ?? def.policy,
      idempotent: def.idempotent === true,
      needsApproval: needsApproval as boolean | ((input: unknown) => boolean),
      policy: undefined,
      stats: { calls: 0, successes: 0, errors: 0, timeouts: 0, replays: 0, timed: 0, totalLatencyMs: 0, maxLatencyMs: 0 },
      labels: outcomeLabels(def.name),
      durationLabels: Object.freeze({ tool: def.name }),
      info: undefined,
      description: undefined,
    };
    this.#tools.set(def.name, entry);
    this.#publish('tool.registered', def.name, undefined, { tool: def.name });
    return async () => {
      if (this.#tools.get(def.name) === entry) this.unregister(def.name);
    };
  }

  /** Removes a tool (calls in flight finish); false when none had that name. */
  unregister(name: string): boolean {
    const removed = this.#tools.delete(name);
    if (removed) this.#publish('tool.unregistered', name, undefined, { tool: name });
    return removed;
  }

  /** Whether a tool by that name is registered. */
  has(name: string): boolean {
    return this.#tools.has(name);
  }

  // ── permissions ─────────────────────────────────────────────────────────────────────────

  /** Adds allow patterns for an agent (`'*'` as agent id: every agent). */
  grant(agentId: string, patterns: string | readonly string[]): void {
    this.#permissions.grant(agentId, patterns);
  }

  /** Removes the given allow patterns, or all of the agent's when none are given. */
  revoke(agentId: string, patterns?: string | readonly string[]): void {
    this.#permissions.revoke(agentId, patterns);
  }

  /** Adds deny patterns; a deny wins over every grant. */
  deny(agentId: string, patterns: string | readonly string[]): void {
    this.#permissions.deny(agentId, patterns);
  }

  /** Removes the given deny patterns, or all of the agent's when none are given. */
  undeny(agentId: string, patterns?: string | readonly string[]): void {
    this.#permissions.undeny(agentId, patterns);
  }

  /** The agent's own grant and deny patterns. */
  permissions(agentId: string): AgentPermissions {
    return this.#permissions.of(agentId);
  }

  /** Whether the agent may call `name` (registered or not), ignoring delegation. */
  allowed(agentId: string, name: string): boolean {
    return this.#permissions.allows(agentId, name);
  }

  /** The tools the agent may call, with JSON Schemas (`z.toJSONSchema`, computed once per tool). */
  list(agentId: string): ToolInfo[] {
    const out: ToolInfo[] = [];
    for (const entry of this.#tools.values()) {
      if (!this.#permissions.allows(agentId, entry.name)) continue;
      entry.info ??= Object.freeze({
        name: entry.name,
        description: entry.definition.description,
        inputSchema: jsonSchemaOf(entry.input),
        outputSchema: entry.output === undefined ? undefined : jsonSchemaOf(entry.output),
      });
      out.push(entry.info);
    }
    return out;
  }

  /** A registered tool's metadata (idempotent, needsApproval, schemas); undefined when unknown. */
  describe(name: string): ToolDescription | undefined {
    const entry = this.#tools.get(name);
    if (entry === undefined) return undefined;
    return (entry.description ??= describeTool(entry));
  }

  // ── middleware and agents ───────────────────────────────────────────────────────────────

  /** Appends a Koa-style middleware; the disposer removes it (calls already started keep their chain). */
  use(middleware: ToolMiddleware): Disposer {
    if (typeof middleware !== 'function') throw new TypeError('tools.use: middleware must be a function (ctx, next) => …');
    this.#middleware = [...this.#middleware, middleware];
    return async () => {
      this.#middleware = this.#middleware.filter((m) => m !== middleware);
    };
  }

  /** Registers an actor as a tool called through `ref.ask`; see agentAsTool.ts for delegation. */
  agentAsTool<I extends z.ZodType, O extends z.ZodType = z.ZodType>(
    ref: ActorRef<ToolCallMessage<z.output<I>>, z.input<O>>,
    spec: AgentToolSpec<I, O>,
  ): Disposer {
    return agentAsTool(this, ref, spec);
  }

  // ── calls ───────────────────────────────────────────────────────────────────────────────

  /** Calls a tool for an agent: permission → lookup → replay → validation → approval → middleware → handler → output. */
  call<T = unknown>(agentId: string, name: string, input: unknown, options?: CallOptions): Promise<T> {
    return this.#start(agentId, name, input, options, undefined) as Promise<T>;
  }

  /** Permission, lookup and idempotency; never throws synchronously. */
  #start(agentId: string, name: string, input: unknown, options: CallOptions | NestedCallOptions | undefined, parent: ToolCall | undefined): Promise<unknown> {
    try {
      if (options !== undefined) checkCallOptions(options);
      // The chain is explicit only (the call's own, else the parent call's): an ambient one carried
      // by async context can leak from one request into another served by the same actor.
      const delegation = parent === undefined ? (options as CallOptions | undefined)?.delegation : parent.delegation;
      const denial = this.#checkAccess(agentId, name, delegation, options, parent);
      if (denial !== undefined) return Promise.reject(denial);
      const tool = this.#tools.get(name);
      if (tool === undefined) {
        this.#callsTotal?.inc(this.#unknownLabels.error);
        return Promise.reject(
          toolError(ToolErrorCodes.NOT_FOUND, `no tool named '${name}' is registered (agent '${agentId}' may call it once it is)`, {
            agentId,
            tool: name,
          }),
        );
      }
      const callId = options?.callId;
      if (callId === undefined || !this.#idempotency.enabled) {
        return this.#run(tool, agentId, input, delegation, options, parent);
      }
      // Keyed by agent and tool too: another agent reusing a call id must not read this result.
      const key = `${agentId}\u0000${name}\u0000${callId}`;
      const print = fingerprint(input);
      const found = this.#idempotency.lookup(key, print);
      if (found.hit && found.conflict) {
        this.#callsTotal?.inc(tool.labels.error);
        return Promise.reject(
          toolError(
            ToolErrorCodes.IDEMPOTENCY_CONFLICT,
            `call id '${callId}' of agent '${agentId}' was already used for tool '${name}' with a different input; use a new call id for a new call`,
            { agentId, tool: name, callId },
          ),
        );
      }
      if (found.hit) {
        tool.stats.replays++;
        this.#callsTotal?.inc(tool.labels.replayed);
        if (this.#events !== undefined) {
          this.#publish('tool.called', name, options?.correlationId ?? parent?.correlationId ?? callId, {
            tool: name, agentId, callId, delegation: delegation ?? EMPTY_CHAIN, replayed: true,
          });
        }
        return found.pending ? found.promise : Promise.resolve(found.value);
      }
      const promise = this.#run(tool, agentId, input, delegation, options, parent);
      this.#idempotency.track(key, print, promise);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Undefined when every agent of the chain may call `name`, else the error to fail with. */
  #checkAccess(
    agentId: string,
    name: string,
    delegation: readonly string[] | undefined,
    options: NestedCallOptions | undefined,
    parent: ToolCall | undefined,
  ): ToolError | undefined {
    let deniedBy: string | undefined;
    if (!this.#permissions.allows(agentId, name)) deniedBy = agentId;
    else if (delegation !== undefined && delegation.length > 0) {
      if (delegation.length > this.#maxDepth) {
        return this.#denied(agentId, name, delegation, agentId, `the delegation chain is longer than ${this.#maxDepth}`, options, parent);
      }
      for (const d of delegation) {
        if (!this.#permissions.allows(d, name)) {
          deniedBy = d;
          break;
        }
      }
    }
    if (deniedBy === undefined) return undefined;
    const why = this.#permissions.denies(deniedBy, name) ? 'an explicit deny matches' : 'no grant matches';
    const reason = deniedBy === agentId ? `${why} for agent '${agentId}'` : `agent '${agentId}' acts for '${deniedBy}', for whom ${why}`;
    return this.#denied(agentId, name, delegation, deniedBy, reason, options, parent);
  }

  #denied(
    agentId: string,
    name: string,
    delegation: readonly string[] | undefined,
    deniedBy: string,
    reason: string,
    options: NestedCallOptions | undefined,
    parent: ToolCall | undefined,
  ): ToolError {
    const chain = delegation ?? EMPTY_CHAIN;
    this.#callsTotal?.inc(this.#tools.get(name)?.labels.denied ?? this.#unknownLabels.denied);
    if (this.#events !== undefined) {
      const correlationId = options?.correlationId ?? parent?.correlationId ?? options?.callId;
      const data = { tool: name, agentId, delegation: chain, deniedBy, reason, ...(options?.callId === undefined ? {} : { callId: options.callId }) };
      this.#publish('tool.denied', name, correlationId, data, parent?.callId);
    }
    return toolError(
      ToolErrorCodes.ACCESS_DENIED,
      `agent '${agentId}' may not call tool '${name}': ${reason}; grant it with tools.grant('${deniedBy}', ['${name}'])`,
      { agentId, tool: name, delegation: chain, deniedBy },
    );
  }

  async #run(
    tool: Registered,
    agentId: string,
    rawInput: unknown,
    delegation: readonly string[] | undefined,
    options: CallOptions | undefined,
    parent: ToolCall | undefined,
  ): Promise<unknown> {
    // Two clock reads cost ~100 ns, an eighth of a fast call: time one call in N (the first always),
    // and every call while events are published (their data carries the duration).
    const began = tool.stats.calls++ % this.#sampleEvery === 0 || this.#events !== undefined ? performance.now() : -1;
    const timeoutMs = options?.timeoutMs === undefined ? tool.timeoutMs : capTimeout(options.timeoutMs);
    const call = new ToolCall(this.#host, agentId, tool.name, rawInput, delegation, options, parent, timeoutMs, tool.output);
    try {
      if (this.#closed) throw this.#host.cancelledError(call, 'the tool bus is stopped');
      if (call.aborted) throw this.#host.cancelledError(call, call.callerSignal?.reason);
      let parsed: z.ZodSafeParseResult<unknown>;
      try {
        parsed = tool.input.safeParse(rawInput);
      } catch (error) {
        if (!isAsyncParseError(error)) throw error;
        parsed = await tool.input.safeParseAsync(rawInput);
      }
      if (!parsed.success) {
        const { message, issues } = describeIssues(parsed.error);
        throw toolError(ToolErrorCodes.INVALID_INPUT, `invalid input for tool '${tool.name}': ${message}`, {
          tool: tool.name,
          agentId,
          issues,
        }, parsed.error);
      }
      call.input = parsed.data;
      const needsApproval = tool.needsApproval !== false && approvalNeeded(tool.needsApproval, call.input);
      // preApproved counts only on the outer call: a handler's nested call cannot claim approval.
      if ((needsApproval || this.hooks.approve.isUsed()) && (parent !== undefined || options?.preApproved !== true)) {
        await this.#approve(call, needsApproval);
      }
      const middleware = this.#middleware;
      const done = middleware.length === 0 ? this.#invoke(tool, call) : this.#dispatch(tool, call, middleware, 0);
      if (done !== undefined) await done;
      this.#record(tool, call, 'ok', began, undefined);
      return call.result;
    } catch (error) {
      throw this.#failed(tool, call, error, began);
    } finally {
      call.dispose();
    }
  }

  async #approve(call: ToolCall, needed: boolean): Promise<void> {
    if (!this.hooks.approve.isUsed()) throw this.#unapproved(call);
    let decision: unknown;
    const request: ApprovalRequest = {
      agentId: call.agentId,
      tool: call.tool,
      input: call.input,
      callId: call.callId,
      delegation: call.delegation,
    };
    // A human in the loop may never answer: the wait joins the deadline list like a handler does
    // (the call's timeout, the caller's signal and the bus stopping all end it).
    try {
      const answer = this.hooks.approve.promise(request);
      await call.waitFor(answer, this.#deadlines, 'approval');
      decision = call.decision;
    } catch (error) {
      if (error instanceof ToolError && (error.code === ToolErrorCodes.TIMEOUT || error.code === ToolErrorCodes.CANCELLED)) throw error;
      throw toolError(ToolErrorCodes.REJECTED, `approval of tool '${call.tool}' failed (rejected): ${(error as Error)?.message ?? String(error)}`, {
        tool: call.tool,
        agentId: call.agentId,
        callId: call.callId,
      }, error);
    }
    // Fail closed: only 'allow', or "no decision" for a tool that does not need approval, lets the call through.
    if (decision === undefined && needed) throw this.#unapproved(call);
    if (decision !== undefined && decision !== 'allow') {
      throw toolError(ToolErrorCodes.REJECTED, `call of tool '${call.tool}' by agent '${call.agentId}' was not approved`, {
        tool: call.tool,
        agentId: call.agentId,
        callId: call.callId,
        decision,
      });
    }
  }

  #unapproved(call: ToolCall): ToolError {
    return toolError(
      ToolErrorCodes.REJECTED,
      `tool '${call.tool}' needs approval and no approver allowed the call by agent '${call.agentId}': tap tools.hooks.approve, or call it with { preApproved: true } once approved`,
      { tool: call.tool, agentId: call.agentId, callId: call.callId, reason: 'approval-required' },
    );
  }

  /** Runs middleware `i` (or the handler past the last); undefined when it finished synchronously. */
  #dispatch(tool: Registered, call: ToolCall, chain: readonly ToolMiddleware[], i: number): void | Promise<void> {
    if (i === chain.length) return this.#invoke(tool, call);
    let called = false;
    const result = chain[i]!(call, () => {
      if (called) return Promise.reject(new Error(`middleware #${i} called next() more than once`));
      called = true;
      try {
        const r = this.#dispatch(tool, call, chain, i + 1);
        return r === undefined ? RESOLVED : r;
      } catch (error) {
        return Promise.reject(error);
      }
    });
    return isThenable(result) ? (result as Promise<void>) : undefined;
  }

  /** The handler under its deadline, then output validation. */
  #invoke(tool: Registered, call: ToolCall): void | Promise<void> {
    if (call.aborted) throw this.#host.cancelledError(call, call.callerSignal?.reason ?? 'cancelled before the handler ran');
    const policy = tool.policyName === undefined ? null : this.#policyOf(tool);
    const result = policy === null ? tool.definition.handler(call.input, call) : this.#withPolicy(tool, call, policy);
    if (isThenable(result)) return call.waitFor(result, this.#deadlines);
    call.result = this.#checkOutput(call, result);
    return undefined;
  }

  #policyOf(tool: Registered): Policy | null {
    if (tool.policy !== undefined) return tool.policy;
    if (this.#resilience === undefined) {
      this.#logger?.warn({ tool: tool.name, policy: tool.policyName }, `tool '${tool.name}' names policy '${tool.policyName}' but the resilience plugin is not loaded; calling it without`);
      tool.policy = null;
    } else {
      // Throws RESILIENCE_UNKNOWN_POLICY for a name the resilience options do not define: that
      // fails the call (TOOL_FAILED) rather than silently running without the policy.
      tool.policy = this.#resilience.policy(tool.policyName!);
    }
    return tool.policy;
  }

  #withPolicy(tool: Registered, call: ToolCall, policy: Policy): Promise<unknown> {
    return policy.execute(({ signal }) => tool.definition.handler(call.input, new AttemptContext(call, signal)), { signal: call.signal });
  }

  #checkOutput(call: ToolCall, value: unknown): unknown {
    const schema = call.outputSchema;
    if (schema === undefined) return value;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const { message, issues } = describeIssues(parsed.error);
    throw toolError(ToolErrorCodes.INVALID_OUTPUT, `tool '${call.tool}' returned an invalid result: ${message}`, {
      tool: call.tool,
      agentId: call.agentId,
      callId: call.callId,
      issues,
    }, parsed.error);
  }

  #failed(tool: Registered, call: ToolCall, error: unknown, began: number): unknown {
    let failure: MisterSmithError;
    if (error instanceof ToolError || (error instanceof MisterSmithError && error.kind === 'tool')) failure = error;
    else {
      failure = toolError(
        ToolErrorCodes.FAILED,
        `tool '${tool.name}' failed: ${error instanceof Error ? error.message : String(error)}`,
        { tool: tool.name, agentId: call.agentId, callId: call.callId },
        error,
      );
    }
    const outcome: Outcome =
      failure.code === ToolErrorCodes.TIMEOUT ? 'timeout' : failure.code === ToolErrorCodes.REJECTED ? 'rejected' : 'error';
    this.#record(tool, call, outcome, began, failure);
    return failure;
  }

  #record(tool: Registered, call: ToolCall, outcome: Outcome, began: number, failure: MisterSmithError | undefined): void {
    const s = tool.stats;
    let ms: number | undefined;
    if (began >= 0) {
      ms = performance.now() - began;
      s.timed++;
      s.totalLatencyMs += ms;
      if (ms > s.maxLatencyMs) s.maxLatencyMs = ms;
      this.#duration?.observe(tool.durationLabels, ms / 1000);
    }
    if (outcome === 'ok') s.successes++;
    else {
      s.errors++;
      if (outcome === 'timeout') s.timeouts++;
    }
    this.#callsTotal?.inc(tool.labels[outcome]);
    // Event objects only exist when someone stores them.
    if (this.#events === undefined) return;
    const base = { tool: tool.name, agentId: call.agentId, callId: call.callId, delegation: call.delegation, durationMs: ms };
    if (failure === undefined) this.#publish('tool.called', tool.name, call.correlationId, base, call.parent?.callId);
    else if (outcome === 'rejected') {
      this.#publish('tool.denied', tool.name, call.correlationId, { ...base, reason: failure.message, code: failure.code }, call.parent?.callId);
    } else {
      this.#publish('tool.failed', tool.name, call.correlationId, { ...base, code: failure.code, message: failure.message }, call.parent?.callId);
    }
  }

  #publish(type: string, subject: string, correlationId: string | undefined, data: Record<string, unknown>, causationId?: string): void {
    const events = this.#events;
    if (events === undefined) return;
    events
      .publish({
        type,
        source: 'tools',
        subject,
        data,
        ...(correlationId === undefined ? {} : { correlationId }),
        ...(causationId === undefined ? {} : { causationId }),
      })
      .catch((error: unknown) => this.#logger?.warn({ err: error, type }, 'could not publish a tool event'));
  }

  // ── stats and lifecycle ─────────────────────────────────────────────────────────────────

  /** Per-tool counters and latency: of every tool, or of one (undefined when unknown). */
  stats(): ToolStats[];
  stats(name: string): ToolStats | undefined;
  stats(name?: string): ToolStats[] | ToolStats | undefined {
    if (name !== undefined) {
      const tool = this.#tools.get(name);
      return tool === undefined ? undefined : snapshot(tool);
    }
    return [...this.#tools.values()].map(snapshot);
  }

  /** Calls whose handler is still running. */
  get inFlight(): number {
    return this.#deadlines.size;
  }

  /** @internal the plugin wires optional services found after construction. */
  attach(services: { events?: EventBus | undefined; resilience?: ResilienceService | undefined }): void {
    if (services.events !== undefined) this.#events = services.events;
    if (services.resilience !== undefined) this.#resilience = services.resilience;
  }

  /**
   * Stops the bus: calls in flight fail with TOOL_CANCELLED (their handlers' signals abort), later
   * calls too, and the deadline timer is cleared. Idempotent.
   */
  close(reason = 'the tool bus is stopping'): void {
    this.#closed = true;
    this.#deadlines.drain((entry) => (entry as ToolCall).cancel(reason));
    this.#deadlines.close();
    this.#idempotency.clear();
  }
}

function describeTool(entry: Registered): ToolDescription {
  const rule = entry.needsApproval;
  return Object.freeze({
    name: entry.name,
    description: entry.definition.description,
    idempotent: entry.idempotent,
    needsApproval(input: unknown): boolean {
      if (typeof rule === 'boolean') return rule;
      let parsed: z.ZodSafeParseResult<unknown>;
      try {
        parsed = entry.input.safeParse(input);
      } catch {
        return true; // only an async schema can tell: ask
      }
      return parsed.success && approvalNeeded(rule, parsed.data);
    },
    inputSchema: jsonSchemaOf(entry.input),
    outputSchema: entry.output === undefined ? undefined : jsonSchemaOf(entry.output),
  });
}

function snapshot(tool: Registered): ToolStats {
  const s = tool.stats;
  return {
    tool: tool.name,
    calls: s.calls,
    successes: s.successes,
    errors: s.errors,
    timeouts: s.timeouts,
    replays: s.replays,
    latencySamples: s.timed,
    meanLatencyMs: s.timed === 0 ? 0 : s.totalLatencyMs / s.timed,
    maxLatencyMs: s.maxLatencyMs,
    totalLatencyMs: s.totalLatencyMs,
  };
}

/** The handler context of one policy attempt: the call's, with the attempt's signal. */
class AttemptContext implements ToolContext {
  readonly #call: ToolCall;
  readonly signal: AbortSignal;
  constructor(call: ToolCall, signal: AbortSignal) {
    this.#call = call;
    this.signal = signal;
  }
  get agentId(): string {
    return this.#call.agentId;
  }
  get callId(): string {
    return this.#call.callId;
  }
  get delegation(): readonly string[] {
    return this.#call.delegation;
  }
  get correlationId(): string {
    return this.#call.correlationId;
  }
  call<T = unknown>(name: string, input: unknown, options?: NestedCallOptions): Promise<T> {
    return this.#call.call<T>(name, input, options);
  }
}
