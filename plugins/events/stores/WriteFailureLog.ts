/**
 * Logging of failed writes without flooding: the first failure logs at once; later ones within
 * `intervalMs` are counted and the next line (a failure after the interval, or the first success)
 * carries the count. A full disk under steady publishing is one line per interval, not one per
 * publish.
 */
import type { BusLogger } from '../SubscriberHost.js';

export class WriteFailureLog {
  readonly #logger: BusLogger;
  readonly #intervalMs: number;
  #lastLoggedAt = -Infinity;
  /** Failures since the last line. */
  #unreported = 0;
  /** Failures since the last success. */
  #failing = 0;

  constructor(logger: BusLogger, intervalMs: number) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** One failed write that rejected `events` events. */
  failed(error: unknown, context: Record<string, unknown>, events: number): void {
    this.#failing++;
    this.#unreported++;
    const now = Date.now();
    if (now - this.#lastLoggedAt < this.#intervalMs) return;
    const count = this.#unreported;
    this.#lastLoggedAt = now;
    this.#unreported = 0;
    this.#logger.error(
      { err: error, ...context, failures: count, failingSince: this.#failing },
      count === 1
        ? `event store write failed; ${events} pending event(s) rejected`
        : `event store write failed ${count} times in the last ${Math.round((this.#intervalMs / 1000) * 10) / 10} s; ${events} pending event(s) rejected by the latest`,
    );
  }

  /** A write succeeded: ends a failing streak with one line saying how long it was. */
  succeeded(): void {
    if (this.#failing === 0) return;
    this.#logger.info({ failures: this.#failing }, `event store writes succeed again after ${this.#failing} failed write(s)`);
    this.#failing = 0;
    this.#unreported = 0;
    this.#lastLoggedAt = -Infinity;
  }
}
