/**
 * What a subscriber needs from the bus that owns it. Internal: the bus implements it once, so the
 * subscribers reach shared state without closures per event.
 */
import type { BackoffOptions, Counter } from '../../sdk/index.js';
import type { EventStore } from './stores/EventStore.js';
import type { StoredEvent } from './types.js';

/** The slice of a pino logger the bus uses. */
export interface BusLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BusCounters {
  readonly delivered: Counter;
  readonly failed: Counter;
  readonly dropped: Counter;
  readonly deadLettered: Counter;
}

export interface SubscriberHost {
  readonly store: EventStore;
  readonly logger: BusLogger;
  readonly counters: BusCounters;
  /** The highest sequence handed to subscribers so far (dispatch runs in sequence order). */
  readonly dispatchedThrough: number;
  /** Queues `subscriber.drain()` for the next delivery microtask. */
  schedule(subscriber: { drain(): void }): void;
  /** Whether the store is open now. */
  isOpen(): boolean;
  /** Resolves once the store is open; rejects if the bus stopped first. */
  whenOpen(): Promise<void>;
  /** Publishes the dead letter for `event`; never throws. */
  deadLetter(subscription: string, event: StoredEvent, error: unknown, attempts: number): Promise<void>;
  /** A subscription's pump died on an unexpected error: report it (kernel fault) beyond the log. */
  fault(error: Error, subscription: string): void;
  /** Forgets a subscriber (after unsubscribe). */
  remove(subscriber: object): void;
}

export interface DurableDefaults {
  readonly maxDeliver: number;
  readonly backoff: BackoffOptions;
  readonly ackTimeoutMs: number;
}
