/**
 * What a supervisor keeps per child, and per incarnation of it. Both are allocated for every actor
 * in the system, so they are deliberately small: plain fields of fixed shape (no optional
 * properties added later), no closures, no AbortController until someone reads `signal` or the
 * supervisor has to abort it. Internal: not exported from the plugin's index.
 */
import type { ChildContext, ChildHandle, ChildSpec, ChildState, ExitListener } from './types.js';

/** The supervisor side of an incarnation: its heartbeats and its end. */
export interface IncarnationOwner {
  beat(incarnation: Incarnation): void;
  childExited(incarnation: Incarnation, error: unknown, crashed: boolean): void;
}

/** Start of the clock for `upSince`, so that it fits a small integer instead of a boxed double. */
export const EPOCH = Date.now();

export class ChildRecord {
  readonly spec: ChildSpec;
  state: ChildState = 'starting';
  /** The running (or starting) incarnation; undefined while down or being stopped by the supervisor. */
  current: Incarnation | undefined = undefined;
  restartCount = 0;
  /** Backoff attempt: grows with each automatic restart, back to 0 after a long enough run. */
  attempt = 0;
  /** When the current incarnation came up, in ms since EPOCH. */
  upSince = 0;

  constructor(spec: ChildSpec) {
    this.spec = spec;
  }
}

/**
 * One start of a child: the `ctx` its `start` receives. A fresh one per start means a late
 * heartbeat or a late exit of an abandoned incarnation can be recognised (`rec.current !== this`)
 * and ignored, and each incarnation gets its own signal.
 */
export class Incarnation implements ChildContext, ExitListener {
  readonly rec: ChildRecord;
  handle: ChildHandle | undefined = undefined;
  #owner: IncarnationOwner;
  #controller: AbortController | undefined = undefined;

  constructor(rec: ChildRecord, owner: IncarnationOwner) {
    this.rec = rec;
    this.#owner = owner;
  }

  get id(): string {
    return this.rec.spec.id;
  }

  /** Read through the record rather than copied: one field less per child. */
  get restartCount(): number {
    return this.rec.restartCount;
  }

  exited(): void {
    this.#owner.childExited(this, undefined, false);
  }

  crashed(error: unknown): void {
    this.#owner.childExited(this, error, true);
  }

  /** Created on first read: most children never look at it. */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  heartbeat(): void {
    if (this.rec.current === this) this.#owner.beat(this);
  }

  /** Aborts this incarnation's signal (the child is being given up on). */
  abort(reason: Error): void {
    const controller = (this.#controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(reason);
  }
}
