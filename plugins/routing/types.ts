/**
 * Public contract of the routing plugin: pool routers over actors, and message middleware. Built
 * only on the actors service's API and hooks.
 */
import type { Disposer } from '../../sdk/index.js';
import type { ActorRef, AnyActorRef, Behavior, MailboxOptions, SpawnOptions } from '../actors/types.js';

export type RoutingStrategy = 'round-robin' | 'least-loaded' | 'consistent-hash' | 'broadcast' | 'random';

export interface PoolOptions<M = unknown> {
  /** Default: the plugin's `defaultStrategy` ('round-robin'). */
  readonly strategy?: RoutingStrategy;
  /** Routees to spawn for a behaviour pool (default: the plugin's `defaultSize`, 4). Ignored for a pool of refs. */
  readonly size?: number;
  /** 'consistent-hash': the key of a message (default: the message itself if a string or number, else its JSON). */
  readonly key?: (message: M) => string | number;
  /** The router's actor name (`actors.lookup(name)` finds it; messages sent to that ref are routed). */
  readonly name?: string;
  /** Mailbox of each spawned routee. */
  readonly mailbox?: MailboxOptions;
  /** Supervision of each spawned routee. */
  readonly supervision?: SpawnOptions['supervision'];
}

/**
 * A router: an ActorRef whose messages go to its routees per the strategy. For 'broadcast', `tell`
 * goes to every routee and `ask` resolves to the array of every routee's reply (in routee order).
 */
export interface Router<M = unknown, R = unknown> extends ActorRef<M, R> {
  readonly strategy: RoutingStrategy;
  /** The current routees. */
  readonly routees: ReadonlyArray<ActorRef<M, R>>;
  /** Grows or shrinks a behaviour pool. Removed routees finish what they have queued, then stop. */
  resize(size: number): Promise<void>;
}

/** A message as middleware sees it before `receive`; assign `message` to change it, throw to reject it. */
export interface MessageContext {
  readonly recipient: AnyActorRef;
  message: unknown;
  /** Whether the sender waits for a reply (`ask`). */
  readonly ask?: boolean;
}

/** A message after `receive`: its reply (assign to change it), or the error `receive` threw. */
export interface ProcessedContext extends MessageContext {
  reply: unknown;
  readonly error: Error | undefined;
}

/**
 * Message middleware (the original system's AgentMiddleware). Hooks may be async. Every `beforeProcess` runs in registration order,
 * then `receive`, then every `afterProcess` in the same (not reversed) order. A throw in
 * `beforeProcess` rejects the message (the ask fails with it; a told message becomes a dead letter
 * with reason 'rejected'); a throw in `afterProcess` fails the ask. Neither crashes the actor.
 */
export interface Middleware {
  readonly name?: string;
  /** Assign `ctx.message` to change the message; throw to reject it. The return value is ignored. */
  beforeProcess?(ctx: MessageContext): unknown;
  /** Assign `ctx.reply` to change the reply; throw to fail the ask. The return value is ignored. */
  afterProcess?(ctx: ProcessedContext): unknown;
}

/** The `routing` service. */
export interface RoutingService {
  /** A router over a behaviour (spawns `size` routees as children of the router) or over existing refs. */
  pool<M, R = unknown, S = undefined>(routees: Behavior<M, R, S> | ReadonlyArray<ActorRef<M, R>>, options?: PoolOptions<M>): Router<M, R>;
  /** Adds middleware for every actor's messages; returns a function that removes it. */
  use(middleware: Middleware): Disposer;
}

declare module '../../sdk/index.js' {
  interface Services {
    routing: RoutingService;
  }
}
