/**
 * What this process knows of runs without reading the log: one entry per run (live ones read their
 * state, finished ones keep a frozen summary), the parent → children links, and usage totals that
 * include every sub-run (budgets count a sub-run's usage toward each ancestor). Finished runs
 * beyond `retain` are forgotten oldest first; the journal still has them.
 */
import type { RunState } from './RunState.js';
import { addUsage } from './RunState.js';
import type { RunStatus, RunSummary, RunUsage } from './types.js';

interface Entry {
  readonly runId: string;
  readonly agent: string;
  readonly parentRunId: string | undefined;
  readonly children: string[];
  live: { readonly state: RunState; status(): RunStatus } | undefined;
  frozen: RunSummary | undefined;
}

export class RunIndex {
  readonly #entries = new Map<string, Entry>();
  readonly #retain: number;
  readonly #onEvict: (runId: string) => void;
  #finished = 0;

  constructor(retain: number, onEvict: (runId: string) => void) {
    this.#retain = retain;
    this.#onEvict = onEvict;
  }

  has(runId: string): boolean {
    return this.#entries.has(runId);
  }

  /** Adds or refreshes a live run. */
  track(live: { readonly state: RunState; status(): RunStatus }): void {
    const { state } = live;
    const existing = this.#entries.get(state.runId);
    if (existing !== undefined) {
      if (existing.frozen !== undefined) this.#finished--;
      existing.live = live;
      existing.frozen = undefined;
      return;
    }
    this.#add(state.runId, state.agent, state.started?.parentRunId).live = live;
  }

  /** A finished (or not resumed) run as a summary. */
  freeze(summary: RunSummary): void {
    const entry = this.#entries.get(summary.runId) ?? this.#add(summary.runId, summary.agent, summary.parentRunId);
    if (entry.frozen === undefined) this.#finished++;
    entry.live = undefined;
    entry.frozen = summary;
    this.#evict();
  }

  #add(runId: string, agent: string, parentRunId: string | undefined): Entry {
    const entry: Entry = { runId, agent, parentRunId, children: [], live: undefined, frozen: undefined };
    this.#entries.set(runId, entry);
    if (parentRunId !== undefined) this.#entries.get(parentRunId)?.children.push(runId);
    return entry;
  }

  #evict(): void {
    if (this.#finished <= this.#retain) return;
    for (const [runId, entry] of this.#entries) {
      if (this.#finished <= this.#retain) break;
      if (entry.frozen === undefined) continue;
      this.#entries.delete(runId);
      this.#finished--;
      this.#onEvict(runId);
    }
  }

  parentOf(runId: string): string | undefined {
    return this.#entries.get(runId)?.parentRunId;
  }

  agentOf(runId: string): string | undefined {
    return this.#entries.get(runId)?.agent;
  }

  children(runId: string): readonly string[] {
    return this.#entries.get(runId)?.children ?? [];
  }

  summary(runId: string): RunSummary | undefined {
    const entry = this.#entries.get(runId);
    if (entry === undefined) return undefined;
    if (entry.live !== undefined) return { ...entry.live.state.summary(), status: entry.live.status() };
    return entry.frozen;
  }

  ownUsage(runId: string): RunUsage | undefined {
    const entry = this.#entries.get(runId);
    return entry?.live?.state.usage ?? entry?.frozen?.usage;
  }

  /** The run's usage plus every descendant's. */
  totalUsage(runId: string): RunUsage | undefined {
    const own = this.ownUsage(runId);
    if (own === undefined) return undefined;
    let total = own;
    for (const child of this.children(runId)) {
      const usage = this.totalUsage(child);
      if (usage !== undefined) total = addUsage(total, usage);
    }
    return total;
  }

  list(filter: { readonly agent?: string; readonly status?: RunStatus } = {}): RunSummary[] {
    const out: RunSummary[] = [];
    for (const runId of this.#entries.keys()) {
      const s = this.summary(runId)!;
      if (filter.agent !== undefined && s.agent !== filter.agent) continue;
      if (filter.status !== undefined && s.status !== filter.status) continue;
      out.push(s);
    }
    return out;
  }

  /** Live runs (for health: deadlines). */
  *live(): Iterable<RunState> {
    for (const entry of this.#entries.values()) if (entry.live !== undefined) yield entry.live.state;
  }
}
