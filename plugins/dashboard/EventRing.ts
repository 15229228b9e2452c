/** The last N events, for the stream panel and for SSE clients that reconnect with `Last-Event-ID`. */
import type { StoredEvent } from '../events/types.js';
import { clip } from './clip.js';
import type { EventView } from './types.js';

export function toEventView(event: StoredEvent): EventView {
  return {
    sequence: event.sequence,
    time: event.time,
    type: event.type,
    source: event.source,
    ...(event.correlationId !== undefined ? { correlationId: event.correlationId } : {}),
    ...(event.subject !== undefined ? { subject: event.subject } : {}),
    summary: event.data === null || event.data === undefined ? '' : clip(event.data, 300),
  };
}

/**
 * Holds the stored events themselves and makes their views only when someone reads: publishing
 * stays a pointer store per event, whatever the event rate, with or without a page open.
 */
export class EventRing {
  readonly #items: (StoredEvent | undefined)[];
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#items = new Array<StoredEvent | undefined>(capacity);
  }

  push(event: StoredEvent): void {
    this.#items[this.#next] = event;
    this.#next = (this.#next + 1) % this.#items.length;
    if (this.#count < this.#items.length) this.#count++;
  }

  /** Oldest first; only events with a sequence above `after`, at most `limit` (the newest ones). */
  list(after = 0, limit = this.#items.length): EventView[] {
    const out: StoredEvent[] = [];
    const cap = this.#items.length;
    for (let i = 0; i < this.#count; i++) {
      const item = this.#items[(this.#next - this.#count + i + cap) % cap]!;
      if (item.sequence > after) out.push(item);
    }
    return (out.length > limit ? out.slice(out.length - limit) : out).map(toEventView);
  }
}
