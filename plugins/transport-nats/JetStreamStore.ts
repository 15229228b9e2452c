/**
 * An `EventStore` over a JetStream stream: the event log shared by every node that names the same
 * stream.
 *
 * - **append** publishes the event on `<subjectPrefix>.<type>` with `Nats-Msg-Id` = the event id,
 *   so a re-sent event inside the stream's duplicate window is stored once. It resolves only when
 *   the server has acknowledged the write *and* the event came back through this node's tail (so
 *   the commit listener has run: store first, then deliver). `sequence` is the stream sequence,
 *   known only then; `id` is assigned before the publish (it is the dedup key).
 * - **the tail**: one ordered consumer per store follows the stream from where it was at open and
 *   hands every event — this node's and other nodes' — to the commit listener in stream order.
 * - **read** pages through the stream with a short-lived ordered consumer.
 * - **positions** of durable subscriptions live in a KV bucket (`KV_<stream>_POSITIONS`), loaded at
 *   open and written back lazily (and at close).
 * - **traceparent**: a traced event keeps it in the stored JSON (where reads take it from), and its
 *   message also carries the `traceparent` header, for NATS tooling that reads the stream directly.
 */
import type { NatsConnection as Client } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Logger } from '../../sdk/index.js';
import { isTraceparent } from '../../sdk/util/index.js';
import type { CommitListener, EventStore, OpenReport, PendingEvent, ReadRange } from '../events/stores/EventStore.js';
import type { StoredEvent } from '../events/types.js';
import { jetStreamFailed, publishFailed, storeClosed } from './errors.js';
import { KvBucket } from './KvBucket.js';
import type { NatsConnection } from './NatsConnection.js';
import { traceHeaders } from './traceContext.js';
import type { JetStreamStoreOptions } from './options.js';

/** Ids → sequences remembered for `get(id)` without scanning; the oldest are forgotten first. */
const ID_CACHE = 100_000;
/**
 * The newest events the tail delivered, kept for `read`: replays of recent history (a run's
 * journal, a durable subscriber catching up) are served from memory instead of a consumer round
 * trip over the whole range. Older ranges are read from the stream.
 */
const RECENT_EVENTS = 10_000;
/** Coalesces position writes: one KV write per subscription per this many ms at most. */
const POSITION_FLUSH_MS = 100;

interface Inflight {
  readonly event: PendingEvent;
  resolve(): void;
  reject(error: Error): void;
  acked: boolean;
  committed: boolean;
  /** Payload bytes (for the `bytes` gauge when committed at ack time). */
  bytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class JetStreamStore implements EventStore {
  readonly kind = 'jetstream';
  readonly #connection: NatsConnection;
  readonly #options: JetStreamStoreOptions;
  readonly #logger: Logger | undefined;
  readonly #subjectPrefix: string;
  readonly #idPrefix = randomPrefix();
  #counter = 0;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #onCommit: CommitListener | undefined;
  #first = 1;
  #last = 0;
  #bytes = 0;
  readonly #inflight = new Map<string, Inflight>();
  readonly #ids = new Map<string, number>();
  /** Our appends the server acknowledged but not yet dispatched, by their stream sequence. */
  readonly #acked = new Map<number, Inflight>();
  /** Ring of the newest committed events: `#recent[seq % RECENT_EVENTS]` for seq in [#recentFirst, #last]. */
  readonly #recent: Array<StoredEvent | undefined> = new Array<StoredEvent | undefined>(RECENT_EVENTS);
  #recentFirst = 0;
  #tail: ConsumerMessages | undefined;
  #tailDone: Promise<void> | undefined;
  #positions: KvBucket | undefined;
  readonly #positionValues = new Map<string, number>();
  readonly #dirty = new Set<string>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(connection: NatsConnection, options: JetStreamStoreOptions, logger?: Logger) {
    this.#connection = connection;
    this.#options = options;
    this.#logger = logger;
    this.#subjectPrefix = `${options.subjectPrefix}.`;
  }

  get firstSequence(): number {
    return this.#first;
  }

  get lastSequence(): number {
    return this.#last;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The stream's name. */
  get stream(): string {
    return this.#options.stream;
  }

  async open(onCommit: CommitListener): Promise<OpenReport> {
    const client = await this.#connection.ready();
    this.#onCommit = onCommit;
    this.#js = jetstream(client);
    this.#jsm = await jetstreamManager(client);
    const state = await this.#ensureStream(this.#jsm);
    this.#last = state.last_seq;
    this.#first = state.messages === 0 ? state.last_seq + 1 : state.first_seq;
    this.#bytes = state.bytes;
    this.#positions = await KvBucket.open(client, this.#options.positionsBucket ?? `${this.#options.stream}_POSITIONS`);
    for (const key of await this.#positions.keys()) {
      const entry = await this.#positions.get(key);
      const n = entry === undefined ? Number.NaN : Number(decoder.decode(entry.value));
      if (Number.isSafeInteger(n)) this.#positionValues.set(decodeKey(key), n);
    }
    await this.#startTail(client);
    return { firstSequence: this.#first, lastSequence: this.#last, repairs: [] };
  }

  async #ensureStream(jsm: JetStreamManager) {
    const o = this.#options;
    try {
      return (await jsm.streams.info(o.stream)).state;
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== 10059) throw jetStreamFailed(`read stream ${o.stream}`, error);
    }
    try {
      const info = await jsm.streams.add({
        name: o.stream,
        subjects: [`${o.subjectPrefix}.>`],
        storage: o.storage === 'memory' ? StorageType.Memory : StorageType.File,
        max_msgs: o.maxMessages > 0 ? o.maxMessages : -1,
        max_bytes: o.maxBytes > 0 ? o.maxBytes : -1,
        max_age: o.maxAgeMs * 1_000_000,
        duplicate_window: o.duplicateWindowMs * 1_000_000,
      });
      return info.state;
    } catch (error) {
      // Another node created it first.
      if (error instanceof JetStreamApiError && error.code === 10058) return (await jsm.streams.info(o.stream)).state;
      throw jetStreamFailed(`create stream ${o.stream} on ${o.subjectPrefix}.>`, error);
    }
  }

  async #startTail(client: Client): Promise<void> {
    void client;
    const consumer = await this.#js!.consumers.get(this.#options.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.#last + 1,
    });
    const messages = await consumer.consume({ max_messages: 1024 });
    this.#tail = messages;
    this.#tailDone = (async () => {
      for await (const msg of messages) this.#onTail(msg);
    })().catch((error: unknown) => {
      if (!this.#closed) this.#logger?.error({ err: error }, `JetStream tail of ${this.#options.stream} ended: ${(error as Error).message}`);
    });
  }

  /** One event of the stream, in order: fill in the local append it answers, or decode a remote one. */
  #onTail(msg: JsMsg): void {
    const seq = msg.seq;
    // Already dispatched (our own append, committed at its ack) or a redelivery after a reset.
    if (seq <= this.#last) return;
    const id = msg.headers?.get('Nats-Msg-Id') ?? '';
    const mine = id === '' ? undefined : this.#inflight.get(id);
    if (mine !== undefined) {
      this.#commit(mine.event as StoredEvent, seq, msg.data.length);
      mine.committed = true;
      if (mine.acked) this.#settle(mine);
    } else {
      let event: StoredEvent;
      try {
        event = decodeEvent(msg.data, seq);
      } catch (error) {
        this.#logger?.error({ err: error, seq }, `JetStream event ${seq} of ${this.#options.stream} cannot be decoded; skipped`);
        this.#last = seq;
        return;
      }
      this.#commit(event, seq, msg.data.length);
    }
    this.#drainAcked();
  }

  /** Dispatches one event at `seq` (the next in order). */
  #commit(event: StoredEvent, seq: number, bytes: number): void {
    (event as { sequence: number }).sequence = seq;
    this.#last = seq;
    if (this.#acked.size !== 0) this.#acked.delete(seq);
    this.#bytes += bytes;
    // The ring covers what was committed since open (each slot is checked against its sequence on read).
    if (this.#recentFirst === 0) this.#recentFirst = seq;
    this.#recent[seq % RECENT_EVENTS] = event;
    this.#remember(event.id, seq);
    this.#onCommit!(event);
  }

  /**
   * Commits our own acknowledged appends that are next in stream order without waiting for the
   * tail to bring them back: when the server acknowledged sequence N and everything up to N-1 has
   * been dispatched, N is the next event of the log whoever wrote the others. This saves the
   * tail's round trip on every local append; the tail skips them when they arrive.
   */
  #drainAcked(): void {
    const acked = this.#acked;
    if (acked.size === 0) return;
    for (let entry = acked.get(this.#last + 1); entry !== undefined; entry = acked.get(this.#last + 1)) {
      acked.delete(this.#last + 1);
      if (entry.committed) continue;
      this.#commit(entry.event as StoredEvent, this.#last + 1, entry.bytes);
      entry.committed = true;
      this.#settle(entry);
    }
  }

  #remember(id: string, seq: number): void {
    if (this.#ids.size >= ID_CACHE) this.#ids.delete(this.#ids.keys().next().value!);
    this.#ids.set(id, seq);
  }

  #settle(entry: Inflight): void {
    this.#inflight.delete(entry.event.id);
    entry.resolve();
  }

  append(event: PendingEvent): Promise<void> {
    const js = this.#js;
    if (js === undefined || this.#closed) return Promise.reject(storeClosed('is not open'));
    if (event.id === '') event.id = `${this.#idPrefix}-${++this.#counter}`;
    const subject = this.#subjectPrefix + event.type;
    const payload = encodeEvent(event);
    this.#connection.checkPayload(subject, payload.length);
    let entry!: Inflight;
    const done = new Promise<void>((resolve, reject) => {
      entry = { event, resolve, reject, acked: false, committed: false, bytes: payload.length };
    });
    this.#inflight.set(event.id, entry);
    // Headers only for a traced event: an untraced append allocates nothing more than before.
    const options: Parameters<JetStreamClient['publish']>[2] =
      event.traceparent === undefined
        ? { msgID: event.id, timeout: this.#options.ackTimeoutMs }
        : { msgID: event.id, timeout: this.#options.ackTimeoutMs, headers: traceHeaders(event.traceparent) };
    js.publish(subject, payload, options).then(
      (ack) => {
        entry.acked = true;
        if (entry.committed) this.#settle(entry);
        else if (ack.duplicate && ack.seq <= this.#last) {
          // A re-sent event whose first copy was already delivered (before this append began).
          event.sequence = ack.seq;
          this.#settle(entry);
        } else if (ack.seq > this.#last) {
          this.#acked.set(ack.seq, entry);
          this.#drainAcked();
        }
      },
      (error: unknown) => {
        this.#inflight.delete(event.id);
        entry.reject(publishFailed(subject, error));
      },
    );
    return done;
  }

  async *read(range: ReadRange): AsyncIterable<readonly StoredEvent[]> {
    const js = this.#js;
    if (js === undefined) throw storeClosed('is not open');
    const to = Math.min(range.to ?? this.#last, this.#last);
    const from = Math.max(range.from, this.#first);
    if (from > to) return;
    const pageSize = range.pageSize ?? 1024;
    const cached = this.#recentFirst === 0 ? to + 1 : Math.max(this.#recentFirst, this.#last - RECENT_EVENTS + 1);
    if (from < cached) yield* this.#readStream(js, from, Math.min(to, cached - 1), pageSize);
    // The rest from memory, page by page, as long as the ring still holds it.
    let page: StoredEvent[] = [];
    for (let seq = Math.max(from, cached); seq <= to; seq++) {
      const e = this.#recent[seq % RECENT_EVENTS];
      if (e === undefined || e.sequence !== seq) {
        // Overwritten while we were reading (more than RECENT_EVENTS new events): read the rest from the stream.
        if (page.length > 0) yield page;
        yield* this.#readStream(js, seq, to, pageSize);
        return;
      }
      page.push(e);
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  async *#readStream(js: JetStreamClient, from: number, to: number, pageSize: number): AsyncIterable<readonly StoredEvent[]> {
    const consumer = await js.consumers.get(this.#options.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    const messages = await consumer.consume({ max_messages: Math.min(pageSize, 4096) });
    let page: StoredEvent[] = [];
    try {
      for await (const msg of messages) {
        if (msg.seq > to) break;
        page.push(decodeEvent(msg.data, msg.seq));
        // `to` reached, or nothing more in the stream (retention removed part of the range).
        if (msg.seq === to || msg.info.pending === 0) break;
        if (page.length >= pageSize) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    } finally {
      messages.stop();
      await consumer.delete().catch(() => undefined);
    }
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const seq = this.#ids.get(id);
    if (seq !== undefined) {
      const recent = this.#recent[seq % RECENT_EVENTS];
      if (recent !== undefined && recent.sequence === seq) return recent;
      const msg = await this.#jsm!.streams.getMessage(this.#options.stream, { seq }).catch(() => null);
      return msg === null ? undefined : decodeEvent(msg.data, msg.seq);
    }
    // Not seen by this node since it opened: scan the log.
    for await (const page of this.read({ from: this.#first })) {
      for (const e of page) if (e.id === id) return e;
    }
    return undefined;
  }

  loadPosition(name: string): number {
    return this.#positionValues.get(name) ?? 0;
  }

  savePosition(name: string, sequence: number): void {
    if (this.#positionValues.get(name) === sequence) return;
    this.#positionValues.set(name, sequence);
    this.#dirty.add(name);
    if (this.#flushTimer === undefined && !this.#closed) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        void this.#flushPositions();
      }, POSITION_FLUSH_MS);
      this.#flushTimer.unref();
    }
  }

  #flushPositions(): Promise<void> {
    const run = async (): Promise<void> => {
      const bucket = this.#positions;
      if (bucket === undefined) return;
      for (const name of [...this.#dirty]) {
        this.#dirty.delete(name);
        try {
          await bucket.put(encodeKey(name), String(this.#positionValues.get(name) ?? 0));
        } catch (error) {
          this.#dirty.add(name);
          this.#logger?.warn({ err: error, subscription: name }, `could not save the position of '${name}'; will retry`);
          return;
        }
      }
    };
    this.#flushing = this.#flushing.then(run);
    return this.#flushing;
  }

  async checkWritable(): Promise<void> {
    if (this.#closed) throw storeClosed('is closed');
    const state = this.#connection.state;
    if (state !== 'connected') throw jetStreamFailed(`write to ${this.#options.stream}`, new Error(`NATS is ${state}`));
    try {
      await this.#jsm!.streams.info(this.#options.stream);
    } catch (error) {
      throw jetStreamFailed(`read stream ${this.#options.stream}`, error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.#flushPositions().catch(() => undefined);
    this.#tail?.stop();
    await this.#tailDone;
    for (const entry of this.#inflight.values()) entry.reject(storeClosed('closed before the event came back'));
    this.#inflight.clear();
  }
}

function randomPrefix(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Positions are keyed by subscription name; KV keys allow fewer characters, so escape the rest. */
function encodeKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, (c) => `=${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function decodeKey(key: string): string {
  return key.replace(/=([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** The stored form: the event without its sequence (the stream assigns that). */
function encodeEvent(event: PendingEvent): Uint8Array {
  const o: Record<string, unknown> = { id: event.id, type: event.type, source: event.source, time: event.time, data: event.data };
  if (event.subject !== undefined) o.subject = event.subject;
  if (event.correlationId !== undefined) o.correlationId = event.correlationId;
  if (event.causationId !== undefined) o.causationId = event.causationId;
  if (event.traceparent !== undefined) o.traceparent = event.traceparent;
  return encoder.encode(JSON.stringify(o));
}

function decodeEvent(data: Uint8Array, sequence: number): StoredEvent {
  const o = JSON.parse(decoder.decode(data)) as Record<string, unknown>;
  if (typeof o.id !== 'string' || typeof o.type !== 'string' || typeof o.source !== 'string' || typeof o.time !== 'string') {
    throw new Error(`not an event (sequence ${sequence})`);
  }
  const e: { -readonly [K in keyof StoredEvent]: StoredEvent[K] } = { id: o.id, type: o.type, source: o.source, time: o.time, sequence, data: o.data ?? null };
  if (typeof o.subject === 'string') e.subject = o.subject;
  if (typeof o.correlationId === 'string') e.correlationId = o.correlationId;
  if (typeof o.causationId === 'string') e.causationId = o.causationId;
  // Another writer to the stream may not have validated it: a malformed one is left off.
  if (o.traceparent !== undefined && isTraceparent(o.traceparent)) e.traceparent = o.traceparent;
  return e;
}

