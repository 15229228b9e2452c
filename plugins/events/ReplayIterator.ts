/**
 * The iterator behind `EventBus.replay` and the checks of a replay query. Internal to the plugin.
 */
import { EventError, toError } from '../../sdk/index.js';
import { EVENT_ERROR_CODES, invalidEvent } from './errors.js';
import { compilePattern, type PatternMatcher } from './patterns.js';
import type { EventStore } from './stores/EventStore.js';
import type { ReplayQuery, StoredEvent } from './types.js';

function timeOf(value: string | Date | number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const t = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(t)) throw invalidEvent(field, 'must be an ISO time, a Date or epoch milliseconds', value);
  return t;
}

export function normaliseQuery(query: ReplayQuery): {
  fromSequence: number;
  toSequence: number;
  fromTime: number | undefined;
  toTime: number | undefined;
  types: PatternMatcher[] | undefined;
  correlationId: string | undefined;
  limit: number;
} {
  const { fromSequence = 1, toSequence = Number.MAX_SAFE_INTEGER, limit = Number.POSITIVE_INFINITY } = query;
  if (!Number.isSafeInteger(fromSequence) || fromSequence < 0) throw invalidEvent('query.fromSequence', 'must be a non-negative integer', fromSequence);
  if (!Number.isSafeInteger(toSequence) || toSequence < 0) throw invalidEvent('query.toSequence', 'must be a non-negative integer', toSequence);
  if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 0)) throw invalidEvent('query.limit', 'must be a non-negative integer', limit);
  if (query.types !== undefined && !Array.isArray(query.types)) throw invalidEvent('query.types', 'must be an array of patterns', query.types);
  return {
    fromSequence: Math.max(1, fromSequence),
    toSequence,
    fromTime: timeOf(query.fromTime, 'query.fromTime'),
    toTime: timeOf(query.toTime, 'query.toTime'),
    types: query.types?.map((p) => compilePattern(p)),
    correlationId: query.correlationId,
    limit,
  };
}

/**
 * The iterator behind `replay`: pages come from the store, events are handed out one by one from
 * the current page. Written by hand rather than as an async generator because a generator's
 * resume per event costs more than the event itself on a million-event replay.
 */
export class ReplayIterator implements AsyncIterator<StoredEvent> {
  readonly #store: EventStore;
  readonly #query: ReplayQuery;
  readonly #waitOpen: () => Promise<void>;
  readonly #isOpen: () => boolean;
  #q: ReturnType<typeof normaliseQuery> | undefined;
  #pages: AsyncIterator<readonly StoredEvent[]> | undefined;
  #page: readonly StoredEvent[] = [];
  #i = 0;
  #left = 0;
  #done = false;

  constructor(store: EventStore, query: ReplayQuery, waitOpen: () => Promise<void>, isOpen: () => boolean) {
    this.#store = store;
    this.#query = query;
    this.#waitOpen = waitOpen;
    this.#isOpen = isOpen;
  }

  next(): Promise<IteratorResult<StoredEvent>> {
    if (this.#pages !== undefined && !this.#done) {
      const e = this.#nextInPage();
      if (e !== undefined) return Promise.resolve({ value: e, done: false });
    }
    return this.#slow();
  }

  async return(): Promise<IteratorResult<StoredEvent>> {
    this.#finish();
    await this.#pages?.return?.();
    return { value: undefined, done: true };
  }

  #finish(): void {
    this.#done = true;
    this.#page = [];
  }

  /** The next event of the current page that passes the query, or undefined when the page is used up. */
  #nextInPage(): StoredEvent | undefined {
    const q = this.#q!;
    const page = this.#page;
    while (this.#i < page.length) {
      const e = page[this.#i++]!;
      if (q.types !== undefined && !q.types.some((p) => p.matches(e.type))) continue;
      if (q.correlationId !== undefined && e.correlationId !== q.correlationId) continue;
      if (q.fromTime !== undefined || q.toTime !== undefined) {
        const t = Date.parse(e.time);
        if ((q.fromTime !== undefined && t < q.fromTime) || (q.toTime !== undefined && t > q.toTime)) continue;
      }
      if (--this.#left <= 0) this.#finish();
      return e;
    }
    return undefined;
  }

  async #slow(): Promise<IteratorResult<StoredEvent>> {
    if (this.#done) return { value: undefined, done: true };
    if (this.#pages === undefined) {
      if (!this.#isOpen()) await this.#waitOpen();
      this.#q = normaliseQuery(this.#query);
      this.#left = this.#q.limit;
      if (this.#left <= 0) {
        this.#finish();
        return { value: undefined, done: true };
      }
      if (this.#store.refresh !== undefined) await this.#store.refresh();
      const asked = this.#query.fromSequence;
      const first = this.#store.firstSequence;
      if (asked !== undefined && asked >= 1 && asked < first && asked <= this.#store.lastSequence) {
        this.#finish();
        throw new EventError(
          EVENT_ERROR_CODES.BEFORE_RETENTION,
          `replay from sequence ${asked} asked for events the store no longer holds: the log starts at ${first} (retention or capacity dropped ${asked}..${first - 1}); replay from ${first}, or leave fromSequence out to start at the oldest event held`,
          { context: { fromSequence: asked, firstSequence: first } },
        );
      }
      const to = Math.min(this.#q.toSequence, this.#store.lastSequence);
      this.#pages = this.#store.read({ from: this.#q.fromSequence, to, pageSize: 1024 })[Symbol.asyncIterator]();
    }
    for (;;) {
      const signal = this.#query.signal;
      if (signal?.aborted) {
        await this.return();
        throw toError(signal.reason);
      }
      const r = await this.#pages.next();
      if (r.done === true) {
        this.#finish();
        return { value: undefined, done: true };
      }
      this.#page = r.value;
      this.#i = 0;
      const e = this.#nextInPage();
      if (e !== undefined) return { value: e, done: false };
    }
  }
}
