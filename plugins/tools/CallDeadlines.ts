/**
 * Deadlines of the calls in flight, on the SDK's {@link DeadlineWheel} (one deadline list for the
 * whole project). A wheel holds entries of one duration in deadline order, so the bus keeps one
 * wheel per duration (per tool, in practice): adding and removing a call is O(1) and allocates
 * nothing, and a wheel runs one coarse interval only while it has calls in flight. A call expires
 * between its `timeoutMs` and `timeoutMs` plus the wheel's resolution (a tenth of it, 1–100 ms).
 */
import { DeadlineWheel, resolutionFor, type DeadlineEntry } from '../../sdk/util/index.js';

/** Wheels of durations no call uses any more are dropped once there are more than this many. */
const MAX_IDLE_WHEELS = 64;

/** An entry that knows its duration (the key of its wheel). */
export interface TimedEntry extends DeadlineEntry {
  readonly timeoutMs: number;
}

export class CallDeadlines {
  readonly #wheels = new Map<number, DeadlineWheel>();

  /** Calls waiting on a deadline (a sum over the few wheels: read by health checks, not per call). */
  get size(): number {
    let size = 0;
    for (const wheel of this.#wheels.values()) size += wheel.size;
    return size;
  }

  /** Starts `entry`'s clock: `expire()` runs about `entry.timeoutMs` from now unless `remove` comes first. */
  add(entry: TimedEntry): void {
    let wheel = this.#wheels.get(entry.timeoutMs);
    if (wheel === undefined) {
      if (this.#wheels.size >= MAX_IDLE_WHEELS) this.#prune();
      wheel = new DeadlineWheel(resolutionFor(entry.timeoutMs), true);
      this.#wheels.set(entry.timeoutMs, wheel);
    }
    wheel.add(entry, entry.timeoutMs);
  }

  /** Stops `entry`'s clock (it expired, settled or was cancelled); harmless when it is not waiting. */
  remove(entry: TimedEntry): void {
    this.#wheels.get(entry.timeoutMs)?.remove(entry);
  }

  /** Removes every waiting entry, handing each to `fn`, and stops every wheel's interval. */
  drain(fn: (entry: TimedEntry) => void): void {
    const entries: TimedEntry[] = [];
    for (const wheel of this.#wheels.values()) wheel.removeAll((e) => entries.push(e as TimedEntry));
    for (const e of entries) fn(e);
  }

  #prune(): void {
    for (const [ms, wheel] of this.#wheels) if (wheel.size === 0) this.#wheels.delete(ms);
  }
}
