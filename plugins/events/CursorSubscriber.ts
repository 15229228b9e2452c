/**
 * A subscriber that owns a position in the log: durable subscriptions (at-least-once, position
 * persisted, retries with backoff, dead letter after `maxDeliver`) and live subscriptions that
 * start in the past (`from: 'earliest' | sequence`, which catch up and then follow, at most once).
 *
 * It never drops an event. It reads from the store while behind; once caught up it is fed by the
 * bus through a bounded buffer, and if that buffer overflows it throws the buffer away and goes
 * back to reading from the store: the store, not memory, is the backlog.
 */
import { CancelledError, EventError, toError, type BackoffOptions } from '../../sdk/index.js';
import { EVENT_ERROR_CODES } from './errors.js';
import type { CompiledMatcher } from './Matcher.js';
import type { SubscriberHost } from './SubscriberHost.js';
import { DEAD_LETTER_TYPE, type EventHandler, type StoredEvent, type Subscription } from './types.js';
import { backoffDelay, RingBuffer, sleep, withDeadline } from '../../sdk/util/index.js';

export interface CursorOptions {
  readonly durable: boolean;
  readonly from: 'earliest' | 'latest' | number;
  readonly maxDeliver: number;
  readonly backoff: BackoffOptions;
  readonly ackTimeoutMs: number;
  /** Bound of the in-memory buffer used while caught up. */
  readonly bufferCapacity: number;
}

const READ_PAGE = 256;

export class CursorSubscriber implements Subscription {
  readonly name: string;
  readonly matcher: CompiledMatcher;
  readonly #host: SubscriberHost;
  readonly #handler: EventHandler;
  readonly #options: CursorOptions;
  readonly #buffer = new RingBuffer<StoredEvent>();
  readonly #abort = new AbortController();
  /** Next sequence to consider. */
  #cursor = 0;
  /** Last sequence handled (acknowledged). */
  #position = 0;
  /** True while every wanted event from #cursor on is guaranteed to be in #buffer. */
  #live = false;
  #closed = false;
  #started = false;
  #wake: (() => void) | undefined;
  readonly #done: Promise<void>;

  constructor(host: SubscriberHost, name: string, matcher: CompiledMatcher, handler: EventHandler, options: CursorOptions) {
    this.#host = host;
    this.name = name;
    this.matcher = matcher;
    this.#handler = handler;
    this.#options = options;
    this.#done = this.#run().catch((error: unknown) => {
      if (this.#closed) return;
      const err = toError(error);
      this.#host.logger.error({ err, subscription: name }, `subscription '${name}' stopped on an unexpected error: ${err.message}`);
      this.#host.fault(err, name);
    });
  }

  get durable(): boolean {
    return this.#options.durable;
  }

  get position(): number {
    return this.#position;
  }

  get dropped(): number {
    return 0;
  }

  /** How many committed events this subscriber has not handled yet. */
  get lag(): number {
    if (!this.#started) return 0;
    return Math.max(0, this.#host.dispatchedThrough - this.#position);
  }

  /** Called by the bus for each committed event whose type this subscriber wants. */
  offer(event: StoredEvent): void {
    if (!this.#live || this.#closed) return;
    const accepts = this.matcher.accepts;
    if (accepts !== undefined) {
      try {
        if (!accepts(event)) return;
      } catch {
        // A throwing filter is reported when the event is delivered from the store path.
      }
    }
    if (this.#buffer.size >= this.#options.bufferCapacity) {
      // Too far behind to buffer: forget the buffer and read the backlog from the store.
      this.#live = false;
      this.#buffer.clear();
    } else {
      this.#buffer.push(event);
    }
    this.#wakeUp();
  }

  /** The bus calls this once per delivery turn; nothing to do, the pump runs on its own. */
  drain(): void {}

  async unsubscribe(): Promise<void> {
    if (this.#closed) return this.#done;
    this.#closed = true;
    this.#abort.abort(new CancelledError(`subscription '${this.name}' closed`));
    this.#wakeUp();
    this.#host.remove(this);
    await this.#done;
    if (this.#options.durable && this.#started) this.#host.store.savePosition(this.name, this.#position);
  }

  #wakeUp(): void {
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake();
    }
  }

  /** Places the cursor: after the saved position, or per `from`. */
  #init(): void {
    const store = this.#host.store;
    const saved = this.#options.durable ? store.loadPosition(this.name) : 0;
    const from = this.#options.from;
    if (saved > 0) this.#cursor = saved + 1;
    else if (from === 'earliest') this.#cursor = store.firstSequence;
    else if (from === 'latest') this.#cursor = this.#host.dispatchedThrough + 1;
    else this.#cursor = Math.max(1, from);
    this.#position = this.#cursor - 1;
    this.#started = true;
    if (this.#options.durable && saved > 0) {
      this.#host.logger.info({ subscription: this.name, position: saved }, `durable subscription '${this.name}' resumes after sequence ${saved}`);
    }
  }

  async #run(): Promise<void> {
    // On an open bus the cursor is placed now, so that `from: 'latest'` includes an event
    // published right after subscribe() returns; otherwise once the store is open.
    if (this.#host.isOpen()) this.#init();
    else await this.#host.whenOpen();
    if (this.#closed) return;
    if (!this.#started) this.#init();
    const store = this.#host.store;
    while (!this.#closed) {
      if (this.#live) {
        const event = this.#buffer.shift();
        if (event !== undefined) {
          if (event.sequence >= this.#cursor) await this.#handle(event);
          continue;
        }
        // Buffer empty while live: nothing wanted was committed between here and the last dispatch.
        this.#ack(this.#host.dispatchedThrough);
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const through = this.#host.dispatchedThrough;
      if (this.#cursor > through) {
        this.#live = true;
        continue;
      }
      if (this.#cursor < store.firstSequence) {
        this.#host.logger.error(
          { subscription: this.name, missingFrom: this.#cursor, missingTo: store.firstSequence - 1 },
          `subscription '${this.name}' fell behind the store's retention: events ${this.#cursor}..${store.firstSequence - 1} are gone`,
        );
        this.#cursor = store.firstSequence;
      }
      for await (const page of store.read({ from: this.#cursor, to: through, pageSize: READ_PAGE })) {
        for (const event of page) {
          if (this.#closed) return;
          if (event.sequence < this.#cursor) continue;
          if (this.#wants(event)) await this.#handle(event);
          else this.#ack(event.sequence);
        }
        if (this.#closed) return;
      }
      // The pages covered [cursor, through]; sequences the store no longer had are past too.
      if (this.#cursor <= through) this.#ack(through);
    }
  }

  #wants(event: StoredEvent): boolean {
    if (!this.matcher.wantsType(event.type)) return false;
    const accepts = this.matcher.accepts;
    if (accepts === undefined) return true;
    try {
      return accepts(event);
    } catch (error) {
      this.#reportFailure(event, error, 1);
      return false;
    }
  }

  /** Delivers one event, retrying per the options; acknowledges it when done (or dead-lettered). */
  async #handle(event: StoredEvent): Promise<void> {
    const { maxDeliver, backoff } = this.#options;
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) return;
      try {
        await this.#invoke(event);
        this.#host.counters.delivered.inc();
        break;
      } catch (error) {
        if (this.#closed) return;
        this.#reportFailure(event, error, attempt);
        if (!this.#options.durable) break;
        if (attempt >= maxDeliver) {
          if (event.type === DEAD_LETTER_TYPE) {
            this.#host.logger.error({ subscription: this.name, sequence: event.sequence }, `subscription '${this.name}' gave up on a dead letter; it is not dead-lettered again`);
          } else {
            await this.#host.deadLetter(this.name, event, error, attempt);
          }
          break;
        }
        try {
          await sleep(backoffDelay(backoff, attempt - 1), this.#abort.signal);
        } catch {
          return;
        }
      }
    }
    this.#ack(event.sequence);
  }

  #invoke(event: StoredEvent): Promise<void> | void {
    const result = this.#handler(event);
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') return;
    const { ackTimeoutMs } = this.#options;
    return withDeadline(() => result, {
      timeoutMs: ackTimeoutMs,
      signal: this.#abort.signal,
      timeoutError: () =>
        new EventError(EVENT_ERROR_CODES.HANDLER_TIMEOUT, `handler of '${this.name}' did not settle within ${ackTimeoutMs} ms`, {
          context: { subscription: this.name, sequence: event.sequence },
        }),
    });
  }

  #ack(sequence: number): void {
    if (sequence < this.#cursor - 1) return;
    this.#cursor = sequence + 1;
    if (sequence > this.#position) {
      this.#position = sequence;
      if (this.#options.durable) this.#host.store.savePosition(this.name, sequence);
    }
  }

  #reportFailure(event: StoredEvent, error: unknown, attempt: number): void {
    this.#host.counters.failed.inc();
    const err = toError(error);
    this.#host.logger.warn(
      { err, subscription: this.name, sequence: event.sequence, type: event.type, attempt, maxDeliver: this.#options.durable ? this.#options.maxDeliver : 1 },
      `delivery of event ${event.sequence} to '${this.name}' failed (attempt ${attempt}): ${err.message}`,
    );
  }
}
