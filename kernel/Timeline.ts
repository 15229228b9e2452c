import type { Phase, PhaseRecord } from '../sdk/index.js';

export type { Phase, PhaseRecord };

/** Boot and shutdown as data, in the order things happened. */
export class Timeline {
  readonly #records: PhaseRecord[] = [];

  add(record: PhaseRecord): void {
    this.#records.push(Object.freeze(record));
  }

  records(): readonly PhaseRecord[] {
    return [...this.#records];
  }

  /** `{ plugin: { setup: ms, start: ms } }` for the given phases, rounded for a log line. */
  summary(...phases: Phase[]): Record<string, Record<string, number | string>> {
    const out: Record<string, Record<string, number | string>> = {};
    for (const r of this.#records) {
      if (!phases.includes(r.phase)) continue;
      const entry = (out[r.plugin] ??= {});
      entry[r.phase] = Math.round(r.durationMs * 1000) / 1000;
      if (r.error !== undefined) entry[`${r.phase}Error`] = r.error;
    }
    return out;
  }
}
