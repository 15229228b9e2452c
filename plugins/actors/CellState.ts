/**
 * An actor's lifecycle, written down once: its statuses, the transitions between them, and how the
 * status and the two hot flags share one small integer per cell.
 *
 *   from \ to    STARTING  RUNNING  RESTARTING  STOPPING  STOPPED
 *   STARTING        -        init ok   crashed      stop()    terminated
 *   RUNNING         -          -       crashed      stop()    terminated
 *   RESTARTING      -      restarted   crashed      stop()    terminated
 *   STOPPING        -          -          -            -      terminated
 *   STOPPED         -          -          -            -          -
 *
 * STARTING: spawned, the first incarnation's `init` has not finished; messages queue.
 * RUNNING: an incarnation handles messages. RESTARTING: between incarnations (crashed, waiting for
 * the supervisor); the mailbox still takes messages, and a crash while restarting (an escalation
 * during an async `init`) stays there. STOPPING: `stop()` was called or the actor ended for good;
 * nothing new is accepted. STOPPED: terminated; every queued message went to dead letters.
 */

/** Lifecycle statuses, in order: `status >= STOPPING` means the actor accepts nothing new. */
export const STARTING = 0;
export const RUNNING = 1;
export const RESTARTING = 2;
export const STOPPING = 3;
export const STOPPED = 4;

export type CellStatus = typeof STARTING | typeof RUNNING | typeof RESTARTING | typeof STOPPING | typeof STOPPED;

export const STATUS_NAMES: readonly string[] = Object.freeze(['STARTING', 'RUNNING', 'RESTARTING', 'STOPPING', 'STOPPED']);

/** The table above: the statuses each status may move to. */
const TRANSITIONS: readonly (readonly CellStatus[])[] = Object.freeze([
  /* STARTING   */ Object.freeze([RUNNING, RESTARTING, STOPPING, STOPPED] as const),
  /* RUNNING    */ Object.freeze([RESTARTING, STOPPING, STOPPED] as const),
  /* RESTARTING */ Object.freeze([RUNNING, RESTARTING, STOPPING, STOPPED] as const),
  /* STOPPING   */ Object.freeze([STOPPED] as const),
  /* STOPPED    */ Object.freeze([] as const),
]);

/** Whether the table allows `from` → `to`. */
export function canTransition(from: CellStatus, to: CellStatus): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

// The status takes the low three bits of the packed state; the flags sit above it. One integer
// instead of three fields keeps an idle actor small, and lets the send path test "running, not
// scheduled, not in flight" with one compare.
export const STATUS_MASK = 7;
/** The cell is on the run queue. */
export const SCHEDULED = 8;
/** A `receive` (or its middleware) is in flight. */
export const IN_FLIGHT = 16;

/** The status of a packed state. */
export function statusOf(state: number): CellStatus {
  return (state & STATUS_MASK) as CellStatus;
}

/**
 * The packed state with its status moved to `to`, flags kept. Throws on a transition the table does
 * not allow: that is a bug in the actor runtime, and going on would break the lifecycle guarantees.
 */
export function transition(state: number, to: CellStatus, actor: string): number {
  const from = statusOf(state);
  if (!canTransition(from, to)) {
    throw new Error(`${actor}: illegal lifecycle transition ${STATUS_NAMES[from]} → ${STATUS_NAMES[to]} (a bug in the actors plugin)`);
  }
  return (state & ~STATUS_MASK) | to;
}
