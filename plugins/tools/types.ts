/**
 * Public contract of the tools plugin. Other plugins (agents, providers) use
 * these names through `import type`; the tools plugin implements them in `ToolBus.ts`.
 */
import type { AsyncSeriesBailHook, SyncHook } from 'tapable';
import type { z } from 'zod';
import type { Disposer } from '../../sdk/index.js';
import type { ActorRef } from '../actors/types.js';

/** A JSON Schema document as produced by `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>;

/** Options of one `tools.call`. */
export interface CallOptions {
  /** Aborting it cancels the call (`TOOL_CANCELLED`) and aborts the signal the handler sees. */
  readonly signal?: AbortSignal;
  /**
   * Deadline of the handler (and of the approval wait); default: the config's per-tool timeout, the
   * tool's `timeoutMs`, else the bus's `defaultTimeoutMs` (30 000). Must be above 0
   * (`TOOL_INVALID_OPTIONS` otherwise): a deadline cannot be removed. Infinity and values above
   * 2^31 − 1 ms (`MAX_TIMEOUT_MS`) are capped to it.
   */
  readonly timeoutMs?: number;
  /**
   * Idempotency key. A call whose `(agentId, tool, callId)` already completed returns the stored
   * result without running the handler; a concurrent duplicate waits for the first.
   */
  readonly callId?: string;
  /** Carried into events (`correlationId`); default: the parent call's, else the call id. */
  readonly correlationId?: string;
  /**
   * Agents this call is made on behalf of, outermost first (an agent-as-tool callee passes the
   * `delegation` of the message it received). The call is allowed only if every one of them, and
   * `agentId`, may call the tool.
   */
  readonly delegation?: readonly string[];
  /**
   * The caller already obtained approval for this call (the agents plugin, which suspends a run
   * durably until `agents.approve`): `tools.hooks.approve` is not asked. Never set it from input an
   * agent or a remote client controls.
   */
  readonly preApproved?: true;
  /**
   * W3C trace context of the caller's span (the agents plugin passes its tool-call span when otel is
   * loaded). The handler sees it as `ctx.traceparent`, `http.fetch` sends it as the `traceparent`
   * header, and the bus's `tool.*` events carry it. A malformed value is `TOOL_INVALID_OPTIONS`.
   */
  readonly traceparent?: string;
}

/**
 * Options of a nested call made from a handler with `ctx.call`; signal and delegation are inherited,
 * and a nested call cannot claim approval (`preApproved`) on its own.
 */
export type NestedCallOptions = Omit<CallOptions, 'delegation' | 'preApproved'>;

/** What a tool handler receives besides its input. */
export interface ToolContext {
  /** The agent the call is made by. */
  readonly agentId: string;
  /** This call's id (the caller's `callId`, or a generated one). */
  readonly callId: string;
  /** Aborted at the deadline, when the caller cancels, or when the kernel stops. */
  readonly signal: AbortSignal;
  /** Agents this call acts on behalf of, outermost first (empty for a direct call). */
  readonly delegation: readonly string[];
  /** The correlation id events of this call carry. */
  readonly correlationId: string;
  /** The caller's W3C trace context (`CallOptions.traceparent`); nested calls inherit it unless they pass their own. */
  readonly traceparent?: string;
  /** A nested call on behalf of the same agent, with the same delegation chain and signal. */
  call<T = unknown>(name: string, input: unknown, options?: NestedCallOptions): Promise<T>;
}

/**
 * A tool. `I` and `O` are zod schemas: the handler receives `z.output<I>` (validated, defaults
 * applied) and returns what `O` accepts.
 */
export interface ToolDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** Dotted name, `ns.verb` (`fs.read`): segments of `[A-Za-z][A-Za-z0-9_-]*`, at most 64 characters. */
  readonly name: string;
  /** What the tool does, for humans and models. */
  readonly description: string;
  readonly input: I;
  /** When given, the handler's result is validated (`TOOL_INVALID_OUTPUT`). */
  readonly output?: O;
  /** Deadline of one call in ms; the config's `tools.<name>.timeoutMs` overrides it. */
  readonly timeoutMs?: number;
  /** A resilience policy name applied around the handler; the config's `tools.<name>.policy` overrides it. */
  readonly policy?: string;
  /**
   * Running the tool twice with the same input and `ctx.callId` has the effect of running it once
   * (default false). A durable agent run re-runs an in-doubt call after a crash only for such tools.
   */
  readonly idempotent?: boolean;
  /**
   * Whether a call needs approval: `true`, or a predicate over the validated input (default false).
   * Such a call asks `tools.hooks.approve` unless the caller passes `preApproved`, and with no
   * decision it is rejected (`TOOL_REJECTED`, fail closed). A predicate that throws means "needs
   * approval".
   */
  readonly needsApproval?: boolean | ((input: z.output<I>) => boolean);
  handler(input: z.output<I>, ctx: ToolContext): z.input<O> | Promise<z.input<O>>;
}

/** What `tools.describe(name)` returns: a tool's metadata, for a caller deciding how to call it. */
export interface ToolDescription {
  readonly name: string;
  readonly description: string;
  /** The tool's `idempotent` flag (false when not set). */
  readonly idempotent: boolean;
  /**
   * Whether a call with this input needs approval. The input is validated first: an invalid input
   * needs none (the call fails validation before approval); an input that only an async schema can
   * validate, or a predicate that throws, needs it (fail closed).
   */
  needsApproval(input: unknown): boolean;
  readonly inputSchema: JsonSchema;
  /** Undefined when the tool declares no output schema. */
  readonly outputSchema: JsonSchema | undefined;
}

/** What `tools.list(agentId)` returns per tool: the shape an LLM function-calling API takes. */
export interface ToolInfo {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: JsonSchema;
  /** Undefined when the tool declares no output schema. */
  readonly outputSchema: JsonSchema | undefined;
}

/** The context a middleware sees: the call, and its result once `next()` resolved. */
export interface ToolCallContext {
  readonly agentId: string;
  /** The tool's name. */
  readonly tool: string;
  /** The validated input; a middleware may replace it before calling `next()`. */
  input: unknown;
  readonly callId: string;
  readonly delegation: readonly string[];
  readonly correlationId: string;
  readonly signal: AbortSignal;
  /** The call's W3C trace context, as the handler sees it (`ToolContext.traceparent`); undefined when untraced. */
  readonly traceparent?: string;
  /**
   * The handler's (validated) result after `next()`; a middleware may replace it, or set it and
   * not call `next()` at all (a cache).
   */
  result: unknown;
}

/** Koa-style middleware: runs in registration order around the handler. */
export type ToolMiddleware = (ctx: ToolCallContext, next: () => Promise<void>) => void | Promise<void>;

/** What the approval hook decides about. */
export interface ApprovalRequest {
  readonly agentId: string;
  /** The tool's name. */
  readonly tool: string;
  readonly input: unknown;
  readonly callId: string;
  readonly delegation: readonly string[];
}

/** `'deny'` fails the call with `TOOL_REJECTED`; `'allow'` stops asking further taps. */
export type ApprovalDecision = 'allow' | 'deny';

export interface ToolHooks {
  /**
   * Human- or policy-in-the-loop approval, after input validation. The first tap returning a
   * decision wins; no decision means allowed (the grant already said yes) — except for a tool that
   * `needsApproval`, which is rejected without an `'allow'`. A tap that throws rejects the call
   * (`TOOL_REJECTED`, fail closed). Not asked for a call with `preApproved`.
   */
  readonly approve: AsyncSeriesBailHook<[ApprovalRequest], ApprovalDecision | undefined>;
  /**
   * Called with a tool's name once it is registered (a transport serving tools to other nodes
   * picks up tools registered after it started). A tap that throws is logged, never fails `register`.
   */
  readonly registered: SyncHook<[string]>;
  /** Called with a tool's name once it is unregistered (by name or by its disposer). */
  readonly unregistered: SyncHook<[string]>;
}

/** An agent's permission patterns. */
export interface AgentPermissions {
  readonly grants: readonly string[];
  readonly deny: readonly string[];
}

/**
 * Who may call what (`tools.permissions`). Deny by default; an explicit deny wins over any grant.
 * Patterns: an exact name (`fs.read`), a namespace (`fs.*`), or `*`; agent id `'*'` means every agent.
 */
export interface ToolPermissions {
  /** Adds allow patterns; throws `TOOL_INVALID_PATTERN` for a malformed one. */
  grant(agentId: string, patterns: string | readonly string[]): void;
  /** Removes the given allow patterns, or all of the agent's when none are given. */
  revoke(agentId: string, patterns?: string | readonly string[]): void;
  /** Adds deny patterns; an explicit deny wins over any grant. */
  deny(agentId: string, patterns: string | readonly string[]): void;
  /** Removes the given deny patterns, or all of them when none are given. */
  undeny(agentId: string, patterns?: string | readonly string[]): void;
  /** Whether the agent may call the tool name (registered or not), delegation aside. */
  allowed(agentId: string, name: string): boolean;
  /** The agent's own patterns (not those granted to `'*'`). */
  of(agentId: string): AgentPermissions;
}

/** Counters of one tool since registration. */
export interface ToolStats {
  readonly tool: string;
  /** Calls that reached the tool (permitted and found). */
  readonly calls: number;
  readonly successes: number;
  /** Every failed call, timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  /** Calls answered from the idempotency cache. */
  readonly replays: number;
  /** Calls the latency figures are from: one in `latencySampleEvery` (all while events are on). */
  readonly latencySamples: number;
  readonly meanLatencyMs: number;
  readonly maxLatencyMs: number;
  readonly totalLatencyMs: number;
}

/** The message an actor registered with `agentAsTool` receives. */
export interface ToolCallMessage<I = unknown> {
  readonly input: I;
  /** The agent that called the tool. */
  readonly caller: string;
  readonly callId: string;
  /**
   * The chain the actor acts for (the caller's own chain plus the caller). Pass it as
   * `tools.call(self, name, input, { delegation })` for the actor's own tool calls.
   */
  readonly delegation: readonly string[];
  /**
   * The call's W3C trace context, present only when the call had one. Pass it on as
   * `tools.call(self, name, input, { delegation, traceparent })` so the actor's own calls join the trace.
   */
  readonly traceparent?: string;
}

/** How an actor is exposed as a tool. */
export interface AgentToolSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly input: I;
  readonly output?: O;
  /** Deadline of the tool call and of the `ask`. */
  readonly timeoutMs?: number;
  readonly policy?: string;
}

/** The `tools` service. */
export interface ToolBus {
  readonly hooks: ToolHooks;
  /** Registers a tool; throws `TOOL_INVALID_NAME` or `TOOL_NAME_TAKEN`. The disposer unregisters it. */
  register<I extends z.ZodType, O extends z.ZodType = z.ZodType>(definition: ToolDefinition<I, O>): Disposer;
  /** Removes a tool; false when there was none by that name. Calls in flight finish. */
  unregister(name: string): boolean;
  /** Whether a tool by that name is registered. */
  has(name: string): boolean;
  /** Adds allow patterns (`fs.read`, `fs.*`, `*`) for an agent (`'*'` as agent: every agent); `permissions.grant`. */
  grant(agentId: string, patterns: string | readonly string[]): void;
  /** Removes the given allow patterns, or all of them when none are given; `permissions.revoke`. */
  revoke(agentId: string, patterns?: string | readonly string[]): void;
  /** Grants, denies and decisions, as one object. */
  readonly permissions: ToolPermissions;
  /** Calls a tool on behalf of an agent; see the README for the order of checks. */
  call<T = unknown>(agentId: string, name: string, input: unknown, options?: CallOptions): Promise<T>;
  /** The tools the agent may call, with JSON Schemas. */
  list(agentId: string): ToolInfo[];
  /** A registered tool's metadata (idempotent, needsApproval, schemas); undefined when unknown. */
  describe(name: string): ToolDescription | undefined;
  /** Adds a middleware (after those already added); the disposer removes it. */
  use(middleware: ToolMiddleware): Disposer;
  /** Registers an actor as a tool called through `ref.ask`. */
  agentAsTool<I extends z.ZodType, O extends z.ZodType = z.ZodType>(
    ref: ActorRef<ToolCallMessage<z.output<I>>, z.input<O>>,
    spec: AgentToolSpec<I, O>,
  ): Disposer;
  /** Per-tool counters: all tools, or one (undefined if unknown). */
  stats(): ToolStats[];
  stats(name: string): ToolStats | undefined;
}

declare module '../../sdk/index.js' {
  interface Services {
    tools: ToolBus;
  }
}
