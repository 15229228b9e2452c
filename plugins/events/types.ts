/**
 * Public contract of the events plugin (DESIGN §4 "events"). The events helper owns this file and
 * may add to it; the names below are what other plugins use to publish.
 */
export interface EventInput<D = unknown> {
  readonly type: string;
  readonly source: string;
  readonly data?: D;
  readonly subject?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

export interface StoredEvent<D = unknown> {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** ISO-8601 wall-clock time. */
  readonly time: string;
  /** Monotonic per store, from 1. */
  readonly sequence: number;
  readonly data: D;
  readonly subject?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

export type EventHandler = (event: StoredEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** A durable subscription's name: at-least-once, position persisted, resumed after restart. */
  readonly durable?: string;
  readonly from?: 'earliest' | 'latest' | number;
  readonly maxDeliver?: number;
}

export interface Subscription {
  unsubscribe(): Promise<void>;
}

/** The `events` service. */
export interface EventBus {
  publish<D = unknown>(input: EventInput<D>): Promise<StoredEvent<D>>;
  subscribe(pattern: string, handler: EventHandler, options?: SubscribeOptions): Subscription;
}

declare module '../../sdk/index.js' {
  interface Services {
    events: EventBus;
  }
}
