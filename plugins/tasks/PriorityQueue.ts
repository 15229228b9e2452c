/**
 * Four FIFO lanes, served strictly highest first. Each lane is an array with a moving head, so
 * `shift` is O(1) and allocation-free; the array is compacted only when the dead prefix dominates.
 */

/** Lane index per priority: the original system's TaskPriority values (Low 0 … Critical 3). */
export const PRIORITY_LEVEL = Object.freeze({ low: 0, normal: 1, high: 2, critical: 3 } as const);
export const PRIORITY_NAMES = Object.freeze(['low', 'normal', 'high', 'critical'] as const);

class Lane<T> {
  items: Array<T | undefined> = [];
  head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class PriorityQueue<T> {
  readonly #lanes: Lane<T>[] = [new Lane(), new Lane(), new Lane(), new Lane()];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Items waiting at one level (0 low … 3 critical). */
  sizeOf(level: number): number {
    return this.#lanes[level]!.size;
  }

  push(item: T, level: number): void {
    this.#lanes[level]!.items.push(item);
    this.#size++;
  }

  /** The oldest item of the highest non-empty level. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    for (let level = 3; level >= 0; level--) {
      const lane = this.#lanes[level]!;
      if (lane.head !== lane.items.length) {
        this.#size--;
        return lane.shift();
      }
    }
    return undefined;
  }

  /** Removes one item (a cancelled task); O(n) in its lane, which is bounded by the capacity. */
  remove(item: T, level: number): boolean {
    const lane = this.#lanes[level]!;
    const i = lane.items.indexOf(item, lane.head);
    if (i < 0) return false;
    lane.items.splice(i, 1);
    this.#size--;
    return true;
  }

  /** Empties the queue, highest priority first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }
}
