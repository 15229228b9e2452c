/**
 * A bounded FIFO ring buffer. The backing array starts small and doubles up to the next power of two
 * above `capacity`, so an actor that never receives much never pays for a 1000-slot array; indexes
 * wrap with a mask instead of `%`, and `shift` never moves elements (unlike `Array#shift`).
 */
export class Mailbox<T> {
  /** The most items it holds. */
  readonly capacity: number;
  #buf: Array<T | undefined>;
  #mask: number;
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    const initial = Math.min(16, nextPow2(capacity));
    this.#buf = new Array<T | undefined>(initial);
    this.#mask = initial - 1;
  }

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

  /** Removes the head. Check `size` first: `undefined` is a valid message. */
  shift(): T {
    const head = this.#head;
    const item = this.#buf[head] as T;
    this.#buf[head] = undefined; // let the message be collected once handled
    this.#head = (head + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /** Removes and returns every item, oldest first. */
  takeAll(): T[] {
    const out: T[] = [];
    while (this.#size > 0) out.push(this.shift());
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
