/**
 * A live (non-durable) subscriber: events published from now on, at most once, through its own
 * bounded queue. The bus pushes into the queue and schedules one drain per microtask for all
 * subscribers with work; a sync handler drains its whole queue in that turn, an async one gets
 * the next event when its promise settles. A full queue applies the overflow policy and counts the
 * drop (the event is still in the store): the publisher and other subscribers never wait.
 */
import { toError } from '../../sdk/index.js';
import { RingBuffer } from '../../sdk/util/index.js';
import type { CompiledMatcher } from './Matcher.js';
import type { SubscriberHost } from './SubscriberHost.js';
import type { EventHandler, OverflowPolicy, StoredEvent, Subscription } from './types.js';

/** Drop warnings are logged at most this often per subscriber, with the count since the last. */
const DROP_LOG_INTERVAL_MS = 1000;

export class LiveSubscriber implements Subscription {
  readonly name: string;
  readonly matcher: CompiledMatcher;
  readonly #host: SubscriberHost;
  readonly #handler: EventHandler;
  readonly #capacity: number;
  readonly #overflow: OverflowPolicy;
  readonly #queue = new RingBuffer<StoredEvent>();
  #scheduled = false;
  #busy = false;
  #closed = false;
  #dropped = 0;
  #droppedSinceLog = 0;
  #lastDropLog = 0;
  #lastSequence = 0;
  #idle: (() => void) | undefined;
  // Bound once: these are the only callbacks an async delivery needs.
  readonly #onDone = (): void => {
    this.#busy = false;
    this.#host.counters.delivered.inc();
    this.drain();
  };
  readonly #onFail = (error: unknown): void => {
    this.#busy = false;
    this.#failed(error);
    this.drain();
  };

  constructor(host: SubscriberHost, name: string, matcher: CompiledMatcher, handler: EventHandler, capacity: number, overflow: OverflowPolicy) {
    this.#host = host;
    this.name = name;
    this.matcher = matcher;
    this.#handler = handler;
    this.#capacity = capacity;
    this.#overflow = overflow;
  }

  get position(): number {
    return this.#lastSequence;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Events waiting in the queue. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Called by the bus for each committed event whose type this subscriber wants. */
  offer(event: StoredEvent): void {
    if (this.#closed) return;
    const accepts = this.matcher.accepts;
    if (accepts !== undefined && !this.#accepts(accepts, event)) return;
    if (this.#queue.size >= this.#capacity) {
      if (this.#overflow === 'drop-newest') return this.#drop(event);
      this.#drop(this.#queue.shift()!);
    }
    this.#queue.push(event);
    if (!this.#scheduled && !this.#busy) {
      this.#scheduled = true;
      this.#host.schedule(this);
    }
  }

  /** Delivers queued events until the queue is empty or an async handler is in flight. */
  drain(): void {
    this.#scheduled = false;
    while (!this.#busy && !this.#closed) {
      const event = this.#queue.shift();
      if (event === undefined) break;
      this.#lastSequence = event.sequence;
      let result: void | Promise<void>;
      try {
        result = this.#handler(event);
      } catch (error) {
        this.#failed(error);
        continue;
      }
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        this.#busy = true;
        (result as Promise<void>).then(this.#onDone, this.#onFail);
        return;
      }
      this.#host.counters.delivered.inc();
    }
    if (this.#idle !== undefined && !this.#busy && (this.#queue.size === 0 || this.#closed)) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  /** Resolves when the queue is empty and no handler is running. */
  idle(): Promise<void> {
    if (!this.#busy && this.#queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#idle;
      this.#idle = previous === undefined ? resolve : () => (previous(), resolve());
    });
  }

  async unsubscribe(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.remove(this);
    // Queued events are not lost: they stay in the store and can be replayed.
    this.#queue.clear();
    if (this.#busy) await this.idle();
  }

  #accepts(accepts: (event: StoredEvent) => boolean, event: StoredEvent): boolean {
    try {
      return accepts(event);
    } catch (error) {
      this.#failed(error);
      return false;
    }
  }

  #failed(error: unknown): void {
    this.#host.counters.failed.inc();
    const err = toError(error);
    this.#host.logger.warn({ err, subscription: this.name }, `event handler of '${this.name}' failed: ${err.message}`);
  }

  #drop(event: StoredEvent): void {
    this.#dropped++;
    this.#droppedSinceLog++;
    this.#host.counters.dropped.inc();
    const now = Date.now();
    if (now - this.#lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.#host.logger.warn(
        { subscription: this.name, dropped: this.#droppedSinceLog, totalDropped: this.#dropped, capacity: this.#capacity, overflow: this.#overflow, sequence: event.sequence },
        `subscriber '${this.name}' is too slow: its queue of ${this.#capacity} is full, dropped ${this.#droppedSinceLog} event(s) (${this.#overflow}); they remain in the store`,
      );
      this.#lastDropLog = now;
      this.#droppedSinceLog = 0;
    }
  }
}
