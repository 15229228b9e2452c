import type { Logger } from '../../sdk/index.js';
import type { DeadLetter, DeadLetterReason, DeadLetters } from './types.js';

/** Every reason a message can become a dead letter, in a fixed order for the per-reason counts. */
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = Object.freeze([
  'mailbox-full',
  'dropped-oldest',
  'dropped-newest',
  'stopped',
  'no-such-actor',
  'shutdown',
  'rejected',
]);

/**
 * Where undeliverable messages go: counted always, handed to subscribers when there are any. The
 * letter object is only built when someone listens, so a flood of drops costs a counter increment.
 */
export class DeadLetterOffice implements DeadLetters {
  #count = 0;
  readonly #byReason = new Map<DeadLetterReason, number>(DEAD_LETTER_REASONS.map((r) => [r, 0]));
  readonly #listeners = new Set<(letter: DeadLetter) => void>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Dead letters so far. */
  get count(): number {
    return this.#count;
  }

  /** Dead letters so far for one reason. */
  countOf(reason: DeadLetterReason): number {
    return this.#byReason.get(reason) ?? 0;
  }

  subscribe(listener: (letter: DeadLetter) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Records one dead letter. */
  post(recipient: string, message: unknown, reason: DeadLetterReason): void {
    this.#count++;
    this.#byReason.set(reason, (this.#byReason.get(reason) ?? 0) + 1);
    if (this.#listeners.size === 0) return;
    const letter: DeadLetter = { recipient, message, reason, time: Date.now() };
    for (const listener of this.#listeners) {
      try {
        listener(letter);
      } catch (error) {
        // A listener is an observer: its failure must never reach the sender of the message.
        this.#logger.error({ err: error, recipient, reason }, 'a dead-letter listener threw');
      }
    }
  }
}
