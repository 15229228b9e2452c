/**
 * Public contract of the actors plugin. The actors helper owns this file and
 * may add to it; the names and shapes below are what other plugins (routing, tools, agents) use.
 */
import type { AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncBailHook } from 'tapable';
import type { BackoffOptions, Disposer } from '../../sdk/index.js';
import type { RestartType } from '../supervision/types.js';

export type Overflow = 'fail' | 'drop-newest' | 'drop-oldest';

export interface MailboxOptions {
  /** Default 1000. */
  readonly capacity?: number;
  /** Default 'fail'. */
  readonly overflow?: Overflow;
}

export interface AskOptions {
  /** Reject with ACTOR_ASK_TIMEOUT after this; default: the system's askTimeoutMs (0 = none). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** A handle to an actor; M is what it receives, R what `ask` resolves to. */
export interface ActorRef<M = unknown, R = unknown> {
  readonly id: string;
  readonly name: string | undefined;
  /** Fire and forget. Throws ActorError ACTOR_MAILBOX_FULL (overflow 'fail') or ACTOR_STOPPED. */
  tell(message: M): void;
  /** The reply is what `receive` returned. */
  ask(message: M, options?: AskOptions): Promise<R>;
  /** Stops the actor after the message being handled; resolves when it has stopped. */
  stop(): Promise<void>;
  /** Messages waiting in its mailbox. */
  readonly mailboxSize: number;
  readonly alive: boolean;
}

/**
 * Any actor's ref, whatever it receives and replies. Sound without `any`: `tell`/`ask` are methods
 * (bivariant in their parameter), so every `ActorRef<M, R>` is assignable to it, and nothing can be
 * sent through it without a cast (its message type is `never`).
 */
export type AnyActorRef = ActorRef<never, unknown>;

export interface ActorContext<S, M = unknown, R = unknown> {
  state: S;
  readonly self: ActorRef<M, R>;
  /** Aborted when the actor stops (and when an incarnation crashes). */
  readonly signal: AbortSignal;
  /** Restarts so far. */
  readonly restartCount: number;
}

export interface Behavior<M = unknown, R = unknown, S = undefined> {
  init?(ctx: Omit<ActorContext<S, M, R>, 'state'>): S | Promise<S>;
  receive(message: M, ctx: ActorContext<S, M, R>): R | Promise<R>;
  stopped?(ctx: ActorContext<S, M, R>): void | Promise<void>;
}

export interface SpawnOptions {
  readonly name?: string;
  readonly mailbox?: MailboxOptions;
  readonly supervision?: {
    /** Default: the plugin's `supervision.restart` ('permanent'). */
    readonly restart?: RestartType;
    readonly backoff?: Partial<BackoffOptions>;
  };
  /** The parent actor: this actor runs under the parent's supervisor and stops with it. */
  readonly parent?: AnyActorRef;
  /**
   * Reachable from other nodes by `name` (needs `name`) through the attached remote transport
   * (transport-nats). Exposed while the actor lives, across supervised restarts.
   */
  readonly expose?: boolean;
}

/** Options of a remote ref. */
export interface RemoteRefOptions {
  /** Default deadline of its asks (the transport's default when absent). */
  readonly timeoutMs?: number;
}

/**
 * What carries messages between nodes (transport-nats implements it). The actor system calls
 * `expose` for each exposed actor — those alive at attach time and each new one — and the returned
 * disposer when that actor stops for good (not on a supervised restart).
 */
export interface RemoteActorTransport {
  /** A ref to the actor called `name` on whichever node exposes it. */
  remote<M, R>(name: string, options?: RemoteRefOptions): ActorRef<M, R>;
  /** Starts serving `ref` (which has a name) to other nodes. */
  expose(ref: AnyActorRef): Disposer;
}

/** Why an actor terminated. */
export type TerminationReason = { readonly kind: 'stopped' } | { readonly kind: 'crashed'; readonly error: Error } | { readonly kind: 'killed' };

export type DeadLetterReason =
  | 'mailbox-full'
  | 'dropped-oldest'
  | 'dropped-newest'
  | 'stopped'
  | 'no-such-actor'
  | 'shutdown'
  /** A `beforeDeliver` tap (message middleware) threw for a told message. */
  | 'rejected';

export interface DeadLetter {
  /** The recipient's id. */
  readonly recipient: string;
  readonly message: unknown;
  readonly reason: DeadLetterReason;
  readonly time: number;
}

export interface DeadLetters {
  /** Listener errors are caught and logged; they never reach the sender. */
  subscribe(listener: (letter: DeadLetter) => void): () => void;
  readonly count: number;
}

export interface ActorStats {
  /** Live actors. */
  readonly actors: number;
  /** Messages handled so far (receive returned or threw). */
  readonly messages: number;
  /** Queue depth of every live actor, by actor id. */
  readonly mailboxDepths: Record<string, number>;
  readonly deadLetters: number;
  /** Messages waiting in all mailboxes. */
  readonly queued: number;
  /** Restarts so far, all actors. */
  readonly restarts: number;
  /** The deepest any mailbox has been. */
  readonly mailboxHighWater: number;
}

/** A message on its way to an actor, as the `beforeDeliver` and `route` hooks see it. */
export interface Envelope {
  readonly recipient: AnyActorRef;
  message: unknown;
  /** Whether the sender waits for a reply (`ask`); always set by the actor system. */
  readonly ask?: boolean;
}

/** A handled message, as `afterDeliver` sees it: the reply (assignable, to change it), or the error receive threw. */
export interface Delivery extends Envelope {
  reply: unknown;
  readonly error: Error | undefined;
}

export interface ActorHooks {
  /** Runs before a message is handled; may change the message or throw to reject it. */
  readonly beforeDeliver: AsyncSeriesWaterfallHook<[Envelope]>;
  /**
   * Runs after `receive` settled, before the next message of that actor; a throw rejects the ask
   * (the actor does not crash). Added to the contract so middleware can have an `afterProcess`.
   */
  readonly afterDeliver: AsyncSeriesHook<[Delivery]>;
  /** Picks another recipient for a message sent to a ref (routers tap it); undefined = unchanged. */
  readonly route: SyncBailHook<[Envelope], AnyActorRef | undefined>;
}

/** The `actors` service. */
export interface ActorSystem {
  spawn<M, R = unknown, S = undefined>(behavior: Behavior<M, R, S>, options?: SpawnOptions): ActorRef<M, R>;
  lookup<M = unknown, R = unknown>(name: string): ActorRef<M, R> | undefined;
  /** Calls back once when the actor terminates (at once, on a later tick, if it already has). */
  watch(ref: AnyActorRef, callback: (reason: TerminationReason) => void): () => void;
  readonly deadLetters: DeadLetters;
  stats(): ActorStats;
  readonly hooks: ActorHooks;
  /**
   * A ref to an actor spawned with `{ name, expose: true }` on another node. Its asks fail with
   * the same codes as local ones, plus `ACTOR_REMOTE_UNREACHABLE` (no node answers in time). Throws
   * `ACTOR_REMOTE_UNAVAILABLE` when no transport is attached.
   */
  remote<M = unknown, R = unknown>(name: string, options?: RemoteRefOptions): ActorRef<M, R>;
  /** Attaches the transport that `remote` and `expose` use (one at a time); the disposer detaches it. */
  attachTransport(transport: RemoteActorTransport): Disposer;
}

declare module '../../sdk/index.js' {
  interface Services {
    actors: ActorSystem;
  }
}
