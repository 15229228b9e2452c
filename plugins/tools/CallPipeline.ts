/**
 * One call, start to finish: options → permission (every agent of the delegation chain too) →
 * lookup → idempotency replay → input validation → approval → middleware (registration order) →
 * handler under its deadline → output validation.
 *
 * The fast path — granted agent, sync or fast handler, no approval taps — allocates one `ToolCall`
 * and the async function's promise; permission decisions are cached, hooks with no taps are
 * skipped, and no timer or AbortSignal is made unless the handler is still running when it returns
 * (then it joins the deadline list) or someone reads `ctx.signal`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MisterSmithError, ToolError } from '../../sdk/index.js';
import { isThenable, messageOf } from '../../sdk/util/index.js';
import type { Policy, ResilienceService } from '../resilience/types.js';
import { approve } from './approval.js';
import { AttemptContext } from './AttemptContext.js';
import { CallDeadlines } from './CallDeadlines.js';
import { capTimeout, checkCallOptions } from './callOptions.js';
import { ToolErrorCodes, toolError } from './errors.js';
import { fingerprint } from './fingerprint.js';
import { IdempotencyCache, type IdempotencyOptions } from './IdempotencyCache.js';
import type { Permissions } from './Permissions.js';
import { ToolCall, type CallHost } from './ToolCall.js';
import { approvalNeeded, type Outcome, type RegisteredTool, type ToolRegistry } from './ToolRegistry.js';
import type { ToolTelemetry } from './ToolTelemetry.js';
import type { CallOptions, NestedCallOptions, ToolHooks, ToolMiddleware } from './types.js';

const EMPTY_CHAIN: readonly string[] = Object.freeze([]);
const RESOLVED: Promise<void> = Promise.resolve();

function describeIssues(error: z.ZodError): { message: string; issues: Array<{ path: string; message: string; code: string }> } {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message, code: i.code }));
  return { message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

export interface PipelineParts {
  readonly hooks: ToolHooks;
  readonly registry: ToolRegistry;
  readonly permissions: Permissions;
  readonly telemetry: ToolTelemetry;
  readonly idempotency: IdempotencyOptions;
  readonly maxDelegationDepth: number;
  readonly resilience: ResilienceService | undefined;
}

export class CallPipeline {
  readonly #hooks: ToolHooks;
  readonly #registry: ToolRegistry;
  readonly #permissions: Permissions;
  readonly #telemetry: ToolTelemetry;
  readonly #idempotency: IdempotencyCache;
  readonly #deadlines = new CallDeadlines();
  readonly #maxDepth: number;
  /** Copy-on-write, so a call keeps the chain it started with while `use` adds to it. */
  #middleware: readonly ToolMiddleware[] = [];
  #resilience: ResilienceService | undefined;
  #closed = false;
  readonly #host: CallHost;

  constructor(parts: PipelineParts) {
    this.#hooks = parts.hooks;
    this.#registry = parts.registry;
    this.#permissions = parts.permissions;
    this.#telemetry = parts.telemetry;
    this.#idempotency = new IdempotencyCache(parts.idempotency);
    this.#maxDepth = parts.maxDelegationDepth;
    this.#resilience = parts.resilience;
    this.#host = callHost(this, (parent, name, input, options) => this.start(parent.agentId, name, input, options, parent));
  }

  /** Calls whose handler (or approval) is still running. */
  get inFlight(): number {
    return this.#deadlines.size;
  }

  /** The resilience service found after construction (the plugin's start). */
  attachResilience(resilience: ResilienceService): void {
    this.#resilience = resilience;
  }

  /** Appends a middleware; the disposer removes it (calls already started keep their chain). */
  use(middleware: ToolMiddleware): () => Promise<void> {
    if (typeof middleware !== 'function') throw new TypeError('tools.use: middleware must be a function (ctx, next) => …');
    this.#middleware = [...this.#middleware, middleware];
    return async () => {
      this.#middleware = this.#middleware.filter((m) => m !== middleware);
    };
  }

  /** Options, permission, lookup and idempotency, then the call; never throws synchronously. */
  start(agentId: string, name: string, input: unknown, options: CallOptions | NestedCallOptions | undefined, parent: ToolCall | undefined): Promise<unknown> {
    try {
      if (options !== undefined) checkCallOptions(options);
      // The chain is explicit only (the call's own, else the parent call's): an ambient one carried
      // by async context can leak from one request into another served by the same actor.
      const delegation = parent === undefined ? (options as CallOptions | undefined)?.delegation : parent.delegation;
      const denial = this.#checkAccess(agentId, name, delegation, options, parent);
      if (denial !== undefined) return Promise.reject(denial);
      const tool = this.#registry.get(name);
      if (tool === undefined) {
        this.#telemetry.refused(undefined);
        return Promise.reject(
          toolError(ToolErrorCodes.NOT_FOUND, `no tool named '${name}' is registered (agent '${agentId}' may call it once it is)`, { agentId, tool: name }),
        );
      }
      const callId = options?.callId;
      if (callId === undefined || !this.#idempotency.enabled) return this.#run(tool, agentId, input, delegation, options, parent);
      // Keyed by agent and tool too: another agent reusing a call id must not read this result.
      const key = `${agentId}\u0000${name}\u0000${callId}`;
      const print = fingerprint(input);
      const found = this.#idempotency.lookup(key, print);
      if (found.hit && found.conflict) {
        this.#telemetry.refused(tool);
        return Promise.reject(
          toolError(
            ToolErrorCodes.IDEMPOTENCY_CONFLICT,
            `call id '${callId}' of agent '${agentId}' was already used for tool '${name}' with a different input; use a new call id for a new call`,
            { agentId, tool: name, callId },
          ),
        );
      }
      if (found.hit) {
        this.#telemetry.replayed(tool, agentId, callId, delegation, options?.correlationId ?? parent?.correlationId ?? callId, options?.traceparent ?? parent?.traceparent);
        return found.pending ? found.promise : Promise.resolve(found.value);
      }
      const promise = this.#run(tool, agentId, input, delegation, options, parent);
      this.#idempotency.track(key, print, promise);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Stops: calls in flight fail with TOOL_CANCELLED (their handlers' signals abort), later calls
   * too, and the deadline intervals stop. Idempotent.
   */
  close(reason: string): void {
    this.#closed = true;
    this.#deadlines.drain((entry) => (entry as ToolCall).cancel(reason));
    this.#idempotency.clear();
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
    if (!this.#permissions.allowed(agentId, name)) deniedBy = agentId;
    else if (delegation !== undefined && delegation.length > 0) {
      if (delegation.length > this.#maxDepth) {
        return this.#denied(agentId, name, delegation, agentId, `the delegation chain is longer than ${this.#maxDepth}`, options, parent);
      }
      for (const d of delegation) {
        if (!this.#permissions.allowed(d, name)) {
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
    const correlationId = options?.correlationId ?? parent?.correlationId ?? options?.callId;
    const traceparent = options?.traceparent ?? parent?.traceparent;
    this.#telemetry.denied(this.#registry.get(name), name, { agentId, delegation: chain, deniedBy, reason, callId: options?.callId }, correlationId, parent?.callId, traceparent);
    return toolError(
      ToolErrorCodes.ACCESS_DENIED,
      `agent '${agentId}' may not call tool '${name}': ${reason}; grant it with tools.grant('${deniedBy}', ['${name}'])`,
      { agentId, tool: name, delegation: chain, deniedBy },
    );
  }

  async #run(
    tool: RegisteredTool,
    agentId: string,
    rawInput: unknown,
    delegation: readonly string[] | undefined,
    options: CallOptions | undefined,
    parent: ToolCall | undefined,
  ): Promise<unknown> {
    const began = this.#telemetry.begin(tool);
    const timeoutMs = options?.timeoutMs === undefined ? tool.timeoutMs : capTimeout(options.timeoutMs);
    const call = new ToolCall(this.#host, agentId, tool.name, rawInput, delegation, options, parent, timeoutMs, tool.output);
    try {
      if (this.#closed) throw this.#host.cancelledError(call, 'the tool bus is stopped');
      if (call.aborted) throw this.#host.cancelledError(call, call.callerSignal?.reason);
      let parsed: z.ZodSafeParseResult<unknown>;
      try {
        parsed = tool.input.safeParse(rawInput);
      } catch (error) {
        if (!(error instanceof z.core.$ZodAsyncError)) throw error;
        parsed = await tool.input.safeParseAsync(rawInput);
      }
      if (!parsed.success) {
        const { message, issues } = describeIssues(parsed.error);
        throw toolError(ToolErrorCodes.INVALID_INPUT, `invalid input for tool '${tool.name}': ${message}`, { tool: tool.name, agentId, issues }, parsed.error);
      }
      call.input = parsed.data;
      const needsApproval = tool.needsApproval !== false && approvalNeeded(tool.needsApproval, call.input);
      // preApproved counts only on the outer call: a handler's nested call cannot claim approval.
      if ((needsApproval || this.#hooks.approve.isUsed()) && (parent !== undefined || options?.preApproved !== true)) {
        await approve(this.#hooks, call, needsApproval, this.#deadlines);
      }
      const middleware = this.#middleware;
      const done = middleware.length === 0 ? this.#invoke(tool, call) : this.#dispatch(tool, call, middleware, 0);
      if (done !== undefined) await done;
      this.#telemetry.record(tool, call, 'ok', began, undefined);
      return call.result;
    } catch (error) {
      throw this.#failed(tool, call, error, began);
    } finally {
      call.dispose();
    }
  }

  /** Runs middleware `i` (or the handler past the last); undefined when it finished synchronously. */
  #dispatch(tool: RegisteredTool, call: ToolCall, chain: readonly ToolMiddleware[], i: number): void | Promise<void> {
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
  #invoke(tool: RegisteredTool, call: ToolCall): void | Promise<void> {
    if (call.aborted) throw this.#host.cancelledError(call, call.callerSignal?.reason ?? 'cancelled before the handler ran');
    const policy = tool.policyName === undefined ? null : this.#policyOf(tool);
    const result =
      policy === null
        ? tool.definition.handler(call.input, call)
        : policy.execute(({ signal }) => tool.definition.handler(call.input, new AttemptContext(call, signal)), { signal: call.signal });
    if (isThenable(result)) return call.waitFor(result, this.#deadlines);
    call.result = checkOutput(call, result);
    return undefined;
  }

  #policyOf(tool: RegisteredTool): Policy | null {
    if (tool.policy !== undefined) return tool.policy;
    if (this.#resilience === undefined) {
      this.#telemetry.logger?.warn(
        { tool: tool.name, policy: tool.policyName },
        `tool '${tool.name}' names policy '${tool.policyName}' but the resilience plugin is not loaded; calling it without`,
      );
      tool.policy = null;
    } else {
      // Throws RESILIENCE_UNKNOWN_POLICY for a name the resilience options do not define: that
      // fails the call (TOOL_FAILED) rather than silently running without the policy.
      tool.policy = this.#resilience.policy(tool.policyName!);
    }
    return tool.policy;
  }

  #failed(tool: RegisteredTool, call: ToolCall, error: unknown, began: number): MisterSmithError {
    let failure: MisterSmithError;
    if (error instanceof ToolError || (error instanceof MisterSmithError && error.kind === 'tool')) failure = error;
    else {
      failure = toolError(
        ToolErrorCodes.FAILED,
        `tool '${tool.name}' failed: ${messageOf(error)}`,
        { tool: tool.name, agentId: call.agentId, callId: call.callId },
        error,
      );
    }
    const outcome: Outcome = failure.code === ToolErrorCodes.TIMEOUT ? 'timeout' : failure.code === ToolErrorCodes.REJECTED ? 'rejected' : 'error';
    this.#telemetry.record(tool, call, outcome, began, failure);
    return failure;
  }

  /** @internal for the call host: a settled call leaves the deadline list. */
  settled(call: ToolCall): void {
    this.#deadlines.remove(call);
  }
}

/** Validates a handler's result against the tool's output schema; throws TOOL_INVALID_OUTPUT. */
function checkOutput(call: ToolCall, value: unknown): unknown {
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

/** What every ToolCall of `pipeline` asks of it: ids, nested calls, errors, leaving the deadline list. */
function callHost(pipeline: CallPipeline, nested: CallHost['nested']): CallHost {
  const prefix = `${randomUUID().slice(0, 8)}-`;
  let seq = 0;
  return {
    nextCallId: () => prefix + (++seq).toString(36),
    nested,
    checkOutput,
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
    settled: (call) => pipeline.settled(call),
  };
}
