/**
 * The `routing` service: pool routers and message middleware, built on the actors service's public
 * API and hooks only (`route` for routers, `beforeDeliver`/`afterDeliver` for middleware). Taps are
 * added on first use, so a system with the routing plugin loaded but unused keeps the actors' fast path.
 */
import type { Disposer, Logger } from '../../sdk/index.js';
import type { ActorRef, ActorSystem, AnyActorRef, Behavior, Delivery, Envelope } from '../actors/types.js';
import { invalidPoolOptions } from './errors.js';
import { PoolRouter } from './PoolRouter.js';
import type { RoutingOptions } from './options.js';
import type { Middleware, PoolOptions, Router, RoutingService, RoutingStrategy } from './types.js';

const STRATEGIES = new Set<RoutingStrategy>(['round-robin', 'least-loaded', 'consistent-hash', 'broadcast', 'random']);

export class Routing implements RoutingService {
  readonly #actors: ActorSystem;
  readonly #options: RoutingOptions;
  readonly #logger: Logger;
  readonly #routers = new Map<string, PoolRouter<unknown, unknown>>();
  #middleware: readonly Middleware[] = [];
  #routeTapped = false;
  #deliverTapped = false;

  constructor(actors: ActorSystem, options: RoutingOptions, logger: Logger) {
    this.#actors = actors;
    this.#options = options;
    this.#logger = logger;
  }

  pool<M, R = unknown, S = undefined>(routees: Behavior<M, R, S> | ReadonlyArray<ActorRef<M, R>>, options: PoolOptions<M> = {}): Router<M, R> {
    const strategy = options.strategy ?? this.#options.defaultStrategy;
    if (!STRATEGIES.has(strategy)) throw invalidPoolOptions(`unknown strategy '${String(strategy)}' (use ${[...STRATEGIES].join(', ')})`);
    if (options.key !== undefined && typeof options.key !== 'function') throw invalidPoolOptions('key must be a function (message) => string | number');
    const isRefs = Array.isArray(routees);
    if (!isRefs && typeof (routees as Behavior<M, R, S>).receive !== 'function') throw invalidPoolOptions('give a behaviour with receive() or an array of actor refs');
    const size = options.size ?? this.#options.defaultSize;
    if (!Number.isInteger(size) || size < 0) throw invalidPoolOptions(`size must be an integer >= 0, got ${String(size)}`);
    this.#tapRoute();
    const router = new PoolRouter<M, R>({
      actors: this.#actors,
      strategy,
      behavior: isRefs ? undefined : (routees as unknown as Behavior<unknown, unknown, unknown>),
      refs: isRefs ? (routees as ReadonlyArray<ActorRef<M, unknown>>) : undefined,
      size,
      options,
      virtualNodes: this.#options.virtualNodes,
      onStopped: (r) => this.#routers.delete(r.id),
    });
    if (router.alive) this.#routers.set(router.id, router as PoolRouter<unknown, unknown>);
    this.#logger.debug({ router: router.id, strategy, routees: router.routees.length }, 'router created');
    return router;
  }

  use(middleware: Middleware): Disposer {
    if (middleware === null || typeof middleware !== 'object') throw new TypeError('middleware must be an object with beforeProcess and/or afterProcess');
    // Copy-on-write: a delivery in progress keeps iterating the list it started with.
    this.#middleware = [...this.#middleware, middleware];
    this.#tapDeliver();
    return async () => {
      this.#middleware = this.#middleware.filter((m) => m !== middleware);
    };
  }

  #tapRoute(): void {
    if (this.#routeTapped) return;
    this.#routeTapped = true;
    this.#actors.hooks.route.tap('routing', (envelope: Envelope): AnyActorRef | undefined => this.#routers.get(envelope.recipient.id));
  }

  #tapDeliver(): void {
    if (this.#deliverTapped) return;
    this.#deliverTapped = true;
    this.#actors.hooks.beforeDeliver.tapPromise('routing', async (envelope: Envelope) => {
      // A middleware changes the message by assigning ctx.message. Return values are ignored on
      // purpose: `(ctx) => log.push(ctx)` must observe, not replace the message with a number.
      for (const m of this.#middleware) if (m.beforeProcess !== undefined) await m.beforeProcess(envelope);
      return envelope;
    });
    // Same order as beforeProcess, not reversed.
    this.#actors.hooks.afterDeliver.tapPromise('routing', async (delivery: Delivery) => {
      for (const m of this.#middleware) if (m.afterProcess !== undefined) await m.afterProcess(delivery);
    });
  }
}
