/**
 * Every error the supervision plugin throws or reports on purpose, with its stable code. Codes never
 * change once published; messages name the supervisor, the child and the offending value.
 */
import { SupervisionError } from '../../sdk/index.js';
import { messageOf } from '../../sdk/util/index.js';

export const SupervisionErrorCodes = Object.freeze({
  /** A supervisor spec that cannot work (empty id, unknown strategy, negative intensity…). */
  SUPERVISION_INVALID_SPEC: 'SUPERVISION_INVALID_SPEC',
  /** A child spec that cannot work (no `start`, unknown restart type, `'infinity'` shutdown for a worker…). */
  SUPERVISION_INVALID_CHILD_SPEC: 'SUPERVISION_INVALID_CHILD_SPEC',
  /** `startChild` (or a supervisor spec) with an id a child of that supervisor already has. */
  SUPERVISION_DUPLICATE_CHILD: 'SUPERVISION_DUPLICATE_CHILD',
  /** `supervision.start` with the id of a root tree that is still running. */
  SUPERVISION_DUPLICATE_SUPERVISOR: 'SUPERVISION_DUPLICATE_SUPERVISOR',
  /** `terminateChild`/`restartChild`/`deleteChild` with an id the supervisor does not know. */
  SUPERVISION_CHILD_NOT_FOUND: 'SUPERVISION_CHILD_NOT_FOUND',
  /** `deleteChild` on a child that is not terminated. */
  SUPERVISION_CHILD_RUNNING: 'SUPERVISION_CHILD_RUNNING',
  /** An operation on a supervisor that is stopping, stopped or failed (or on a stopped plugin). */
  SUPERVISION_NOT_RUNNING: 'SUPERVISION_NOT_RUNNING',
  /** A child's `start` threw or rejected; also a supervisor whose initial children could not start. */
  SUPERVISION_START_FAILED: 'SUPERVISION_START_FAILED',
  /** A child's `start` did not return a handle within its `startTimeoutMs`. */
  SUPERVISION_START_TIMEOUT: 'SUPERVISION_START_TIMEOUT',
  /** A child's `start` returned something that is not `{ exited: Promise, stop(): Promise }`. */
  SUPERVISION_INVALID_HANDLE: 'SUPERVISION_INVALID_HANDLE',
  /** More restarts than `intensity` within `periodMs`: the supervisor stopped and escalated. */
  SUPERVISION_INTENSITY_EXCEEDED: 'SUPERVISION_INTENSITY_EXCEEDED',
  /** The phi-accrual detector declared a heartbeating child silent (the abort reason it sees). */
  SUPERVISION_HEARTBEAT_TIMEOUT: 'SUPERVISION_HEARTBEAT_TIMEOUT',
  /** The supervisor stopped waiting for a child to stop (the abort reason the child sees). */
  SUPERVISION_CHILD_KILLED: 'SUPERVISION_CHILD_KILLED',
} as const);

export type SupervisionErrorCode = (typeof SupervisionErrorCodes)[keyof typeof SupervisionErrorCodes];

export function invalidSpec(what: string, context: Record<string, unknown> = {}): SupervisionError {
  return new SupervisionError(SupervisionErrorCodes.SUPERVISION_INVALID_SPEC, what, { context });
}

export function invalidChildSpec(what: string, context: Record<string, unknown> = {}): SupervisionError {
  return new SupervisionError(SupervisionErrorCodes.SUPERVISION_INVALID_CHILD_SPEC, what, { context });
}

export function duplicateChild(supervisor: string, child: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_DUPLICATE_CHILD,
    `supervisor '${supervisor}' already has a child '${child}'; pick another id, or terminate and delete the existing child first`,
    { context: { supervisor, child } },
  );
}

export function duplicateSupervisor(supervisor: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_DUPLICATE_SUPERVISOR,
    `a root supervision tree '${supervisor}' is already running; pick another id or stop it first`,
    { context: { supervisor } },
  );
}

export function childNotFound(supervisor: string, child: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_CHILD_NOT_FOUND,
    `supervisor '${supervisor}' has no child '${child}'; whichChildren() lists the ones it has`,
    { context: { supervisor, child } },
  );
}

export function childRunning(supervisor: string, child: string, state: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_CHILD_RUNNING,
    `child '${child}' of supervisor '${supervisor}' is ${state}; terminateChild('${child}') before deleting it`,
    { context: { supervisor, child, state } },
  );
}

export function notRunning(supervisor: string, state: string, operation: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_NOT_RUNNING,
    `cannot ${operation}: supervisor '${supervisor}' is ${state}; start a new tree instead`,
    { context: { supervisor, state, operation } },
  );
}

export function startFailed(supervisor: string, child: string, cause: unknown): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_START_FAILED,
    `child '${child}' of supervisor '${supervisor}' failed to start: ${messageOf(cause)}`,
    { cause, context: { supervisor, child } },
  );
}

export function supervisorStartFailed(supervisor: string, child: string, cause: unknown): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_START_FAILED,
    `supervisor '${supervisor}' could not start its initial child '${child}' (${messageOf(cause)}); the children it had started were stopped`,
    { cause, context: { supervisor, child } },
  );
}

export function startTimeout(supervisor: string, child: string, timeoutMs: number): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_START_TIMEOUT,
    `child '${child}' of supervisor '${supervisor}' did not start within ${timeoutMs} ms; make start() return sooner or raise startTimeoutMs`,
    { retryable: true, context: { supervisor, child, timeoutMs } },
  );
}

export function invalidHandle(supervisor: string, child: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_INVALID_HANDLE,
    `child '${child}' of supervisor '${supervisor}': start() must return (or resolve to) { exited: Promise, stop(): Promise<void> }`,
    { context: { supervisor, child } },
  );
}

export function intensityExceeded(supervisor: string, intensity: number, periodMs: number, child: string, cause: unknown): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_INTENSITY_EXCEEDED,
    `supervisor '${supervisor}' exceeded its restart intensity (more than ${intensity} restarts within ${periodMs} ms; last failure: child '${child}': ${messageOf(cause)}); it stopped all its children and escalates`,
    { cause, context: { supervisor, intensity, periodMs, child } },
  );
}

export function heartbeatTimeout(supervisor: string, child: string, phi: number): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_HEARTBEAT_TIMEOUT,
    `child '${child}' of supervisor '${supervisor}' stopped sending heartbeats (phi ${phi.toFixed(2)}); it is treated as crashed and restarted`,
    { context: { supervisor, child, phi } },
  );
}

export function childKilled(supervisor: string, child: string, why: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCodes.SUPERVISION_CHILD_KILLED,
    `child '${child}' of supervisor '${supervisor}' was killed: ${why}`,
    { context: { supervisor, child } },
  );
}
