/**
 * Requests waiting for their reply, by correlation id. The bus offers every committed event that
 * carries a correlation id; the first other event with a waiter's id (and matching its reply type,
 * when given) resolves it.
 */
import type { PatternMatcher } from './patterns.js';
import type { StoredEvent } from './types.js';

export interface Waiter {
  readonly correlationId: string;
  /** The request itself: never its own reply. */
  readonly request: object;
  readonly reply: PatternMatcher | undefined;
  resolve(event: StoredEvent): void;
  reject(error: Error): void;
}

export class ReplyWaiters {
  readonly #byCorrelation = new Map<string, Waiter[]>();

  /** Correlation ids waited on (0 makes the per-event check one comparison). */
  get size(): number {
    return this.#byCorrelation.size;
  }

  add(waiter: Waiter): void {
    const list = this.#byCorrelation.get(waiter.correlationId);
    if (list === undefined) this.#byCorrelation.set(waiter.correlationId, [waiter]);
    else list.push(waiter);
  }

  remove(waiter: Waiter): void {
    const list = this.#byCorrelation.get(waiter.correlationId);
    if (list === undefined) return;
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byCorrelation.delete(waiter.correlationId);
  }

  /** Resolves the waiters this committed event answers. */
  offer(event: StoredEvent): void {
    if (event.correlationId === undefined) return;
    const list = this.#byCorrelation.get(event.correlationId);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (w.request === event) continue;
      if (w.reply !== undefined && !w.reply.matches(event.type)) continue;
      w.resolve(event);
    }
  }

  /** Fails every waiter (the bus is stopping). */
  rejectAll(error: Error): void {
    for (const list of this.#byCorrelation.values()) for (const w of list) w.reject(error);
    this.#byCorrelation.clear();
  }
}
