/**
 * Public contract of the events plugin. The events helper owns this file and
 * may add to it; the names below are what other plugins use to publish.
 */
import type { BackoffOptions } from '../../sdk/index.js';

/** What a publisher hands to `publish`: the bus adds `id`, `time` and `sequence`. */
export interface EventInput<D = unknown> {
  /** Dot-separated type (`agent.started`); non-empty tokens, no `*`, `>` or whitespace. */
  readonly type: string;
  /** Who emitted it (`supervision`, `agent/calculator`); a non-empty string. */
  readonly source: string;
  /** JSON-serialisable payload; `undefined` is stored as `null`. */
  readonly data?: D;
  /** What the event is about inside the source (an actor id, a run id). */
  readonly subject?: string;
  /** Ties together every event of one flow (a run, a request and its reply). */
  readonly correlationId?: string;
  /** The id of the event that caused this one. */
  readonly causationId?: string;
  /**
   * W3C trace context of the span the event belongs to (`00-<trace id>-<span id>-<flags>`), so a
   * consumer in another process can continue the trace. Set by traced publishers (the agents plugin
   * with otel loaded, the tool bus for a traced call); stored, replayed, and carried as the CloudEvents
   * `traceparent` extension and the NATS `traceparent` header. A malformed value is `EVENT_INVALID`.
   */
  readonly traceparent?: string;
}

/** An event as the store holds it. Absent optional fields are absent, never `undefined`. */
export interface StoredEvent<D = unknown> {
  /** Unique: `<store instance prefix>-<sequence>`. */
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** ISO-8601 wall-clock time. */
  readonly time: string;
  /** Monotonic per store, from 1; gaps only where the store documents them (retention, a skipped range after repair). */
  readonly sequence: number;
  readonly data: D;
  readonly subject?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly traceparent?: string;
}

/** A subscriber's handler. A throw or a rejection is isolated: logged, counted, and for a durable
 * subscription retried then dead-lettered. */
export type EventHandler = (event: StoredEvent) => void | Promise<void>;

/**
 * Matches events by fields: fields AND together, values inside one field OR together.
 * `types` are patterns (`agent.*.started`, `tool.>`); absent fields match everything.
 */
export interface EventFilter {
  readonly types?: readonly string[];
  readonly sources?: readonly string[];
  readonly subjects?: readonly string[];
  /** Only events carrying this correlation id (so events without one never match). */
  readonly correlationId?: string;
  /** A last check on the event itself. */
  readonly where?: (event: StoredEvent) => boolean;
}

/** What a live subscriber does when its queue is full. Durable subscribers never drop. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

export interface SubscribeOptions {
  /** A durable subscription's name: at-least-once, position persisted, resumed after restart. */
  readonly durable?: string;
  /**
   * Where a new subscription starts: `latest` (default: only events published from now on),
   * `earliest` (everything the store still holds), or a sequence number (that one included).
   * A durable subscription with a persisted position resumes there and ignores `from`.
   */
  readonly from?: 'earliest' | 'latest' | number;
  /** Durable only: deliveries of one event before it is dead-lettered (plugin default 5). */
  readonly maxDeliver?: number;
  /** Durable only: delays between retries (plugin default `durable.backoff`). */
  readonly backoff?: Partial<BackoffOptions>;
  /** Durable only: a handler that has not settled after this long counts as failed (default 30 000). */
  readonly ackTimeoutMs?: number;
  /** Live only: bound of this subscriber's queue (plugin default `subscriber.queueCapacity`). */
  readonly queueCapacity?: number;
  /** Live only: what a full queue does (plugin default `subscriber.overflow`, `drop-oldest`). */
  readonly overflow?: OverflowPolicy;
}

export interface Subscription {
  /** The durable name, or a generated `live-<n>` id. */
  readonly name: string;
  /** The last sequence handled: acknowledged (durable) or delivered (live); 0 before any. */
  readonly position: number;
  /** Events this subscriber dropped because its queue was full (live only; always 0 for durable). */
  readonly dropped: number;
  /** Stops delivery; resolves once the handler in flight (if any) has settled and the position is saved. */
  unsubscribe(): Promise<void>;
}

/** A range and filter over the log; every field is optional and they AND together. */
export interface ReplayQuery {
  /** First sequence, inclusive (default: the oldest the store holds). */
  readonly fromSequence?: number;
  /** Last sequence, inclusive (default: the newest when the replay began). */
  readonly toSequence?: number;
  /** Earliest time, inclusive (ISO string, Date or epoch ms). */
  readonly fromTime?: string | Date | number;
  /** Latest time, inclusive. */
  readonly toTime?: string | Date | number;
  /** Type patterns; an event matching any of them passes. */
  readonly types?: readonly string[];
  readonly correlationId?: string;
  /** At most this many events. */
  readonly limit?: number;
  /** Ends the iteration early (the iterator then throws the abort reason). */
  readonly signal?: AbortSignal;
}

export interface RequestOptions {
  /** How long to wait for the reply (plugin default `request.timeoutMs`, 5000). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Only a reply whose type matches this pattern counts (default: any other event with the correlation id). */
  readonly replyType?: string;
}

/** The `events` service. */
export interface EventBus {
  /** Validates, stores (durably, per the store's fsync mode), then delivers; resolves to the stored event. */
  publish<D = unknown>(input: EventInput<D>): Promise<StoredEvent<D>>;
  /** Publishes several events in order; all are validated before any is stored. */
  publishMany(inputs: readonly EventInput[]): Promise<StoredEvent[]>;
  /** Delivers events whose type matches `pattern` (or that pass `filter`) to `handler`. */
  subscribe(pattern: string | EventFilter, handler: EventHandler, options?: SubscribeOptions): Subscription;
  /** Streams stored events in sequence order; memory stays flat whatever the size of the log. */
  replay(query?: ReplayQuery): AsyncIterable<StoredEvent>;
  /** One stored event by id, or undefined. */
  get(id: string): Promise<StoredEvent | undefined>;
  /** Every stored event with this correlation id, in sequence order (at most `limit`, default 10 000). */
  byCorrelation(correlationId: string, options?: { readonly limit?: number }): Promise<StoredEvent[]>;
  /**
   * Publishes `input` (with a fresh correlation id when it has none) and resolves to the first other
   * event published with the same correlation id: the reply.
   */
  request<D = unknown>(input: EventInput<D>, options?: RequestOptions): Promise<StoredEvent>;
  /** The last stored sequence (0 when the store is empty). */
  readonly lastSequence: number;
}

/** The `events.dead_letter` event's data: what could not be delivered, to whom, and why. */
export interface DeadLetterData {
  readonly subscription: string;
  readonly attempts: number;
  readonly error: { readonly name: string; readonly message: string; readonly code?: string };
  readonly original: StoredEvent;
}

/** The type of the event a durable subscription publishes when it gives up on an event. */
export const DEAD_LETTER_TYPE = 'events.dead_letter';

declare module '../../sdk/index.js' {
  interface Services {
    events: EventBus;
  }
}
