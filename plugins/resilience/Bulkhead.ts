/**
 * A bulkhead: at most `maxConcurrent` executions hold a slot, at most `maxQueue` wait for one (FIFO),
 * the rest are refused at once with `RESILIENCE_BULKHEAD_FULL`. A waiter leaves the queue as soon as
 * its caller's signal aborts. A freed slot passes straight to the next waiter, so a burst of new
 * calls cannot overtake the queue.
 */
import { bulkheadFullError } from './errors.js';
import { abortReason } from '../../sdk/util/index.js';

export interface BulkheadSettings {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

/** A queued call; it is its own abort listener (`handleEvent`), so waiting allocates no closure. */
class Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly #bulkhead: Bulkhead;

  constructor(bulkhead: Bulkhead, signal: AbortSignal | undefined, resolve: () => void, reject: (error: unknown) => void) {
    this.#bulkhead = bulkhead;
    this.signal = signal;
    this.resolve = resolve;
    this.reject = reject;
  }

  handleEvent(): void {
    this.#bulkhead.leave(this);
    this.reject(abortReason(this.signal!));
  }
}

export class Bulkhead {
  readonly #policy: string;
  readonly #settings: BulkheadSettings;
  readonly #queue: Waiter[] = [];
  #running = 0;

  constructor(policy: string, settings: BulkheadSettings) {
    this.#policy = policy;
    this.#settings = settings;
  }

  /** Executions holding a slot. */
  get running(): number {
    return this.#running;
  }

  /** Executions waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Takes a free slot if there is one (the fast path: no promise). */
  tryEnter(): boolean {
    if (this.#running < this.#settings.maxConcurrent) {
      this.#running++;
      return true;
    }
    return false;
  }

  /** Whether `wait` would queue rather than refuse. */
  canQueue(): boolean {
    return this.#queue.length < this.#settings.maxQueue;
  }

  /** The refusal for a full bulkhead. */
  fullError(): Error {
    return bulkheadFullError(this.#policy, this.#settings.maxConcurrent, this.#settings.maxQueue);
  }

  /** Waits for a slot (the caller checked `canQueue`). Resolves holding the slot. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(this, signal, resolve, reject);
      this.#queue.push(waiter);
      signal?.addEventListener('abort', waiter, { once: true });
    });
  }

  /** Gives the slot back, or hands it to the oldest waiter. */
  release(): void {
    const next = this.#queue.shift();
    if (next === undefined) {
      this.#running--;
      return;
    }
    next.signal?.removeEventListener('abort', next);
    next.resolve();
  }

  /** Takes a waiter out of the queue (its caller cancelled). */
  leave(waiter: Waiter): void {
    const i = this.#queue.indexOf(waiter);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  /** Refuses every waiter with `error` (disposal). */
  rejectQueued(error: Error): void {
    for (const waiter of this.#queue.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter);
      waiter.reject(error);
    }
  }
}
