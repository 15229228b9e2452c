/**
 * The `tools` service: the permissioned tool bus. It is the face of four parts,
 * each in its own module — the registry of tools (`ToolRegistry`), who may call what
 * (`Permissions`, exposed as `tools.permissions`), the path of one call (`CallPipeline`), and what
 * is counted and published about calls (`ToolTelemetry`).
 */
import { AsyncSeriesBailHook, SyncHook } from 'tapable';
import type { z } from 'zod';
import type { Disposer, Logger, Metrics } from '../../sdk/index.js';
import type { ActorRef } from '../actors/types.js';
import type { EventBus } from '../events/types.js';
import type { ResilienceService } from '../resilience/types.js';
import { agentAsTool } from './agentAsTool.js';
import { CallPipeline } from './CallPipeline.js';
import { checkTimeoutSetting } from './callOptions.js';
import { ToolErrorCodes, toolError } from './errors.js';
import { Permissions } from './Permissions.js';
import { snapshot, ToolRegistry, type ToolOverride } from './ToolRegistry.js';
import { ToolTelemetry } from './ToolTelemetry.js';
import type {
  AgentToolSpec,
  ApprovalDecision,
  ApprovalRequest,
  CallOptions,
  ToolBus as ToolBusContract,
  ToolCallMessage,
  ToolDefinition,
  ToolDescription,
  ToolHooks,
  ToolInfo,
  ToolMiddleware,
  ToolPermissions,
  ToolStats,
} from './types.js';

export type { ToolOverride } from './ToolRegistry.js';

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

export class ToolBus implements ToolBusContract {
  readonly hooks: ToolHooks = Object.freeze({
    approve: new AsyncSeriesBailHook<[ApprovalRequest], ApprovalDecision | undefined>(['request']),
    registered: new SyncHook<[string]>(['name']),
    unregistered: new SyncHook<[string]>(['name']),
  });
  /** Grants, denies and decisions: `grant`, `revoke`, `deny`, `undeny`, `allowed`, `of`. */
  readonly permissions: ToolPermissions;

  readonly #registry: ToolRegistry;
  readonly #grants: Permissions;
  readonly #telemetry: ToolTelemetry;
  readonly #pipeline: CallPipeline;
  readonly #logger: Logger | undefined;

  constructor(options: ToolBusOptions = {}) {
    this.#logger = options.logger;
    const defaultTimeoutMs = checkTimeoutSetting(options.defaultTimeoutMs ?? 30_000, (message) =>
      toolError(ToolErrorCodes.INVALID_OPTIONS, `ToolBus defaultTimeoutMs: ${message}`, { option: 'defaultTimeoutMs' }),
    );
    this.#registry = new ToolRegistry(defaultTimeoutMs, options.tools ?? {});
    this.#grants = new Permissions();
    this.permissions = this.#grants;
    this.#telemetry = new ToolTelemetry(options);
    this.#pipeline = new CallPipeline({
      hooks: this.hooks,
      registry: this.#registry,
      permissions: this.#grants,
      telemetry: this.#telemetry,
      idempotency: options.idempotency ?? { capacity: 10_000, ttlMs: 600_000 },
      maxDelegationDepth: options.maxDelegationDepth ?? 8,
      resilience: options.resilience,
    });
  }

  /** Registers a tool; throws TOOL_INVALID_NAME, TOOL_INVALID_DEFINITION or TOOL_NAME_TAKEN. The disposer unregisters it. */
  register<I extends z.ZodType, O extends z.ZodType = z.ZodType>(definition: ToolDefinition<I, O>): Disposer {
    const entry = this.#registry.add(definition as unknown as ToolDefinition<z.ZodType, z.ZodType>);
    this.#telemetry.publish('tool.registered', entry.name, undefined, { tool: entry.name });
    this.#announce(this.hooks.registered, entry.name);
    return async () => {
      if (this.#registry.removeEntry(entry)) this.#removed(entry.name);
    };
  }

  /** Removes a tool (calls in flight finish); false when none had that name. */
  unregister(name: string): boolean {
    const removed = this.#registry.remove(name);
    if (removed) this.#removed(name);
    return removed;
  }

  #removed(name: string): void {
    this.#telemetry.publish('tool.unregistered', name, undefined, { tool: name });
    this.#announce(this.hooks.unregistered, name);
  }

  /** Tells the taps of a registration hook; the registry changed either way, so a tap's error is only logged. */
  #announce(hook: SyncHook<[string]>, name: string): void {
    if (!hook.isUsed()) return;
    try {
      hook.call(name);
    } catch (error) {
      this.#logger?.warn({ err: error, tool: name }, 'a tools registration hook tap threw');
    }
  }

  /** Whether a tool by that name is registered. */
  has(name: string): boolean {
    return this.#registry.has(name);
  }

  /** Adds allow patterns for an agent (`'*'` as agent id: every agent); the same as `permissions.grant`. */
  grant(agentId: string, patterns: string | readonly string[]): void {
    this.#grants.grant(agentId, patterns);
  }

  /** Removes the given allow patterns, or all of the agent's; the same as `permissions.revoke`. */
  revoke(agentId: string, patterns?: string | readonly string[]): void {
    this.#grants.revoke(agentId, patterns);
  }

  /** The tools the agent may call, with JSON Schemas (`z.toJSONSchema`, computed once per tool). */
  list(agentId: string): ToolInfo[] {
    const out: ToolInfo[] = [];
    for (const entry of this.#registry.values()) if (this.#grants.allowed(agentId, entry.name)) out.push(this.#registry.info(entry));
    return out;
  }

  /** A registered tool's metadata (idempotent, needsApproval, schemas); undefined when unknown. */
  describe(name: string): ToolDescription | undefined {
    return this.#registry.describe(name);
  }

  /** Calls a tool for an agent: options → permission → lookup → replay → validation → approval → middleware → handler → output. */
  call<T = unknown>(agentId: string, name: string, input: unknown, options?: CallOptions): Promise<T> {
    return this.#pipeline.start(agentId, name, input, options, undefined) as Promise<T>;
  }

  /** Appends a Koa-style middleware; the disposer removes it (calls already started keep their chain). */
  use(middleware: ToolMiddleware): Disposer {
    return this.#pipeline.use(middleware);
  }

  /** Registers an actor as a tool called through `ref.ask`; see agentAsTool.ts for delegation. */
  agentAsTool<I extends z.ZodType, O extends z.ZodType = z.ZodType>(
    ref: ActorRef<ToolCallMessage<z.output<I>>, z.input<O>>,
    spec: AgentToolSpec<I, O>,
  ): Disposer {
    return agentAsTool(this, ref, spec);
  }

  /** Per-tool counters and latency: of every tool, or of one (undefined when unknown). */
  stats(): ToolStats[];
  stats(name: string): ToolStats | undefined;
  stats(name?: string): ToolStats[] | ToolStats | undefined {
    if (name !== undefined) {
      const tool = this.#registry.get(name);
      return tool === undefined ? undefined : snapshot(tool);
    }
    return [...this.#registry.values()].map(snapshot);
  }

  /** Calls whose handler (or approval) is still running. */
  get inFlight(): number {
    return this.#pipeline.inFlight;
  }

  /** @internal the plugin wires optional services found after construction. */
  attach(services: { events?: EventBus | undefined; resilience?: ResilienceService | undefined }): void {
    if (services.events !== undefined) this.#telemetry.attachEvents(services.events);
    if (services.resilience !== undefined) this.#pipeline.attachResilience(services.resilience);
  }

  /**
   * Stops the bus: calls in flight fail with TOOL_CANCELLED (their handlers' signals abort), later
   * calls too, and the deadline intervals stop. Idempotent.
   */
  close(reason = 'the tool bus is stopping'): void {
    this.#pipeline.close(reason);
  }
}
