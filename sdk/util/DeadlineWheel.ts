/**
 * Deadlines without a timer per operation, for hot paths (policy attempts, tasks). A `setTimeout`
 * plus an AbortController per call costs microseconds (cockatiel's timeout: ~14 µs here); instead the
 * operations in flight sit in an intrusive list (the links live on the entry, so adding allocates
 * nothing) and one coarse interval checks their deadlines while anything is in flight. It stops on
 * the first tick that finds the list empty, so an idle wheel holds no handle. The list doubles as
 * the owner's set of operations in flight (a drain can abort them through `removeAll`).
 *
 * Deadlines use `Date.now()` (so `mock.timers` with the `Date` API drives them in tests); an
 * entry expires between `timeoutMs` and `timeoutMs + resolutionMs` after it was added.
 */

/** An entry the wheel can time out. The list links live on the entry itself: no allocation per add. */
export interface DeadlineEntry {
  deadline: number;
  deadlineTick: number;
  prev: DeadlineEntry | undefined;
  next: DeadlineEntry | undefined;
  /** Called once when the deadline passes (the entry is already unlinked). */
  expire(): void;
}

/** The interval period for a timeout: a tenth of it, between 1 ms and 100 ms. */
export function resolutionFor(timeoutMs: number): number {
  return Math.max(1, Math.min(100, Math.floor(timeoutMs / 10)));
}

export class DeadlineWheel {
  readonly resolutionMs: number;
  #head: DeadlineEntry | undefined;
  #tail: DeadlineEntry | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  /**
   * The `clearInterval` of the timer functions `#timer` came from: fake timers (`mock.timers`)
   * swap the globals, and a real interval cleared with the fake function would tick forever.
   */
  #clear: typeof clearInterval = clearInterval;
  /** Interval ticks so far: a second clock for when `Date` is frozen but timers run (fake timers without the Date API). */
  #ticks = 0;
  /** Whether entries are added in deadline order (one fixed timeout), so a tick can stop early. */
  readonly #ordered: boolean;

  constructor(resolutionMs: number, ordered: boolean) {
    this.resolutionMs = resolutionMs;
    this.#ordered = ordered;
  }

  get size(): number {
    return this.#size;
  }

  /** Tracks `entry` until `remove` or its deadline, `timeoutMs` from now. */
  add(entry: DeadlineEntry, timeoutMs: number): void {
    entry.deadline = Date.now() + timeoutMs;
    // Counting ticks is exact when this add starts the interval (phase 0); otherwise one more tick
    // keeps it from firing early. The wall clock normally wins; ticks only matter if Date stands still.
    const fresh = this.#timer === undefined;
    entry.deadlineTick = this.#ticks + Math.ceil(timeoutMs / this.resolutionMs) + (fresh ? 0 : 1);
    entry.next = undefined;
    entry.prev = this.#tail;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    this.#size++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#tick, this.resolutionMs);
      this.#clear = clearInterval;
    }
  }

  /** Stops tracking `entry`; harmless when it is not tracked. */
  remove(entry: DeadlineEntry): void {
    if (entry.prev === undefined && this.#head !== entry) return;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
    this.#size--;
  }

  /** Unlinks every entry, hands each to `fn`, and stops the interval. */
  removeAll(fn: (entry: DeadlineEntry) => void): void {
    while (this.#head !== undefined) {
      const entry = this.#head;
      this.remove(entry);
      fn(entry);
    }
    this.#stop();
  }

  // An arrow property, not a method: the interval needs a bound callback and this binds it once.
  readonly #tick = (): void => {
    const ticks = ++this.#ticks;
    if (this.#head === undefined) return this.#stop();
    const now = Date.now();
    let entry: DeadlineEntry | undefined = this.#head;
    while (entry !== undefined) {
      const next: DeadlineEntry | undefined = entry.next;
      if (entry.deadline <= now || entry.deadlineTick <= ticks) {
        this.remove(entry);
        entry.expire();
      } else if (this.#ordered) {
        break;
      }
      entry = next;
    }
  };

  #stop(): void {
    if (this.#timer !== undefined) this.#clear(this.#timer);
    this.#timer = undefined;
  }
}
