/**
 * Every error the actors plugin throws on purpose, with its stable code. Messages name the actor
 * and the limit, so that a log line alone tells what to change.
 */
import { ActorError } from '../../sdk/index.js';

export const ActorErrorCodes = Object.freeze({
  /** `tell`/`ask` on a full mailbox whose overflow policy is 'fail'. Retryable: the queue drains. */
  MAILBOX_FULL: 'ACTOR_MAILBOX_FULL',
  /** An ask got no reply within its `timeoutMs`. */
  ASK_TIMEOUT: 'ACTOR_ASK_TIMEOUT',
  /** The actor is stopping or has stopped (or crashed for good); also the error of a pending ask when that happens. */
  STOPPED: 'ACTOR_STOPPED',
  /** `spawn` with a name a live actor already has. */
  NAME_TAKEN: 'ACTOR_NAME_TAKEN',
  /** A ref or name that is not an actor of this system (e.g. a `parent` that is not alive). */
  NOT_FOUND: 'ACTOR_NOT_FOUND',
  /** `spawn` or `ask` after the actor system began shutting down. */
  SYSTEM_STOPPED: 'ACTOR_SYSTEM_STOPPED',
  /** Spawn options that cannot work (capacity < 1, unknown overflow policy). */
  INVALID_OPTIONS: 'ACTOR_INVALID_OPTIONS',
  /** The actor's supervisor gave up (restart intensity exceeded) or was stopped under it. */
  SUPERVISOR_GONE: 'ACTOR_SUPERVISOR_GONE',
  /**
   * The crash reason of a parent actor whose children's supervisor gave up (restart intensity
   * exceeded): the failure escalates to the parent, which its own supervisor restarts.
   */
  CHILDREN_FAILED: 'ACTOR_CHILDREN_FAILED',
  /** A remote ask got no answer: no node exposes that name, or none answered before the deadline. */
  REMOTE_UNREACHABLE: 'ACTOR_REMOTE_UNREACHABLE',
  /** `actors.remote` with no remote transport attached (load transport-nats). */
  REMOTE_UNAVAILABLE: 'ACTOR_REMOTE_UNAVAILABLE',
} as const);

export type ActorErrorCode = (typeof ActorErrorCodes)[keyof typeof ActorErrorCodes];

function label(id: string, name: string | undefined): string {
  return name === undefined ? `actor ${id}` : `actor '${name}' (${id})`;
}

export function mailboxFull(id: string, name: string | undefined, capacity: number): ActorError {
  return new ActorError(ActorErrorCodes.MAILBOX_FULL, `${label(id, name)}: mailbox full (capacity ${capacity}); slow down the sender or raise mailbox.capacity`, {
    retryable: true,
    context: { actor: id, name, capacity },
  });
}

export function askTimeout(id: string, name: string | undefined, timeoutMs: number): ActorError {
  return new ActorError(ActorErrorCodes.ASK_TIMEOUT, `${label(id, name)}: no reply within ${timeoutMs} ms`, {
    retryable: true,
    context: { actor: id, name, timeoutMs },
  });
}

export function actorStopped(id: string, name: string | undefined, why = 'has stopped'): ActorError {
  return new ActorError(ActorErrorCodes.STOPPED, `${label(id, name)} ${why}`, { context: { actor: id, name } });
}

export function nameTaken(name: string, holder: string): ActorError {
  return new ActorError(ActorErrorCodes.NAME_TAKEN, `actor name '${name}' is taken by live actor ${holder}; pick another name or stop that actor first`, {
    context: { name, holder },
  });
}

export function actorNotFound(what: string): ActorError {
  return new ActorError(ActorErrorCodes.NOT_FOUND, `${what} is not a live actor of this system`, { context: { actor: what } });
}

export function systemStopped(action: string): ActorError {
  return new ActorError(ActorErrorCodes.SYSTEM_STOPPED, `cannot ${action}: the actor system is shutting down`);
}

export function invalidOptions(problem: string): ActorError {
  return new ActorError(ActorErrorCodes.INVALID_OPTIONS, `invalid spawn options: ${problem}`, { context: { problem } });
}

export function supervisorGone(id: string, name: string | undefined, supervisor: string): ActorError {
  return new ActorError(ActorErrorCodes.SUPERVISOR_GONE, `${label(id, name)}: supervisor '${supervisor}' stopped (restart intensity exceeded or shut down); the actor is terminated`, {
    severity: 'high',
    context: { actor: id, name, supervisor },
  });
}

export function childrenFailed(id: string, name: string | undefined, supervisor: string, children: number): ActorError {
  return new ActorError(
    ActorErrorCodes.CHILDREN_FAILED,
    `${label(id, name)} crashed: the supervisor of its children '${supervisor}' exceeded its restart intensity and terminated ${children} child actor(s); fix the crashing child or raise supervision.intensity`,
    { context: { actor: id, name, supervisor, children } },
  );
}

export function remoteUnreachable(name: string, why: string, timeoutMs?: number): ActorError {
  return new ActorError(ActorErrorCodes.REMOTE_UNREACHABLE, `remote actor '${name}': ${why}; is a node exposing it running (spawn with { name, expose: true })?`, {
    retryable: true,
    context: { name, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
  });
}

export function remoteUnavailable(name: string): ActorError {
  return new ActorError(ActorErrorCodes.REMOTE_UNAVAILABLE, `cannot reach remote actor '${name}': no remote transport is attached; load the transport-nats plugin`, {
    context: { name },
  });
}

export function transportTaken(): ActorError {
  return new ActorError(ActorErrorCodes.INVALID_OPTIONS, 'a remote transport is already attached; detach it first');
}
