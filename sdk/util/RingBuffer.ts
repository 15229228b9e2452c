/**
 * A FIFO ring buffer, optionally bounded. The backing array starts at 16 slots (or the capacity's
 * next power of two when smaller) and doubles as needed, so a mailbox or subscriber queue that never
 * holds much never pays for a large array; indexes wrap with a mask instead of `%`, and `shift`
 * never moves elements (unlike `Array#shift`). Actor mailboxes and event subscriber queues share it.
 */
export class RingBuffer<T> {
  /** The most items it holds (`Infinity` when unbounded). */
  readonly capacity: number;
  #buf: Array<T | undefined>;
  #mask: number;
  #head = 0;
  #size = 0;

  constructor(capacity = Infinity) {
    if (!(capacity >= 1)) throw new RangeError(`ring buffer capacity must be at least 1, got ${capacity}`);
    this.capacity = capacity;
    const initial = capacity >= 16 ? 16 : nextPow2(capacity);
    this.#buf = new Array<T | undefined>(initial);
    this.#mask = initial - 1;
  }

  /** Items held. */
  get size(): number {
    return this.#size;
  }

  /** Adds at the tail; false (and nothing changes) when full. */
  push(item: T): boolean {
    const size = this.#size;
    if (size >= this.capacity) return false;
    if (size > this.#mask) this.#grow();
    this.#buf[(this.#head + size) & this.#mask] = item;
    this.#size = size + 1;
    return true;
  }

  /** Removes and returns the head; `undefined` when empty (check `size` when `undefined` is a valid item). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const head = this.#head;
    const item = this.#buf[head];
    this.#buf[head] = undefined; // let the item be collected once handled
    this.#head = (head + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /** The head without removing it; `undefined` when empty. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head];
  }

  /** Removes every item and shrinks back to the initial array. */
  clear(): void {
    const initial = this.capacity >= 16 ? 16 : nextPow2(this.capacity);
    this.#buf = new Array<T | undefined>(initial);
    this.#mask = initial - 1;
    this.#head = 0;
    this.#size = 0;
  }

  /** Removes and returns every item, oldest first. */
  takeAll(): T[] {
    const out: T[] = [];
    while (this.#size > 0) out.push(this.shift() as T);
    return out;
  }

  #grow(): void {
    const old = this.#buf;
    const length = old.length * 2;
    const buf = new Array<T | undefined>(length);
    for (let i = 0; i < this.#size; i++) buf[i] = old[(this.#head + i) & this.#mask];
    this.#buf = buf;
    this.#head = 0;
    this.#mask = length - 1;
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
