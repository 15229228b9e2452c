import type { ActorCell } from './ActorCell.js';
import type { ActorHooks, AnyActorRef, DeadLetterReason, TerminationReason } from './types.js';

/**
 * What a cell needs from its actor system. The counters are plain numbers on purpose: cells bump
 * them on every message, and the system publishes them to metrics in batches.
 */
export interface CellHost {
  readonly hooks: ActorHooks;
  /** Default ask timeout (0 = none). */
  readonly askTimeoutMs: number;
  /** Messages one actor handles per turn before the next ready actor. */
  readonly throughput: number;
  sent: number;
  processed: number;
  queued: number;
  inFlight: number;
  highWater: number;
  /** Puts a cell with work on the run queue. */
  schedule(cell: ActorCell): void;
  /** The `route` hook's pick for a message to `cell`, if another ref. */
  route(cell: ActorCell, message: unknown, ask: boolean): AnyActorRef | undefined;
  deadLetter(cell: ActorCell, message: unknown, reason: DeadLetterReason): void;
  crashed(cell: ActorCell, error: Error): void;
  restarted(cell: ActorCell, restartCount: number): void;
  hookFailed(cell: ActorCell, error: unknown): void;
  /** `ref.stop()`: the stop goes through the supervisor so a permanent actor is not restarted. */
  stopCell(cell: ActorCell): Promise<void>;
  /** A cell that ended for good on its own (a crashed 'temporary' actor): drop its child spec. */
  forget(cell: ActorCell): void;
  terminated(cell: ActorCell, reason: TerminationReason): void;
  notify(watcher: (reason: TerminationReason) => void, reason: TerminationReason): void;
  /** Called when a cell goes idle: resolves a pending shutdown drain once everything is idle. */
  checkDrained(): void;
}
