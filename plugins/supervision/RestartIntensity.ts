/**
 * OTP's restart intensity: at most `intensity` restarts within any `periodMs`; the restart that
 * would make it `intensity + 1` is refused. Counted per supervisor (not per child), as in OTP, so
 * a storm spread over many children is still a storm.
 */
export class RestartIntensity {
  readonly intensity: number;
  readonly periodMs: number;
  /** Restart times, oldest first from `#head`; never holds more than `intensity + 1` live entries. */
  #times: number[] | undefined;
  #head = 0;

  constructor(intensity: number, periodMs: number) {
    this.intensity = intensity;
    this.periodMs = periodMs;
  }

  /**
   * Records a restart at `now`; returns false when it exceeds the intensity (the supervisor must
   * give up). With an infinite intensity nothing is recorded.
   */
  record(now: number): boolean {
    if (this.intensity === Infinity) return true;
    const times = (this.#times ??= []);
    this.#prune(now);
    times.push(now);
    if (times.length - this.#head > this.intensity) return false;
    // Once the window is full the oldest entry is always dead weight: keep the array bounded.
    if (this.#head > 64 && this.#head * 2 > times.length) {
      times.splice(0, this.#head);
      this.#head = 0;
    }
    return true;
  }

  /** Restarts counted in the window ending at `now`. */
  count(now: number): number {
    if (this.#times === undefined) return 0;
    this.#prune(now);
    return this.#times.length - this.#head;
  }

  #prune(now: number): void {
    const times = this.#times!;
    const horizon = now - this.periodMs;
    while (this.#head < times.length && times[this.#head]! <= horizon) this.#head++;
    if (this.#head === times.length && this.#head > 0) {
      times.length = 0;
      this.#head = 0;
    }
  }
}
