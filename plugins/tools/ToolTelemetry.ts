/**
 * What the bus tells the outside about calls: per-tool counters (`tools.stats`), the
 * `tool_calls_total` and `tool_call_duration_seconds` metrics, and `tool.*` events. Cheap when
 * nobody listens: label objects are made once per tool, latency is timed for one call in
 * `latencySampleEvery` (two clock reads cost ~100 ns, an eighth of a fast call) and every call
 * while events are on, and no event object is built without the events plugin.
 */
import type { Counter, Histogram, Logger, Metrics, MisterSmithError } from '../../sdk/index.js';
import type { EventBus, EventInput } from '../events/types.js';
import { outcomeLabels, type Outcome, type RegisteredTool } from './ToolRegistry.js';
import type { ToolCall } from './ToolCall.js';

const EMPTY_CHAIN: readonly string[] = Object.freeze([]);
/** The label for names that are not registered, so agents cannot inflate label cardinality. */
const UNKNOWN_TOOL = '(unknown)';

/** An event input built field by field before it is published. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface TelemetryOptions {
  readonly metrics?: Metrics | undefined;
  readonly logger?: Logger | undefined;
  readonly events?: EventBus | undefined;
  readonly latencySampleEvery?: number | undefined;
}

export class ToolTelemetry {
  readonly #sampleEvery: number;
  readonly #logger: Logger | undefined;
  readonly #callsTotal: Counter | undefined;
  readonly #duration: Histogram | undefined;
  readonly #unknownLabels = outcomeLabels(UNKNOWN_TOOL);
  #events: EventBus | undefined;

  constructor(options: TelemetryOptions) {
    this.#sampleEvery = Math.max(1, Math.floor(options.latencySampleEvery ?? 8));
    this.#logger = options.logger;
    this.#events = options.events;
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
  }

  get logger(): Logger | undefined {
    return this.#logger;
  }

  /** The events service found after construction (the plugin's start). */
  attachEvents(events: EventBus): void {
    this.#events = events;
  }

  /** Counts a call reaching `tool`; the start time when this call is timed, else -1. */
  begin(tool: RegisteredTool): number {
    return tool.stats.calls++ % this.#sampleEvery === 0 || this.#events !== undefined ? performance.now() : -1;
  }

  /** A call that reached the tool ended with `outcome`. */
  record(tool: RegisteredTool, call: ToolCall, outcome: Outcome, began: number, failure: MisterSmithError | undefined): void {
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
    if (this.#events === undefined) return;
    const base = { tool: tool.name, agentId: call.agentId, callId: call.callId, delegation: call.delegation, durationMs: ms };
    const traceparent = call.traceparent;
    if (failure === undefined) this.publish('tool.called', tool.name, call.correlationId, base, call.parent?.callId, traceparent);
    else if (outcome === 'rejected') {
      this.publish('tool.denied', tool.name, call.correlationId, { ...base, reason: failure.message, code: failure.code }, call.parent?.callId, traceparent);
    } else {
      this.publish('tool.failed', tool.name, call.correlationId, { ...base, code: failure.code, message: failure.message }, call.parent?.callId, traceparent);
    }
  }

  /** A call answered from the idempotency cache. */
  replayed(
    tool: RegisteredTool,
    agentId: string,
    callId: string,
    delegation: readonly string[] | undefined,
    correlationId: string,
    traceparent: string | undefined,
  ): void {
    tool.stats.replays++;
    this.#callsTotal?.inc(tool.labels.replayed);
    if (this.#events === undefined) return;
    this.publish('tool.called', tool.name, correlationId, { tool: tool.name, agentId, callId, delegation: delegation ?? EMPTY_CHAIN, replayed: true }, undefined, traceparent);
  }

  /** A call refused before it reached a tool (no such tool, idempotency conflict): counted only. */
  refused(tool: RegisteredTool | undefined): void {
    this.#callsTotal?.inc((tool?.labels ?? this.#unknownLabels).error);
  }

  /** A call denied by permissions. */
  denied(
    tool: RegisteredTool | undefined,
    name: string,
    data: { agentId: string; delegation: readonly string[]; deniedBy: string; reason: string; callId: string | undefined },
    correlationId: string | undefined,
    causationId: string | undefined,
    traceparent: string | undefined,
  ): void {
    this.#callsTotal?.inc((tool?.labels ?? this.#unknownLabels).denied);
    if (this.#events === undefined) return;
    const { callId, ...rest } = data;
    this.publish('tool.denied', name, correlationId, { tool: name, ...rest, ...(callId === undefined ? {} : { callId }) }, causationId, traceparent);
  }

  /**
   * Publishes a `tool.*` event when the events plugin is loaded; a failed publish is logged, never
   * thrown. Optional fields are set only when given (the store keeps absent fields absent), on the
   * one object, with no spread of a throwaway `{}` per field.
   */
  publish(
    type: string,
    subject: string,
    correlationId: string | undefined,
    data: Record<string, unknown>,
    causationId?: string,
    traceparent?: string,
  ): void {
    const events = this.#events;
    if (events === undefined) return;
    const input: Mutable<EventInput> = { type, source: 'tools', subject, data };
    if (correlationId !== undefined) input.correlationId = correlationId;
    if (causationId !== undefined) input.causationId = causationId;
    if (traceparent !== undefined) input.traceparent = traceparent;
    events.publish(input).catch((error: unknown) => this.#logger?.warn({ err: error, type }, 'could not publish a tool event'));
  }
}
