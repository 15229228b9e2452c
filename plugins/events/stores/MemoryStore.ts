/**
 * The in-memory store: a bounded ring of the most recent `capacity` events. Appends are
 * synchronous (no promise, no copy); when the ring is full the oldest event is evicted, so a replay
 * or a durable subscriber that falls further behind than `capacity` sees a gap (the bus logs it).
 * Nothing survives the process: durable positions live in a Map for the life of the store.
 *
 * The ring is kept as columns (one array per field) rather than as event objects: the id and the
 * sequence follow from the slot, type, source and time are shared strings, so an append retains
 * nothing new but the data. Keeping 100 000 event objects alive instead would promote every one of
 * them out of the young generation, and the garbage collector would cost more than the bus.
 * Reads (`get`, `read`) build fresh event objects with the same fields. The `traceparent` column
 * is created at the first traced event: a store that never sees one (tracing off) has no column
 * and pays one field check per append; once tracing is on it is one more column like `subject`.
 */
import type { StoredEvent } from '../types.js';
import { sequenceOfId, newIdPrefix, type CommitListener, type EventStore, type OpenReport, type PendingEvent, type ReadRange } from './EventStore.js';

export interface MemoryStoreOptions {
  /** Events kept (default 100 000). */
  readonly capacity?: number;
}

export class MemoryStore implements EventStore {
  readonly kind = 'memory';
  readonly #capacity: number;
  readonly #type: string[] = [];
  readonly #source: string[] = [];
  readonly #time: string[] = [];
  readonly #data: unknown[] = [];
  /** Optional fields; undefined in most slots. */
  readonly #subject: Array<string | undefined> = [];
  readonly #correlationId: Array<string | undefined> = [];
  readonly #causationId: Array<string | undefined> = [];
  /** Created at the first traced event (see the file comment), then kept in step with the others. */
  #traceparent: Array<string | undefined> | undefined;
  readonly #positions = new Map<string, number>();
  readonly #prefix = newIdPrefix();
  #last = 0;
  #onCommit: CommitListener | undefined;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    const capacity = options.capacity ?? 100_000;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`MemoryStore capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** Events the ring holds at most. */
  get capacity(): number {
    return this.#capacity;
  }

  get firstSequence(): number {
    return Math.max(1, this.#last - this.#capacity + 1);
  }

  get lastSequence(): number {
    return this.#last;
  }

  /** Always 0: the memory store does not serialise events, so it has no byte size to report. */
  get bytes(): number {
    return 0;
  }

  async open(onCommit: CommitListener): Promise<OpenReport> {
    this.#onCommit = onCommit;
    this.#closed = false;
    return { firstSequence: this.firstSequence, lastSequence: this.#last, repairs: [] };
  }

  append(event: PendingEvent): undefined {
    const seq = ++this.#last;
    event.sequence = seq;
    event.id = this.#prefix + '-' + seq;
    // Plain arrays filled up to capacity, then overwritten in place: no growth after warm-up.
    const slot = (seq - 1) % this.#capacity;
    const traceparents = this.#traceparent ?? (event.traceparent === undefined ? undefined : this.#startTraceColumn());
    if (slot === this.#type.length) {
      this.#type.push(event.type);
      this.#source.push(event.source);
      this.#time.push(event.time);
      this.#data.push(event.data);
      this.#subject.push(event.subject);
      this.#correlationId.push(event.correlationId);
      this.#causationId.push(event.causationId);
      traceparents?.push(event.traceparent);
    } else {
      this.#type[slot] = event.type;
      this.#source[slot] = event.source;
      this.#time[slot] = event.time;
      this.#data[slot] = event.data;
      this.#subject[slot] = event.subject;
      this.#correlationId[slot] = event.correlationId;
      this.#causationId[slot] = event.causationId;
      if (traceparents !== undefined) traceparents[slot] = event.traceparent;
    }
    this.#onCommit?.(event);
    return undefined;
  }

  /** The event with this sequence if the ring still holds it (a new object on each call). */
  at(sequence: number): StoredEvent | undefined {
    if (!(sequence >= this.firstSequence && sequence <= this.#last)) return undefined;
    const slot = (sequence - 1) % this.#capacity;
    const event: { -readonly [K in keyof StoredEvent]: StoredEvent[K] } = {
      id: this.#prefix + '-' + sequence,
      type: this.#type[slot]!,
      source: this.#source[slot]!,
      time: this.#time[slot]!,
      sequence,
      data: this.#data[slot],
    };
    const subject = this.#subject[slot];
    const correlationId = this.#correlationId[slot];
    const causationId = this.#causationId[slot];
    if (subject !== undefined) event.subject = subject;
    if (correlationId !== undefined) event.correlationId = correlationId;
    if (causationId !== undefined) event.causationId = causationId;
    const traceparent = this.#traceparent?.[slot];
    if (traceparent !== undefined) event.traceparent = traceparent;
    return event;
  }

  /** The traceparent column, as long as the others so far (their events had none). */
  #startTraceColumn(): Array<string | undefined> {
    const column = new Array<string | undefined>(this.#type.length).fill(undefined);
    this.#traceparent = column;
    return column;
  }

  async *read(range: ReadRange): AsyncIterable<readonly StoredEvent[]> {
    const pageSize = Math.max(1, range.pageSize ?? 1024);
    const to = Math.min(range.to ?? this.#last, this.#last);
    let next = Math.max(range.from, 1);
    while (next <= to) {
      // Evictions between pages move the start forward; the caller sees the gap in the sequences.
      next = Math.max(next, this.firstSequence);
      const end = Math.min(to, next + pageSize - 1);
      const page: StoredEvent[] = [];
      for (let s = next; s <= end; s++) page.push(this.at(s)!);
      next = end + 1;
      if (page.length > 0) yield page;
    }
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const event = this.at(sequenceOfId(id));
    return event !== undefined && event.id === id ? event : undefined;
  }

  loadPosition(name: string): number {
    return this.#positions.get(name) ?? 0;
  }

  savePosition(name: string, sequence: number): void {
    this.#positions.set(name, sequence);
  }

  async checkWritable(): Promise<void> {
    if (this.#closed) throw new Error('the memory store is closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#onCommit = undefined;
  }
}
