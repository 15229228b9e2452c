/**
 * Wall-clock ISO time for event `time`. Date.now() and toISOString() are a large share of a
 * publish, so within a synchronous burst (before the bus's delivery microtask runs) the clock is
 * read every 64 publishes: events of one burst may share a timestamp, which at millisecond
 * resolution they mostly would.
 */
export class BurstClock {
  #ms = -1;
  #iso = '';
  #budget = 0;

  /** `inBurst`: more publishes of the same synchronous burst came before this one. */
  now(inBurst: boolean): string {
    if (inBurst && --this.#budget > 0) return this.#iso;
    this.#budget = 64;
    const ms = Date.now();
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#iso = new Date(ms).toISOString();
    }
    return this.#iso;
  }
}
