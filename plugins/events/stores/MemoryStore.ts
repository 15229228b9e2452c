/**
 * The in-memory store: a bounded ring of the most recent `capacity` events. Appends are
 * synchronous (no promise, no copy); when the ring is full the oldest event is evicted, so a replay
 * or a durable subscriber that falls further behind than `capacity` sees a gap (the bus logs it).
 * Nothing survives the process: durable positions live in a Map for the life of the store.
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
  readonly #ring: Array<StoredEvent | undefined>;
  readonly #positions = new Map<string, number>();
  readonly #prefix = newIdPrefix();
  #last = 0;
  #onCommit: CommitListener | undefined;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    const capacity = options.capacity ?? 100_000;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`MemoryStore capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    this.#ring = [];
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
    // A plain array filled up to capacity, then overwritten in place: no growth after warm-up.
    const slot = (seq - 1) % this.#capacity;
    if (slot === this.#ring.length) this.#ring.push(event);
    else this.#ring[slot] = event;
    this.#onCommit?.(event);
    return undefined;
  }

  /** The event with this sequence if the ring still holds it. */
  at(sequence: number): StoredEvent | undefined {
    if (sequence < this.firstSequence || sequence > this.#last) return undefined;
    return this.#ring[(sequence - 1) % this.#capacity];
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
      for (let s = next; s <= end; s++) page.push(this.#ring[(s - 1) % this.#capacity]!);
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
