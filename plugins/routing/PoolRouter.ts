/**
 * One pool router. It is backed by a real actor (the "router actor": an id, an optional name for
 * `actors.lookup`, a lifecycle, and the parent of the routees it spawns) but messages never queue in
 * that actor: the router's own `tell`/`ask` pick a routee directly, and messages sent to the router
 * actor's ref are redirected here by the routing plugin's `route` tap.
 */
import type { ActorRef, ActorSystem, AskOptions, Behavior } from '../actors/types.js';
import { noRoutees, notResizable, routerStopped } from './errors.js';
import { HashRing } from './HashRing.js';
import type { PoolOptions, Router, RoutingStrategy } from './types.js';

/** The message a shrinking pool asks a removed routee, so that it answers only after its backlog. */
const DRAIN: unique symbol = Symbol('routing.drain');

type AnyBehavior = Behavior<unknown, unknown, unknown>;

function defaultKey(message: unknown): string | number {
  return typeof message === 'string' || typeof message === 'number' ? message : JSON.stringify(message) ?? String(message);
}

export interface PoolRouterInit<M> {
  readonly actors: ActorSystem;
  readonly strategy: RoutingStrategy;
  readonly behavior: AnyBehavior | undefined;
  readonly refs: ReadonlyArray<ActorRef<M, unknown>> | undefined;
  readonly size: number;
  readonly options: PoolOptions<M>;
  readonly virtualNodes: number;
  readonly onStopped: (router: PoolRouter<M, unknown>) => void;
}

export class PoolRouter<M = unknown, R = unknown> implements Router<M, R> {
  readonly strategy: RoutingStrategy;
  readonly #actors: ActorSystem;
  readonly #self: ActorRef<unknown, unknown>;
  readonly #behavior: AnyBehavior | undefined;
  readonly #options: PoolOptions<M>;
  readonly #key: (message: M) => string | number;
  readonly #ring: HashRing<ActorRef<M, R>> | undefined;
  #routees: Array<ActorRef<M, R>> = [];
  #next = 0;
  #stopped = false;

  constructor(init: PoolRouterInit<M>) {
    this.#actors = init.actors;
    this.strategy = init.strategy;
    this.#options = init.options;
    this.#key = init.options.key ?? (defaultKey as (message: M) => string | number);
    this.#ring = init.strategy === 'consistent-hash' ? new HashRing(init.virtualNodes) : undefined;
    this.#behavior = init.behavior === undefined ? undefined : wrap(init.behavior);
    // The router actor's own receive only runs if a message reaches its mailbox without the route
    // tap (e.g. the routing plugin was disposed): it still forwards, so nothing is lost.
    this.#self = init.actors.spawn<unknown, unknown>(
      { receive: (message) => this.ask(message as M) },
      init.options.name === undefined ? {} : { name: init.options.name },
    );
    init.actors.watch(this.#self, () => {
      this.#stopped = true;
      init.onStopped(this as PoolRouter<M, unknown>);
    });
    if (init.refs !== undefined) {
      for (const ref of init.refs) this.#adopt(ref as ActorRef<M, R>);
    } else {
      for (let i = 0; i < init.size; i++) this.#adopt(this.#spawnRoutee());
    }
    this.#rebuild();
  }

  get id(): string {
    return this.#self.id;
  }

  get name(): string | undefined {
    return this.#self.name;
  }

  get alive(): boolean {
    return this.#self.alive;
  }

  /** Messages waiting in all routees' mailboxes. */
  get mailboxSize(): number {
    let n = 0;
    for (const r of this.#routees) n += r.mailboxSize;
    return n;
  }

  get routees(): ReadonlyArray<ActorRef<M, R>> {
    return this.#routees;
  }

  tell(message: M): void {
    if (this.#stopped) throw routerStopped(this.id);
    if (this.strategy === 'broadcast') {
      const routees = this.#live();
      for (const r of routees) r.tell(message);
      return;
    }
    this.#pick(message).tell(message);
  }

  ask(message: M, options?: AskOptions): Promise<R> {
    if (this.#stopped) return Promise.reject(routerStopped(this.id));
    try {
      if (this.strategy === 'broadcast') {
        return Promise.all(this.#live().map((r) => r.ask(message, options))) as Promise<unknown> as Promise<R>;
      }
      return this.#pick(message).ask(message, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Stops the router; routees it spawned stop with it (they are its children), given refs do not. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#self.stop();
  }

  async resize(size: number): Promise<void> {
    if (this.#behavior === undefined) throw notResizable(this.id);
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`router ${this.id}: size must be an integer >= 0, got ${size}`);
    if (this.#stopped) throw routerStopped(this.id);
    while (this.#routees.length < size) this.#adopt(this.#spawnRoutee());
    const removed = this.#routees.length > size ? this.#routees.splice(size) : [];
    this.#rebuild();
    // Removed routees take no new messages; they answer DRAIN after their backlog, then stop.
    await Promise.all(
      removed.map(async (r) => {
        await r.ask(DRAIN as never).catch(() => undefined);
        await r.stop();
      }),
    );
  }

  #spawnRoutee(): ActorRef<M, R> {
    const o = this.#options;
    return this.#actors.spawn(this.#behavior!, {
      parent: this.#self,
      ...(o.mailbox === undefined ? {} : { mailbox: o.mailbox }),
      ...(o.supervision === undefined ? {} : { supervision: o.supervision }),
    }) as ActorRef<M, R>;
  }

  #adopt(ref: ActorRef<M, R>): void {
    this.#routees.push(ref);
    // A routee that terminates for good leaves the pool (a crash that is restarted does not).
    this.#actors.watch(ref, () => {
      const i = this.#routees.indexOf(ref);
      if (i < 0) return;
      this.#routees.splice(i, 1);
      this.#rebuild();
    });
  }

  #rebuild(): void {
    this.#ring?.build(this.#routees, (r) => r.id);
  }

  #live(): Array<ActorRef<M, R>> {
    if (this.#routees.length === 0) throw noRoutees(this.id);
    return this.#routees;
  }

  #pick(message: M): ActorRef<M, R> {
    const routees = this.#live();
    const n = routees.length;
    switch (this.strategy) {
      case 'round-robin': {
        const i = this.#next++ % n;
        if (this.#next >= n) this.#next = 0;
        return routees[i]!;
      }
      case 'random':
        return routees[Math.floor(Math.random() * n)]!;
      case 'least-loaded': {
        // Scan from a rotating start so that ties (e.g. all idle) spread round-robin, not to routee 0.
        const start = this.#next++ % n;
        if (this.#next >= n) this.#next = 0;
        let best = routees[start]!;
        let load = best.mailboxSize;
        for (let k = 1; k < n && load > 0; k++) {
          const r = routees[(start + k) % n]!;
          const l = r.mailboxSize;
          if (l < load) {
            best = r;
            load = l;
          }
        }
        return best;
      }
      case 'consistent-hash':
        return this.#ring!.lookup(this.#key(message)) ?? routees[0]!;
      default:
        return routees[0]!;
    }
  }
}

/** The routee behaviour: the user's, plus the DRAIN marker a shrinking pool sends. */
function wrap(behavior: AnyBehavior): AnyBehavior {
  const wrapped: AnyBehavior = {
    receive: (message, ctx) => (message === DRAIN ? undefined : behavior.receive(message, ctx)),
  };
  if (behavior.init !== undefined) wrapped.init = (ctx) => behavior.init!(ctx);
  if (behavior.stopped !== undefined) wrapped.stopped = (ctx) => behavior.stopped!(ctx);
  return wrapped;
}
