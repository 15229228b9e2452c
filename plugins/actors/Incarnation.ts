import { noop } from '../../sdk/util/index.js';
import type { ChildContext, ChildHandle } from '../supervision/types.js';
import type { ActorCell } from './ActorCell.js';
import { kStopIncarnation } from './internals.js';

/** The supervisor side of `ChildHandle.watch` (structural, so this file also builds against a contract without it). */
interface ExitWatcher {
  exited(value?: unknown): void;
  crashed(error: unknown): void;
}

const PENDING: unique symbol = Symbol('pending');
const NORMAL: unique symbol = Symbol('normal');

/**
 * The ChildHandle of one incarnation, as the supervisor sees it. It offers the supervisor's `watch`
 * fast path: the supervisor hands over a listener and the `exited` promise is only built if someone
 * reads it (while stopping). A promise per actor, its resolving functions and the supervisor's
 * reactions on it were most of an idle actor's memory.
 */
export class Incarnation implements ChildHandle {
  readonly cell: ActorCell;
  readonly child: ChildContext;
  #watcher: ExitWatcher | undefined = undefined;
  #result: typeof PENDING | typeof NORMAL | Error = PENDING;
  #deferred: { promise: Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void } | undefined = undefined;

  constructor(cell: ActorCell, child: ChildContext) {
    this.cell = cell;
    this.child = child;
  }

  get ended(): boolean {
    return this.#result !== PENDING;
  }

  get exited(): Promise<unknown> {
    if (this.#deferred === undefined) {
      const result = this.#result;
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#deferred = { promise, resolve, reject };
      if (result === NORMAL) resolve(undefined);
      else if (result !== PENDING) reject(result);
    }
    return this.#deferred.promise;
  }

  watch(watcher: ExitWatcher): void {
    const result = this.#result;
    if (result === PENDING) this.#watcher = watcher;
    else if (result === NORMAL) watcher.exited();
    else watcher.crashed(result);
  }

  stop(): Promise<void> {
    return this.cell[kStopIncarnation](this);
  }

  /** Settles once: the watcher hears it synchronously, a promise (if one was read) settles. */
  settle(error: Error | undefined): void {
    if (this.#result !== PENDING) return;
    this.#result = error ?? NORMAL;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    const deferred = this.#deferred;
    if (deferred !== undefined) {
      if (error === undefined) deferred.resolve(undefined);
      else deferred.reject(error);
    }
    if (watcher !== undefined) {
      if (error === undefined) watcher.exited();
      else watcher.crashed(error);
    }
  }

  /** Resolves when it ended, however it ended. */
  done(): Promise<void> {
    return this.exited.then(noop, noop);
  }
}
