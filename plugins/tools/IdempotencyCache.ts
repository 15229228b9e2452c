/**
 * Results of completed calls by idempotency key, so that a retried or replayed call does not repeat
 * a side effect. Bounded LRU (Map insertion order) with a TTL; a call in flight is kept as its
 * promise so a concurrent duplicate waits for it instead of running the handler a second time.
 * Failures are not kept: retrying after a failure must run the tool again.
 */

export interface IdempotencyOptions {
  /** Completed results kept at most (least recently used dropped first); 0 turns caching off. */
  readonly capacity: number;
  /** How long a completed result is replayed, in ms. */
  readonly ttlMs: number;
}

type Entry = { readonly pending: Promise<unknown>; done: false } | { readonly value: unknown; readonly expiresAt: number; done: true };

export type Lookup = { readonly hit: false } | { readonly hit: true; readonly pending: true; readonly promise: Promise<unknown> } | { readonly hit: true; readonly pending: false; readonly value: unknown };

const MISS: Lookup = Object.freeze({ hit: false });

export class IdempotencyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: IdempotencyOptions, now: () => number = Date.now) {
    this.#capacity = options.capacity;
    this.#ttlMs = options.ttlMs;
    this.#now = now;
  }

  get enabled(): boolean {
    return this.#capacity > 0;
  }

  /** Completed and in-flight entries. */
  get size(): number {
    return this.#entries.size;
  }

  lookup(key: string): Lookup {
    const entry = this.#entries.get(key);
    if (entry === undefined) return MISS;
    if (!entry.done) return { hit: true, pending: true, promise: entry.pending };
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return MISS;
    }
    // Re-insert: Map order is the LRU order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return { hit: true, pending: false, value: entry.value };
  }

  /** Records a call in flight; settles into a stored result or disappears with the promise. */
  track(key: string, promise: Promise<unknown>): void {
    const entry: Entry = { pending: promise, done: false };
    this.#entries.set(key, entry);
    promise.then(
      (value) => {
        if (this.#entries.get(key) !== entry) return;
        this.#entries.delete(key);
        this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs, done: true });
        this.#evict();
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
  }

  clear(): void {
    this.#entries.clear();
  }

  #evict(): void {
    // In-flight entries are never evicted (a waiter holds them); count only completed ones' room.
    if (this.#entries.size <= this.#capacity) return;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#capacity) break;
      if (entry.done) this.#entries.delete(key);
    }
  }
}
