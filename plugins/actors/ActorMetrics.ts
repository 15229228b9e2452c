/**
 * The actors plugin's metrics. Cells bump plain counters on the runtime on every message; this
 * publishes what they gained since the last flush — a few calls per run of the queue, not per
 * message — and reads the gauges at scrape time.
 */
import type { Counter, Gauge, Metrics } from '../../sdk/index.js';
import { DEAD_LETTER_REASONS, type DeadLetterOffice } from './DeadLetterOffice.js';
import type { DeadLetterReason } from './types.js';

/** The hot counters the metrics are read from. */
export interface ActorCounts {
  readonly sent: number;
  readonly processed: number;
  readonly queued: number;
  readonly highWater: number;
  /** Live actors. */
  readonly actors: number;
}

export class ActorMetrics {
  readonly #counts: ActorCounts;
  readonly #deadLetters: DeadLetterOffice;
  /** Whether the run queue will flush anyway when it goes idle. */
  readonly #running: () => boolean;
  readonly #sent: Counter;
  readonly #processed: Counter;
  readonly #deadLetterCounter: Counter;
  readonly #failures: Counter;
  readonly #restarts: Counter;
  readonly #gauges: { readonly queue: Gauge; readonly highWater: Gauge; readonly active: Gauge };
  readonly #flushed = { sent: 0, processed: 0, deadLetters: 0, byReason: new Map<DeadLetterReason, number>() };
  #flushScheduled = false;

  constructor(metrics: Metrics, counts: ActorCounts, deadLetters: DeadLetterOffice, running: () => boolean) {
    this.#counts = counts;
    this.#deadLetters = deadLetters;
    this.#running = running;
    const collect = (): void => this.#collect();
    this.#gauges = {
      queue: metrics.gauge({ name: 'message_queue_depth', help: 'Messages waiting in all actor mailboxes', collect }),
      highWater: metrics.gauge({ name: 'actor_mailbox_high_water', help: 'The deepest any actor mailbox has been', collect }),
      active: metrics.gauge({ name: 'actors_active', help: 'Live actors', collect }),
    };
    this.#sent = metrics.counter({ name: 'messages_sent_total', help: 'Messages accepted into actor mailboxes' });
    this.#processed = metrics.counter({ name: 'messages_processed_total', help: 'Messages handled by actors' });
    this.#deadLetterCounter = metrics.counter({ name: 'actor_dead_letters_total', help: 'Messages that could not be delivered, by reason', labelNames: ['reason'] });
    this.#failures = metrics.counter({ name: 'message_delivery_failures_total', help: 'Messages refused or dropped at send time, by reason', labelNames: ['failure_reason'] });
    this.#restarts = metrics.counter({ name: 'actor_restarts_total', help: 'Actor restarts by their supervisors' });
  }

  /** One actor restart. */
  restarted(): void {
    this.#restarts.inc();
  }

  /** Flushes on a later microtask, unless the run queue will flush anyway. */
  scheduleFlush(): void {
    if (this.#flushScheduled || this.#running()) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  /** Publishes what the hot counters gained since the last flush. */
  flush(): void {
    const counts = this.#counts;
    const flushed = this.#flushed;
    if (counts.sent !== flushed.sent) {
      this.#sent.inc(counts.sent - flushed.sent);
      flushed.sent = counts.sent;
    }
    if (counts.processed !== flushed.processed) {
      this.#processed.inc(counts.processed - flushed.processed);
      flushed.processed = counts.processed;
    }
    const office = this.#deadLetters;
    if (office.count !== flushed.deadLetters) {
      flushed.deadLetters = office.count;
      for (const reason of DEAD_LETTER_REASONS) {
        const now = office.countOf(reason);
        const delta = now - (flushed.byReason.get(reason) ?? 0);
        if (delta === 0) continue;
        flushed.byReason.set(reason, now);
        this.#deadLetterCounter.inc({ reason }, delta);
        if (reason !== 'shutdown') this.#failures.inc({ failure_reason: reason }, delta);
      }
    }
  }

  #collect(): void {
    this.flush();
    const counts = this.#counts;
    this.#gauges.queue.set(counts.queued);
    this.#gauges.highWater.set(counts.highWater);
    this.#gauges.active.set(counts.actors);
  }
}
