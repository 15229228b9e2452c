/**
 * The `actors` service users hold. It forwards the public API to the runtime it wraps and exposes
 * nothing else: no counters, no callbacks of the cells, no way to run or end an actor by hand.
 */
import type { Disposer } from '../../sdk/index.js';
import { ActorRuntime, type ActorRuntimeInit } from './ActorRuntime.js';
import type {
  ActorHooks,
  ActorRef,
  ActorStats,
  ActorSystem,
  AnyActorRef,
  Behavior,
  DeadLetters,
  RemoteActorTransport,
  RemoteRefOptions,
  SpawnOptions,
  TerminationReason,
} from './types.js';

/** What `new LocalActorSystem(init)` takes. */
export type LocalActorSystemInit = ActorRuntimeInit;

export class LocalActorSystem implements ActorSystem {
  readonly #runtime: ActorRuntime;
  readonly #deadLetters: DeadLetters;

  constructor(init: LocalActorSystemInit) {
    const runtime = (this.#runtime = new ActorRuntime(init));
    // A read-only view: the office's `post` is the runtime's, not the users'.
    const office = runtime.deadLetters;
    this.#deadLetters = Object.freeze({
      subscribe: (listener: Parameters<DeadLetters['subscribe']>[0]) => office.subscribe(listener),
      get count(): number {
        return office.count;
      },
    });
  }

  /** Message middleware and routing taps. */
  get hooks(): ActorHooks {
    return this.#runtime.hooks;
  }

  /** Messages that could not be delivered. */
  get deadLetters(): DeadLetters {
    return this.#deadLetters;
  }

  spawn<M, R = unknown, S = undefined>(behavior: Behavior<M, R, S>, options?: SpawnOptions): ActorRef<M, R> {
    return this.#runtime.spawn(behavior, options);
  }

  lookup<M = unknown, R = unknown>(name: string): ActorRef<M, R> | undefined {
    return this.#runtime.lookup<M, R>(name);
  }

  watch(ref: AnyActorRef, callback: (reason: TerminationReason) => void): () => void {
    return this.#runtime.watch(ref, callback);
  }

  stats(): ActorStats {
    return this.#runtime.stats();
  }

  remote<M = unknown, R = unknown>(name: string, options?: RemoteRefOptions): ActorRef<M, R> {
    return this.#runtime.remote<M, R>(name, options);
  }

  attachTransport(transport: RemoteActorTransport): Disposer {
    return this.#runtime.attachTransport(transport);
  }

  /** Starts the root actor supervisor (done lazily by the first spawn if that comes earlier). */
  start(): Promise<void> {
    return this.#runtime.start();
  }

  /**
   * Graceful stop of the whole system: no new actors; mailboxes drain for up to `shutdownDrainMs`
   * (or until `signal` aborts); then every actor terminates, what is left in mailboxes becomes dead
   * letters with reason 'shutdown', pending asks fail, and the supervisors are stopped.
   */
  shutdown(signal?: AbortSignal): Promise<void> {
    return this.#runtime.shutdown(signal);
  }
}
