/**
 * A run this process knows is unfinished (or just finished): its journal-rebuilt state, the
 * waiters of its result, its stream listeners, and where it is in its agent's slots.
 */
import type { ActorRef } from '../actors/types.js';
import type { ParsedAgentDefinition } from './options.js';
import type { RunState } from './RunState.js';
import type { RunResult, RunStreamChunk } from './types.js';

/** An agent as the service holds it: its definition and its run slots. */
export interface AgentEntry {
  readonly definition: ParsedAgentDefinition;
  /** Runs holding a slot (their loop is active). */
  running: number;
  /** Starts between their busy check and their first record. */
  starting: number;
  /** Runs waiting for a slot, first in first out. */
  readonly queue: RunHandle[];
  /** Validates a final reply when the agent has structured output. */
  readonly validate: ((reply: string) => { ok: true; value: unknown } | { ok: false; error: string }) | undefined;
}

export type RunMessage = { readonly kind: 'go' } | { readonly kind: 'crash'; readonly error: Error };

export class RunHandle {
  readonly runId: string;
  readonly entry: AgentEntry;
  readonly state: RunState;
  /** Where it is here: waiting for a slot, holding one, waiting for a decision, or done. */
  phase: 'idle' | 'queued' | 'active' | 'suspended' | 'done' = 'idle';
  readonly listeners = new Set<(chunk: RunStreamChunk) => void>();
  /** Aborts the active loop with a reason (cancel, timeout, budget). */
  controller: AbortController | undefined;
  /** The loop in flight (a restarted actor's loop starts only after the old one settled). */
  loop: Promise<unknown> = Promise.resolve();
  ref: ActorRef<RunMessage, void> | undefined;
  /** Write `agent.run.resumed` when the loop next starts (restart, crash, scheduler). */
  resumeReason: string | undefined;
  /** A cancel asked for while the run had no loop. */
  cancelRequested = false;
  readonly done: Promise<RunResult<unknown>>;
  #resolve!: (result: RunResult<unknown>) => void;
  #reject!: (error: Error) => void;
  settled = false;

  constructor(runId: string, entry: AgentEntry, state: RunState) {
    this.runId = runId;
    this.entry = entry;
    this.state = state;
    this.done = new Promise<RunResult<unknown>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may be waiting: an unobserved failure is not an unhandled rejection.
    this.done.catch(() => undefined);
  }

  resolve(result: RunResult<unknown>): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolve(result);
  }

  reject(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.#reject(error);
  }

  emit(chunk: RunStreamChunk): void {
    for (const listener of this.listeners) listener(chunk);
  }
}
