/**
 * A consistent-hash ring: each member owns `virtualNodes` points, a key goes to the first point at
 * or after its hash. Adding or removing one member moves only about 1/n of the keys, which is why
 * 'consistent-hash' pools keep most keys on the same routee across a resize.
 */
export class HashRing<T> {
  readonly #virtualNodes: number;
  #points = new Uint32Array(0);
  #owners: T[] = [];

  constructor(virtualNodes: number) {
    this.#virtualNodes = virtualNodes;
  }

  /** Rebuilds the ring for `members`, each identified by `idOf(member)`. */
  build(members: readonly T[], idOf: (member: T) => string): void {
    const entries: Array<[number, T]> = [];
    for (const member of members) {
      const id = idOf(member);
      for (let v = 0; v < this.#virtualNodes; v++) entries.push([fnv1a(`${id}#${v}`), member]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.#points = Uint32Array.from(entries, (e) => e[0]);
    this.#owners = entries.map((e) => e[1]);
  }

  /** The member owning `key`; undefined when the ring is empty. */
  lookup(key: string | number): T | undefined {
    const points = this.#points;
    if (points.length === 0) return undefined;
    const h = fnv1a(typeof key === 'number' ? String(key) : key);
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners[lo === points.length ? 0 : lo];
  }
}

/** 32-bit FNV-1a with a final avalanche (murmur3 fmix) so that similar keys spread over the ring. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
