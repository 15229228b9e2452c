/**
 * The `events` service: validate, store, then deliver.
 *
 * Hot path (memory store, live subscribers): one event object per publish (the store fills its id
 * and sequence in place), a cached route per event type (which subscribers want it, so patterns are
 * matched once per type, not per event), a push into each subscriber's ring, and one microtask per
 * batch of publishes to drain every subscriber with work. No closures, timers or extra promises
 * per event beyond the promise `publish` returns.
 */
import { randomUUID } from 'node:crypto';
import {
  EventError,
  toError,
  type BackoffOptions,
  type Metrics,
} from '../../sdk/index.js';
import { CursorSubscriber } from './CursorSubscriber.js';
import { busStopped, EVENT_ERROR_CODES, invalidEvent, storeFailed } from './errors.js';
import { busHealth, type BusHealth } from './busHealth.js';
import { BurstClock } from './BurstClock.js';
import { registerBusMetrics } from './busMetrics.js';
import { untilAborted } from './untilAborted.js';
import { LiveSubscriber } from './LiveSubscriber.js';
import { prepareEvent } from './prepareEvent.js';
import { ReplyWaiters, type Waiter } from './ReplyWaiters.js';
import { RouteTable } from './RouteTable.js';
import { ReplayIterator } from './ReplayIterator.js';
import { compileMatcher } from './Matcher.js';
import { compilePattern } from './patterns.js';
import type { EventStore, OpenReport, PendingEvent } from './stores/EventStore.js';
import type { BusCounters, BusLogger, SubscriberHost } from './SubscriberHost.js';
import {
  DEAD_LETTER_TYPE,
  type DeadLetterData,
  type EventBus as EventBusContract,
  type EventFilter,
  type EventHandler,
  type EventInput,
  type OverflowPolicy,
  type ReplayQuery,
  type RequestOptions,
  type StoredEvent,
  type SubscribeOptions,
  type Subscription,
} from './types.js';
import { DEFAULT_BACKOFF, withDeadline } from '../../sdk/util/index.js';

export interface EventBusOptions {
  readonly store: EventStore;
  /** A pino logger or anything with the same four methods (default: silent). */
  readonly logger?: BusLogger;
  /** Where counters go (default: nowhere). */
  readonly metrics?: Metrics;
  /** `source` of the events the bus publishes itself (dead letters). Default `events`. */
  readonly source?: string;
  readonly subscriber?: { readonly queueCapacity?: number; readonly overflow?: OverflowPolicy };
  readonly durable?: { readonly maxDeliver?: number; readonly backoff?: Partial<BackoffOptions>; readonly ackTimeoutMs?: number };
  readonly request?: { readonly timeoutMs?: number };
  /**
   * Called when a subscription stops on an error nobody awaits (a store read failing under a
   * durable subscriber). The plugin reports it as a kernel fault.
   */
  readonly onFault?: (error: Error, context: { readonly subscription: string }) => void;
}

export type { BusHealth } from './busHealth.js';

type Subscriber = LiveSubscriber | CursorSubscriber;

type State = 'created' | 'opening' | 'open' | 'stopping' | 'stopped';

const NOOP_LOGGER: BusLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class EventBus implements EventBusContract {
  readonly #store: EventStore;
  readonly #logger: BusLogger;
  /** Defaults of subscriptions and requests, and the `source` of the bus's own events. */
  readonly #config: {
    readonly source: string;
    readonly queueCapacity: number;
    readonly overflow: OverflowPolicy;
    readonly durable: { maxDeliver: number; backoff: BackoffOptions; ackTimeoutMs: number };
    readonly requestTimeoutMs: number;
  };
  readonly #counters: BusCounters;

  #state: State = 'created';
  readonly #subscribers: Subscriber[] = [];
  readonly #routes: RouteTable<Subscriber>;
  readonly #durableNames = new Set<string>();
  #liveCount = 0;
  #ready: Array<{ drain(): void }> = [];
  #flushScheduled = false;
  #dispatchedThrough = 0;
  readonly #waiters = new ReplyWaiters();
  /** Appends whose promise has not settled yet, and who waits for them to reach 0 (stop). */
  #inFlight = 0;
  #settled: (() => void) | undefined;
  readonly #time = new BurstClock();
  #openReport: OpenReport | undefined;
  #lastStoreError: Error | undefined;
  readonly #opened: { promise: Promise<void>; resolve(): void; reject(error: Error): void };
  #stopPromise: Promise<void> | undefined;
  readonly #host: SubscriberHost;
  // Bound once and handed to the store and queueMicrotask.
  readonly #onCommit = (event: StoredEvent): void => this.#dispatch(event);
  readonly #flush = (): void => this.#runFlush();

  constructor(options: EventBusOptions) {
    this.#store = options.store;
    this.#logger = options.logger ?? NOOP_LOGGER;
    this.#config = {
      source: options.source ?? 'events',
      queueCapacity: positiveInt(options.subscriber?.queueCapacity ?? 10_000, 'subscriber.queueCapacity'),
      overflow: options.subscriber?.overflow ?? 'drop-oldest',
      durable: {
        maxDeliver: positiveInt(options.durable?.maxDeliver ?? 5, 'durable.maxDeliver'),
        backoff: { ...DEFAULT_BACKOFF, ...options.durable?.backoff },
        ackTimeoutMs: options.durable?.ackTimeoutMs ?? 30_000,
      },
      requestTimeoutMs: options.request?.timeoutMs ?? 5_000,
    };
    const metrics = registerBusMetrics(options.metrics, this.#store, () => this.#durableLags());
    this.#routes = new RouteTable(this.#subscribers, metrics.published);
    this.#counters = metrics.counters;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody may be waiting when a never-started bus stops; that rejection is not a crash.
    promise.catch(() => undefined);
    this.#opened = { promise, resolve, reject };
    const bus = this;
    this.#host = {
      store: this.#store,
      logger: this.#logger,
      counters: this.#counters,
      get dispatchedThrough() {
        return bus.#dispatchedThrough;
      },
      schedule: (sub) => this.#schedule(sub),
      isOpen: () => this.#state === 'open',
      whenOpen: () => this.#opened.promise,
      deadLetter: (subscription, event, error, attempts) => this.#deadLetter(subscription, event, error, attempts),
      remove: (sub) => this.#remove(sub as Subscriber),
      fault: (error, subscription) => {
        try {
          options.onFault?.(error, { subscription });
        } catch {
          // A fault reporter that throws must not take the bus down with it.
        }
      },
    };
  }

  /** The store this bus writes to. */
  get store(): EventStore {
    return this.#store;
  }

  get lastSequence(): number {
    return this.#store.lastSequence;
  }

  /** What opening the store found and repaired (undefined before `start`). */
  get openReport(): OpenReport | undefined {
    return this.#openReport;
  }

  /** Opens the store. Publishes and subscriptions made before this wait for it. */
  async start(): Promise<OpenReport> {
    if (this.#state !== 'created') throw new EventError(EVENT_ERROR_CODES.INVALID_STATE, `cannot start an event bus that is ${this.#state}; create a new one`);
    this.#state = 'opening';
    let report: OpenReport;
    try {
      report = await this.#store.open(this.#onCommit);
    } catch (error) {
      this.#state = 'stopped';
      // A typed refusal (locked, corrupt) keeps its code; anything else is a store failure.
      const failure = error instanceof EventError && error.code !== EVENT_ERROR_CODES.INVALID_STATE ? error : storeFailed('open', error);
      this.#opened.reject(failure);
      throw failure;
    }
    this.#openReport = report;
    this.#dispatchedThrough = this.#store.lastSequence;
    for (const r of report.repairs) {
      this.#logger.warn({ ...r }, `event store repaired on open: cut ${r.droppedBytes} byte(s) at ${r.file}:${r.offset} (${r.reason})`);
    }
    this.#logger.info(
      { store: this.#store.kind, firstSequence: report.firstSequence, lastSequence: report.lastSequence, repairs: report.repairs.length },
      `event store open at sequence ${report.lastSequence}`,
    );
    if ((this.#state as State) !== 'opening') return report;
    this.#state = 'open';
    this.#opened.resolve();
    return report;
  }

  publish<D = unknown>(input: EventInput<D>): Promise<StoredEvent<D>> {
    if (this.#state !== 'open') return this.#publishWhenOpen(input) as Promise<StoredEvent<D>>;
    let event: PendingEvent;
    try {
      event = this.#prepare(input);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append(event) as Promise<StoredEvent<D>>;
  }

  async publishMany(inputs: readonly EventInput[]): Promise<StoredEvent[]> {
    if (!Array.isArray(inputs)) throw invalidEvent('publishMany(inputs)', 'must be an array', inputs);
    if (this.#state !== 'open') await this.#waitOpen('publish');
    const events: PendingEvent[] = [];
    for (let i = 0; i < inputs.length; i++) {
      try {
        events.push(this.#prepare(inputs[i]!));
      } catch (error) {
        if (error instanceof EventError) {
          throw new EventError(error.code, `inputs[${i}]: ${error.message}`, { context: { ...error.context, index: i }, cause: error });
        }
        throw error;
      }
    }
    // Appended back to back in one turn, so a batching store commits them together.
    const pending: Array<Promise<StoredEvent>> = [];
    for (const e of events) pending.push(this.#append(e));
    return Promise.all(pending);
  }

  subscribe(pattern: string | EventFilter, handler: EventHandler, options: SubscribeOptions = {}): Subscription {
    if (this.#state === 'stopping' || this.#state === 'stopped') throw busStopped('subscribe');
    const matcher = compileMatcher(pattern);
    if (typeof handler !== 'function') throw invalidEvent('handler', 'must be a function', handler);
    const { durable, from = 'latest' } = options;
    if (from !== 'earliest' && from !== 'latest' && !(Number.isSafeInteger(from) && from >= 1)) {
      throw invalidEvent('options.from', "must be 'earliest', 'latest' or a sequence >= 1", from);
    }
    let subscriber: Subscriber;
    if (durable !== undefined) {
      if (typeof durable !== 'string' || durable.length === 0) throw invalidEvent('options.durable', 'must be a non-empty string', durable);
      if (this.#durableNames.has(durable)) {
        throw new EventError(EVENT_ERROR_CODES.DURABLE_IN_USE, `durable subscription '${durable}' is already active on this bus; unsubscribe it first`, {
          context: { durable },
        });
      }
      const maxDeliver = positiveInt(options.maxDeliver ?? this.#config.durable.maxDeliver, 'options.maxDeliver');
      const ackTimeoutMs = options.ackTimeoutMs ?? this.#config.durable.ackTimeoutMs;
      subscriber = new CursorSubscriber(this.#host, durable, matcher, handler, {
        durable: true,
        from,
        maxDeliver,
        backoff: { ...this.#config.durable.backoff, ...options.backoff },
        ackTimeoutMs,
        bufferCapacity: positiveInt(options.queueCapacity ?? this.#config.queueCapacity, 'options.queueCapacity'),
      });
      this.#durableNames.add(durable);
    } else {
      const name = `live-${++this.#liveCount}`;
      const capacity = positiveInt(options.queueCapacity ?? this.#config.queueCapacity, 'options.queueCapacity');
      const overflow = options.overflow ?? this.#config.overflow;
      if (overflow !== 'drop-oldest' && overflow !== 'drop-newest') throw invalidEvent('options.overflow', "must be 'drop-oldest' or 'drop-newest'", overflow);
      subscriber =
        from === 'latest'
          ? new LiveSubscriber(this.#host, name, matcher, handler, capacity, overflow)
          : new CursorSubscriber(this.#host, name, matcher, handler, {
              durable: false,
              from,
              maxDeliver: 1,
              backoff: this.#config.durable.backoff,
              ackTimeoutMs: this.#config.durable.ackTimeoutMs,
              bufferCapacity: capacity,
            });
    }
    this.#subscribers.push(subscriber);
    this.#routes.invalidate();
    return subscriber;
  }

  replay(query: ReplayQuery = {}): AsyncIterable<StoredEvent> {
    // Validated eagerly so a bad query fails at the first next(), with nothing read.
    const bus = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
        return new ReplayIterator(bus.#store, query, () => bus.#waitOpen('replay'), () => bus.#state === 'open');
      },
    };
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    if (typeof id !== 'string' || id.length === 0) throw invalidEvent('id', 'must be a non-empty string', id);
    if (this.#state !== 'open') await this.#waitOpen('get');
    try {
      return await this.#store.get(id);
    } catch (error) {
      throw storeFailed('get', error, { id });
    }
  }

  async byCorrelation(correlationId: string, options: { readonly limit?: number } = {}): Promise<StoredEvent[]> {
    if (typeof correlationId !== 'string' || correlationId.length === 0) throw invalidEvent('correlationId', 'must be a non-empty string', correlationId);
    const out: StoredEvent[] = [];
    for await (const e of this.replay({ correlationId, limit: options.limit ?? 10_000 })) out.push(e);
    return out;
  }

  async request<D = unknown>(input: EventInput<D>, options: RequestOptions = {}): Promise<StoredEvent> {
    if (this.#state !== 'open') await this.#waitOpen('request');
    const correlationId = input?.correlationId ?? randomUUID();
    const event = this.#prepare({ ...input, correlationId });
    const reply = options.replyType === undefined ? undefined : compilePattern(options.replyType);
    const timeoutMs = options.timeoutMs ?? this.#config.requestTimeoutMs;
    let waiter: Waiter | undefined;
    try {
      return await withDeadline(
        () =>
          new Promise<StoredEvent>((resolve, reject) => {
            waiter = { correlationId, request: event, reply, resolve, reject };
            this.#waiters.add(waiter);
            this.#append(event).catch(reject);
          }),
        {
          timeoutMs,
          signal: options.signal,
          timeoutError: () =>
            new EventError(EVENT_ERROR_CODES.REQUEST_TIMEOUT, `no reply to '${event.type}' (correlationId ${correlationId}) within ${timeoutMs} ms`, {
              retryable: true,
              context: { type: event.type, correlationId, timeoutMs },
            }),
        },
      );
    } finally {
      if (waiter !== undefined) this.#waiters.remove(waiter);
    }
  }

  /** Store writable, and how far behind each durable subscription is. */
  async health(maxLag = 10_000): Promise<BusHealth> {
    return busHealth({ state: this.#state, store: this.#store, durableLags: this.#durableLags(), lastStoreError: this.#lastStoreError, maxLag });
  }

  /**
   * Stops: refuses new publishes, lets appends in flight commit, gives live subscribers until
   * `signal` aborts to drain their queues, stops durable subscriptions (their positions are saved;
   * unhandled events are redelivered after a restart), fails pending requests, closes the store.
   */
  stop(signal?: AbortSignal): Promise<void> {
    this.#stopPromise ??= this.#stop(signal);
    return this.#stopPromise;
  }

  async #stop(signal: AbortSignal | undefined): Promise<void> {
    const wasOpen = this.#state === 'open';
    this.#state = 'stopping';
    this.#opened.reject(busStopped('open'));
    // Bounded by the stop deadline: a store whose append never settles must not hang the stop.
    if (this.#inFlight > 0) await untilAborted(new Promise<void>((resolve) => (this.#settled = resolve)), signal);
    this.#settled = undefined;
    if (wasOpen) {
      const live = this.#subscribers.filter((s): s is LiveSubscriber => s instanceof LiveSubscriber);
      await untilAborted(Promise.all(live.map((s) => s.idle())), signal);
    }
    await Promise.all([...this.#subscribers].map((s) => untilAborted(s.unsubscribe(), signal)));
    const stopped = busStopped('wait for a reply');
    this.#waiters.rejectAll(stopped);
    try {
      await this.#store.close();
    } finally {
      this.#state = 'stopped';
    }
  }

  #prepare(input: EventInput): PendingEvent {
    return prepareEvent(input, this.#routes, this.#clock);
  }

  #append(event: PendingEvent): Promise<StoredEvent> {
    let pending: Promise<void> | undefined;
    try {
      pending = this.#store.append(event);
    } catch (error) {
      return Promise.reject(this.#storeError(error, event));
    }
    if (pending === undefined) return Promise.resolve(event as StoredEvent);
    return this.#awaitCommit(pending, event);
  }

  async #awaitCommit(pending: Promise<void>, event: PendingEvent): Promise<StoredEvent> {
    // Counted, not "the last append": a store may settle appends in any order (one refused on the
    // spot while earlier ones still wait for a remote acknowledgement), and stop waits for all.
    this.#inFlight++;
    try {
      await pending;
    } catch (error) {
      throw this.#storeError(error, event);
    } finally {
      if (--this.#inFlight === 0 && this.#settled !== undefined) this.#settled();
    }
    // A write went through: the store is healthy again.
    if (this.#lastStoreError !== undefined) this.#lastStoreError = undefined;
    return event as StoredEvent;
  }

  #storeError(error: unknown, event: PendingEvent): Error {
    // The store's typed refusals (too large, read-only, locked) reach the publisher as they are;
    // only a failed write counts against health.
    if (error instanceof EventError && error.code !== EVENT_ERROR_CODES.STORE_FAILED) return error;
    const failure = error instanceof EventError ? error : storeFailed('append', error, { type: event.type });
    this.#lastStoreError = failure;
    return failure;
  }

  async #publishWhenOpen(input: EventInput): Promise<StoredEvent> {
    await this.#waitOpen('publish');
    return this.publish(input);
  }

  async #waitOpen(operation: string): Promise<void> {
    if (this.#state === 'open') return;
    if (this.#state === 'stopping' || this.#state === 'stopped') throw busStopped(operation);
    try {
      await this.#opened.promise;
    } catch {
      throw busStopped(operation);
    }
  }

  /** The store's commit listener: runs once per committed event, in sequence order. */
  #dispatch(event: StoredEvent): void {
    this.#dispatchedThrough = event.sequence;
    const subs = this.#routes.route(event.type);
    for (let i = 0; i < subs.length; i++) subs[i]!.offer(event);
    if (this.#waiters.size !== 0) this.#waiters.offer(event);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #schedule(sub: { drain(): void }): void {
    this.#ready.push(sub);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #runFlush(): void {
    this.#flushScheduled = false;
    this.#routes.flushCounts();
    const ready = this.#ready;
    if (ready.length === 0) return;
    this.#ready = [];
    for (let i = 0; i < ready.length; i++) ready[i]!.drain();
  }

  *#durableLags(): Iterable<readonly [string, number]> {
    for (const s of this.#subscribers) if (s instanceof CursorSubscriber && s.durable) yield [s.name, s.lag];
  }

  #remove(sub: Subscriber): void {
    const i = this.#subscribers.indexOf(sub);
    if (i >= 0) this.#subscribers.splice(i, 1);
    if (sub instanceof CursorSubscriber && sub.durable) this.#durableNames.delete(sub.name);
    this.#routes.invalidate();
  }

  async #deadLetter(subscription: string, event: StoredEvent, error: unknown, attempts: number): Promise<void> {
    const err = toError(error);
    const code = (err as { code?: unknown }).code;
    const data: DeadLetterData = {
      subscription,
      attempts,
      error: { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) },
      original: event,
    };
    this.#counters.deadLettered.inc();
    this.#logger.error(
      { subscription, sequence: event.sequence, type: event.type, attempts, err },
      `subscription '${subscription}' gave up on event ${event.sequence} after ${attempts} attempt(s); published ${DEAD_LETTER_TYPE}`,
    );
    try {
      // The dead letter belongs to the original's flow and trace: it keeps its correlation id and
      // its traceparent, so a trace shows where the event ended up.
      const input: { -readonly [K in keyof EventInput<DeadLetterData>]: EventInput<DeadLetterData>[K] } = {
        type: DEAD_LETTER_TYPE,
        source: this.#config.source,
        subject: subscription,
        causationId: event.id,
        data,
      };
      if (event.correlationId !== undefined) input.correlationId = event.correlationId;
      if (event.traceparent !== undefined) input.traceparent = event.traceparent;
      await this.#append(this.#prepare(input));
    } catch (failure) {
      this.#logger.error({ err: failure, subscription, sequence: event.sequence }, `could not publish the dead letter for event ${event.sequence}; the event stays in the store`);
    }
  }

  /** Event time; see BurstClock (a burst is a run of publishes before the delivery microtask). */
  readonly #clock = (): string => this.#time.now(this.#flushScheduled);
}

function positiveInt(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw invalidEvent(field, 'must be a positive integer', value);
  return value;
}
