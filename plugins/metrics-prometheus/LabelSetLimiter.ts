/**
 * Caps the distinct label sets of one metric. The first `max` sets pass; every later new set is
 * folded into one overflow series whose labels are all `other`, with a single warning per metric.
 */
import type { Labels } from '../../sdk/index.js';

/** The label value of the overflow series. */
export const OVERFLOW_LABEL_VALUE = 'other';

export class LabelSetLimiter {
  readonly #names: readonly string[];
  readonly #max: number;
  readonly #seen = new Set<string>();
  readonly #overflow: Labels;
  readonly #onFirstOverflow: () => void;
  #overflowed = false;

  constructor(labelNames: readonly string[], max: number, onFirstOverflow: () => void) {
    this.#names = labelNames;
    this.#max = max;
    this.#onFirstOverflow = onFirstOverflow;
    this.#overflow = Object.freeze(Object.fromEntries(labelNames.map((n) => [n, OVERFLOW_LABEL_VALUE])));
  }

  /** Distinct label sets admitted so far (the overflow series not counted). */
  get size(): number {
    return this.#seen.size;
  }

  /** `labels` when its set is known or there is room, else the overflow labels. */
  admit(labels: Labels): Labels {
    // Keyed by declared names in declared order, so key order in the object does not matter.
    let key = '';
    for (let i = 0; i < this.#names.length; i++) key += `${labels[this.#names[i]!]}\u0001`;
    if (this.#seen.has(key)) return labels;
    if (this.#seen.size < this.#max) {
      this.#seen.add(key);
      return labels;
    }
    if (!this.#overflowed) {
      this.#overflowed = true;
      this.#onFirstOverflow();
    }
    return this.#overflow;
  }
}
