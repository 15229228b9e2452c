/**
 * Results of completed calls by idempotency key, so that a retried or replayed call does not repeat
 * a side effect. Completed results live in an `lru-cache` (bounded, TTL from completion); a call in
 * flight is kept apart as its promise, never evicted, so a concurrent duplicate waits for it instead
 * of running the handler a second time. Each entry keeps a fingerprint of the input it was made
 * with: the same key with another input is a conflict, not a replay. Failures are not kept: retrying
 * after a failure must run the tool again.
 */
import { LRUCache } from 'lru-cache';

export interface IdempotencyOptions {
  /** Completed results kept at most (least recently used dropped first); 0 turns caching off. */
  readonly capacity: number;
  /** How long a completed result is replayed, in ms. */
  readonly ttlMs: number;
}

interface Done {
  readonly value: unknown;
  readonly fingerprint: string;
}
interface InFlight {
  readonly promise: Promise<unknown>;
  readonly fingerprint: string;
}

export type Lookup =
  | { readonly hit: false }
  | { readonly hit: true; readonly conflict: true }
  | { readonly hit: true; readonly conflict: false; readonly pending: true; readonly promise: Promise<unknown> }
  | { readonly hit: true; readonly conflict: false; readonly pending: false; readonly value: unknown };

const MISS: Lookup = Object.freeze({ hit: false });
const CONFLICT: Lookup = Object.freeze({ hit: true, conflict: true });

export class IdempotencyCache {
  readonly #done: LRUCache<string, Done> | undefined;
  readonly #inFlight = new Map<string, InFlight>();

  constructor(options: IdempotencyOptions) {
    if (options.capacity > 0) {
      // `Date.now` rather than lru-cache's default `performance.now`, and no cached clock
      // (`ttlResolution: 0`), so fake Date timers drive the TTL.
      this.#done = new LRUCache<string, Done>({ max: options.capacity, ttl: options.ttlMs, ttlResolution: 0, perf: { now: () => Date.now() } });
    }
  }

  get enabled(): boolean {
    return this.#done !== undefined;
  }

  /** Completed and in-flight entries. */
  get size(): number {
    return this.#inFlight.size + (this.#done?.size ?? 0);
  }

  /** What `key` holds, checked against the `fingerprint` of the input it is looked up with. */
  lookup(key: string, fingerprint: string): Lookup {
    const flying = this.#inFlight.get(key);
    if (flying !== undefined) {
      return flying.fingerprint === fingerprint ? { hit: true, conflict: false, pending: true, promise: flying.promise } : CONFLICT;
    }
    const done = this.#done?.get(key);
    if (done === undefined) return MISS;
    return done.fingerprint === fingerprint ? { hit: true, conflict: false, pending: false, value: done.value } : CONFLICT;
  }

  /** Records a call in flight; it becomes a stored result, or disappears if it fails. */
  track(key: string, fingerprint: string, promise: Promise<unknown>): void {
    const entry: InFlight = { promise, fingerprint };
    this.#inFlight.set(key, entry);
    promise.then(
      (value) => {
        if (this.#inFlight.get(key) !== entry) return;
        this.#inFlight.delete(key);
        this.#done?.set(key, { value, fingerprint });
      },
      () => {
        if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
      },
    );
  }

  clear(): void {
    this.#inFlight.clear();
    this.#done?.clear();
  }
}
