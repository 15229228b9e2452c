/**
 * The original system's circuit breaker: `failureThreshold` consecutive failures open it; once
 * `resetMs` has passed, the next call moves it to half-open; half-open lets at most `halfOpenMax`
 * trial calls run at once; `successThreshold` trial successes close it; any trial failure reopens it.
 *
 * The closed-state fast path is two field reads and one write; the clock is read only when the
 * breaker is open or a failure is recorded.
 */
import type { CircuitBreakerView, CircuitState } from './types.js';
import { circuitOpenError } from './errors.js';

export interface CircuitBreakerSettings {
  readonly failureThreshold: number;
  readonly resetMs: number;
  readonly halfOpenMax: number;
  readonly successThreshold: number;
}

const CLOSED = 0;
const HALF_OPEN = 1;
const OPEN = 2;
const NAMES: readonly CircuitState[] = ['closed', 'half-open', 'open'];

export class CircuitBreaker implements CircuitBreakerView {
  readonly #policy: string;
  readonly #settings: CircuitBreakerSettings;
  readonly #onTransition: (from: CircuitState, to: CircuitState) => void;
  #state = CLOSED;
  #failures = 0;
  #openedAt = 0;
  #trials = 0;
  #successes = 0;
  /** Set by a timer at resetMs: a second clock for when `Date` is frozen but timers run (fake timers). */
  #resetDue = false;
  #resetTimer: NodeJS.Timeout | undefined;

  constructor(policy: string, settings: CircuitBreakerSettings, onTransition: (from: CircuitState, to: CircuitState) => void) {
    this.#policy = policy;
    this.#settings = settings;
    this.#onTransition = onTransition;
  }

  /** The current state; open → half-open happens on the next `admit`, not on a timer. */
  get state(): CircuitState {
    return NAMES[this.#state]!;
  }

  /** 0 closed, 1 half-open, 2 open: the value of the `circuit_breaker_state` gauge. */
  get stateCode(): number {
    return this.#state;
  }

  /** Consecutive failed executions counted while closed. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Milliseconds until an open breaker admits a trial; 0 unless open. */
  get retryAfterMs(): number {
    if (this.#state !== OPEN || this.#resetDue) return 0;
    return Math.max(0, this.#openedAt + this.#settings.resetMs - Date.now());
  }

  /**
   * Lets a call through or throws `RESILIENCE_CIRCUIT_OPEN`. Returns whether the call is a half-open
   * trial; pass that back to `success`, `failure` or `release`.
   */
  admit(): boolean {
    if (this.#state === CLOSED) return false;
    if (this.#state === OPEN) {
      const wait = this.#openedAt + this.#settings.resetMs - Date.now();
      if (wait > 0 && !this.#resetDue) throw circuitOpenError(this.#policy, 'open', wait);
      this.#clearResetTimer();
      this.#trials = 0;
      this.#successes = 0;
      this.#move(HALF_OPEN);
    }
    if (this.#trials >= this.#settings.halfOpenMax) throw circuitOpenError(this.#policy, 'half-open', undefined);
    this.#trials++;
    return true;
  }

  /** Records a successful execution (`trial` as returned by `admit`). */
  success(trial: boolean): void {
    if (this.#state === CLOSED) {
      this.#failures = 0;
      return;
    }
    // A result of a call admitted before the breaker last changed state says nothing about now.
    if (!trial || this.#state !== HALF_OPEN) return;
    this.#trials--;
    if (++this.#successes >= this.#settings.successThreshold) {
      this.#failures = 0;
      this.#move(CLOSED);
    }
  }

  /** Records a failed execution (`trial` as returned by `admit`). */
  failure(trial: boolean): void {
    if (this.#state === CLOSED) {
      if (++this.#failures >= this.#settings.failureThreshold) this.#open();
      return;
    }
    if (trial && this.#state === HALF_OPEN) {
      this.#trials--;
      this.#open();
    }
  }

  /** The call ended without an outcome worth counting (the caller cancelled it). */
  release(trial: boolean): void {
    if (trial && this.#state === HALF_OPEN) this.#trials--;
  }

  /** Forces the breaker closed and clears its counts (an operator's override). */
  reset(): void {
    this.#failures = 0;
    this.#trials = 0;
    this.#successes = 0;
    this.#clearResetTimer();
    if (this.#state !== CLOSED) this.#move(CLOSED);
  }

  /** Drops the reset timer (policy disposal). */
  dispose(): void {
    this.#clearResetTimer();
  }

  #open(): void {
    this.#openedAt = Date.now();
    this.#clearResetTimer();
    // One timer per opening, not per call; unref'd so that an open breaker never keeps a process alive.
    this.#resetTimer = setTimeout(this.#onResetDue, this.#settings.resetMs);
    this.#resetTimer.unref?.();
    this.#move(OPEN);
  }

  readonly #onResetDue = (): void => {
    this.#resetTimer = undefined;
    this.#resetDue = true;
  };

  #clearResetTimer(): void {
    if (this.#resetTimer !== undefined) clearTimeout(this.#resetTimer);
    this.#resetTimer = undefined;
    this.#resetDue = false;
  }

  #move(to: number): void {
    const from = this.#state;
    this.#state = to;
    this.#onTransition(NAMES[from]!, NAMES[to]!);
  }
}
