/**
 * One timer for every call in flight. A `setTimeout`/`clearTimeout` pair costs ~0.4 µs, as much as
 * the whole rest of a tool call, so calls whose handler returns a promise join a per-duration
 * linked list instead (as Node's own timer lists do): with one duration, deadlines arrive in order,
 * so insert and remove are O(1) and only the earliest head needs a timer. The timer is ref'd
 * while a call is in flight (the caller is owed an answer) and unref'd when none is.
 *
 * Time is `performance.now()` (monotonic). When the timer fires, everything due by the time it was
 * set for expires even if the clock reads earlier, so fake timers (`mock.timers`) drive it too.
 */

/** Something with a deadline; `expire` runs once when it passes (and must not throw). */
export abstract class DeadlineEntry {
  /** @internal */ deadline = 0;
  /** @internal */ prev: DeadlineEntry | null = null;
  /** @internal */ next: DeadlineEntry | null = null;
  /** @internal */ bucket: Bucket | null = null;
  abstract expire(): void;
}

class Bucket {
  head: DeadlineEntry | null = null;
  tail: DeadlineEntry | null = null;
}

function unlink(entry: DeadlineEntry): void {
  const bucket = entry.bucket!;
  if (entry.prev === null) bucket.head = entry.next;
  else entry.prev.next = entry.next;
  if (entry.next === null) bucket.tail = entry.prev;
  else entry.next.prev = entry.prev;
  entry.prev = entry.next = null;
  entry.bucket = null;
}

export class Deadlines {
  readonly #buckets = new Map<number, Bucket>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #scheduledFor = Infinity;
  /**
   * The timer functions the armed timer came from. Fake timers (`mock.timers.enable`) swap the
   * globals; an armed real timer would then never fire on `tick`, so `add` re-arms when they differ.
   */
  #armedWith: typeof setTimeout | undefined;
  #clear: typeof clearTimeout = clearTimeout;

  /** Entries waiting. */
  get size(): number {
    return this.#count;
  }

  /** Starts `entry`'s clock: `expire()` runs `timeoutMs` from now unless `remove` comes first. */
  add(entry: DeadlineEntry, timeoutMs: number): void {
    const now = performance.now();
    entry.deadline = now + timeoutMs;
    let bucket = this.#buckets.get(timeoutMs);
    if (bucket === undefined) {
      bucket = new Bucket();
      this.#buckets.set(timeoutMs, bucket);
    }
    entry.bucket = bucket;
    entry.prev = bucket.tail;
    if (bucket.tail === null) bucket.head = entry;
    else bucket.tail.next = entry;
    bucket.tail = entry;
    if (++this.#count === 1) this.#timer?.ref();
    if (this.#timer !== undefined && this.#armedWith !== setTimeout) this.#schedule(this.#earliest(), now);
    else if (entry.deadline < this.#scheduledFor) this.#schedule(entry.deadline, now);
  }

  /** Stops `entry`'s clock; harmless when it is not waiting. */
  remove(entry: DeadlineEntry): void {
    if (entry.bucket === null) return;
    unlink(entry);
    // The timer stays armed for the next call (re-arming costs what we are saving) but no longer
    // holds the process open.
    if (--this.#count === 0) this.#timer?.unref();
  }

  /** Removes every waiting entry, handing each to `fn`, and disarms the timer. */
  drain(fn: (entry: DeadlineEntry) => void): void {
    const entries: DeadlineEntry[] = [];
    for (const bucket of this.#buckets.values()) {
      for (let e = bucket.head; e !== null; e = e.next) entries.push(e);
    }
    for (const e of entries) unlink(e);
    this.#buckets.clear();
    this.#count = 0;
    this.#disarm();
    for (const e of entries) fn(e);
  }

  /** Disarms the timer; entries stay (use `drain` to end them). */
  close(): void {
    this.#disarm();
  }

  #earliest(): number {
    let earliest = Infinity;
    for (const bucket of this.#buckets.values()) {
      if (bucket.head !== null && bucket.head.deadline < earliest) earliest = bucket.head.deadline;
    }
    return earliest;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clear(this.#timer);
    this.#timer = undefined;
    this.#scheduledFor = Infinity;
  }

  #schedule(at: number, now: number): void {
    if (this.#timer !== undefined) this.#clear(this.#timer);
    this.#scheduledFor = at;
    this.#armedWith = setTimeout;
    this.#clear = clearTimeout;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(at - now)));
    if (this.#count === 0) this.#timer.unref();
  }

  readonly #fire = (): void => {
    const now = Math.max(performance.now(), this.#scheduledFor);
    this.#timer = undefined;
    this.#scheduledFor = Infinity;
    let next = Infinity;
    for (const [duration, bucket] of this.#buckets) {
      while (bucket.head !== null && bucket.head.deadline <= now) {
        const entry = bucket.head;
        unlink(entry);
        this.#count--;
        entry.expire();
      }
      if (bucket.head === null) this.#buckets.delete(duration);
      else if (bucket.head.deadline < next) next = bucket.head.deadline;
    }
    // Relative to the instant the timer stood for, so fake clocks and real ones agree.
    if (next !== Infinity && this.#timer === undefined) this.#schedule(next, now);
  };
}
