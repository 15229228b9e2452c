/**
 * Phi-accrual failure detection (Hayashibara et al.; the original system's `src/supervision` detector): instead
 * of a fixed timeout, each heartbeating subject gets a suspicion level φ that grows with the silence
 * since its last heartbeat, measured against the distribution of its own recent intervals.
 */

/** φ never exceeds this: beyond it the normal tail is below double precision anyway. */
export const PHI_CAP = 16;

export interface FailureDetectorOptions {
  /** φ at or above which a subject is declared failed (default 10). */
  readonly threshold?: number;
  /** How many recent intervals the distribution is estimated from (default 100). */
  readonly windowSize?: number;
  /** How often one shared timer evaluates every subject (default 1000 ms). */
  readonly checkIntervalMs?: number;
}

/**
 * 1 − Φ(y), the upper tail of the standard normal, computed directly (not as 1 − cdf) so that the
 * far tail keeps its precision. Abramowitz & Stegun 7.1.26 for erfc, max error 1.5e-7.
 */
function upperTail(y: number): number {
  const x = Math.abs(y) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return y >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * φ = −log10(1 − normalCDF((elapsed − mean) / sd)), capped at 16. With zero variance (perfectly
 * regular heartbeats) the normal model degenerates, so the original system's rule applies: φ is 10 once the
 * silence exceeds twice the mean interval, 0 before.
 */
export function phi(elapsedMs: number, meanMs: number, stdDevMs: number): number {
  if (!(stdDevMs > 0)) return elapsedMs > 2 * meanMs ? 10 : 0;
  const tail = upperTail((elapsedMs - meanMs) / stdDevMs);
  if (tail <= 0) return PHI_CAP;
  return Math.min(PHI_CAP, Math.max(0, -Math.log10(tail)));
}

/** The last `windowSize` inter-heartbeat intervals of one subject, with running sums for O(1) updates. */
class HeartbeatHistory {
  last: number;
  readonly intervals: number[] = [];
  next = 0;
  sum = 0;
  sumSq = 0;
  failed = false;

  constructor(now: number) {
    this.last = now;
  }

  record(now: number, windowSize: number): void {
    const interval = Math.max(0, now - this.last);
    this.last = now;
    this.failed = false;
    if (this.intervals.length < windowSize) {
      this.intervals.push(interval);
    } else {
      const old = this.intervals[this.next]!;
      this.sum -= old;
      this.sumSq -= old * old;
      this.intervals[this.next] = interval;
      this.next = (this.next + 1) % windowSize;
    }
    this.sum += interval;
    this.sumSq += interval * interval;
  }

  phi(now: number): number {
    const n = this.intervals.length;
    // One heartbeat says nothing about the rhythm yet: detection starts with the second.
    if (n === 0) return 0;
    const mean = this.sum / n;
    const variance = this.sumSq / n - mean * mean;
    // Running sums of integers are exact, so regular beats give exactly 0; the epsilon absorbs
    // the rounding of fractional timestamps.
    const sd = variance > 1e-9 * (mean * mean + 1) ? Math.sqrt(variance) : 0;
    return phi(now - this.last, mean, sd);
  }
}

/**
 * Watches any number of subjects with ONE timer (created when the first subject heartbeats, cleared
 * when the last is removed or on `stop`, unref'd so it never holds the process open). A subject is
 * reported once per healthy → failed transition; its next heartbeat makes it healthy again.
 */
export class FailureDetector<K> {
  readonly #threshold: number;
  readonly #windowSize: number;
  readonly #checkIntervalMs: number;
  readonly #onFailure: (subject: K, phi: number) => void;
  readonly #subjects = new Map<K, HeartbeatHistory>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(onFailure: (subject: K, phi: number) => void, options: FailureDetectorOptions = {}) {
    this.#onFailure = onFailure;
    this.#threshold = options.threshold ?? 10;
    this.#windowSize = Math.max(1, options.windowSize ?? 100);
    this.#checkIntervalMs = Math.max(1, options.checkIntervalMs ?? 1000);
  }

  /** Number of subjects being watched. */
  get size(): number {
    return this.#subjects.size;
  }

  /** Records a heartbeat of `subject` (starts watching it on its first). Ignored after `stop`. */
  heartbeat(subject: K, now: number = Date.now()): void {
    if (this.#stopped) return;
    const history = this.#subjects.get(subject);
    if (history === undefined) {
      this.#subjects.set(subject, new HeartbeatHistory(now));
      if (this.#timer === undefined) {
        this.#timer = setInterval(this.#check, this.#checkIntervalMs);
        this.#timer.unref();
      }
    } else {
      history.record(now, this.#windowSize);
    }
  }

  /** The current suspicion level of `subject` (0 when it is not watched). */
  phi(subject: K, now: number = Date.now()): number {
    return this.#subjects.get(subject)?.phi(now) ?? 0;
  }

  /** Stops watching `subject`. */
  remove(subject: K): void {
    if (this.#subjects.delete(subject) && this.#subjects.size === 0) this.#clearTimer();
  }

  /** Evaluates every subject now (the timer calls this). */
  check(now: number = Date.now()): void {
    for (const [subject, history] of this.#subjects) {
      if (history.failed) continue;
      const level = history.phi(now);
      if (level >= this.#threshold) {
        history.failed = true;
        this.#onFailure(subject, level);
      }
    }
  }

  /** Forgets every subject and clears the timer; later heartbeats are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#subjects.clear();
    this.#clearTimer();
  }

  readonly #check = (): void => this.check();

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
