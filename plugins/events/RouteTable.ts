/**
 * Which subscribers want each event type: a cached route per type, so patterns are matched once
 * per type and subscription change, not once per event. Also counts publishes per type, added to
 * the `events_published_total{type}` counter once per delivery turn instead of per event.
 */
import type { Counter } from '../../sdk/index.js';
import type { StoredEvent } from './types.js';

/** What a route needs of a subscriber. */
export interface Routable {
  readonly matcher: { wantsType(type: string): boolean };
  offer(event: StoredEvent): void;
}

interface Route<S> {
  readonly type: string;
  readonly labels: { readonly type: string };
  subscribers: S[];
  version: number;
  /** Publishes not yet added to the per-type counter. */
  pending: number;
}

/** Types are usually a small fixed set; a flood of distinct ones must not grow memory forever. */
const MAX_ROUTES = 10_000;

export class RouteTable<S extends Routable> {
  readonly #routes = new Map<string, Route<S>>();
  readonly #subscribers: readonly S[];
  readonly #published: Counter;
  #version = 0;
  #last: Route<S> | undefined;
  readonly #dirty: Route<S>[] = [];

  /** `subscribers` is the bus's live list; `invalidate()` after changing it. */
  constructor(subscribers: readonly S[], published: Counter) {
    this.#subscribers = subscribers;
    this.#published = published;
  }

  /** Whether `type` has a route: it was published before, so it is a valid type. */
  has(type: string): boolean {
    return this.#routes.has(type);
  }

  /** The subscribers that want `type`; counts one publish of it. */
  route(type: string): readonly S[] {
    let route = this.#last;
    if (route === undefined || route.type !== type) {
      route = this.#routes.get(type);
      if (route === undefined) route = this.#add(type);
      this.#last = route;
    }
    if (route.version !== this.#version) this.#refresh(route);
    if (route.pending++ === 0) this.#dirty.push(route);
    return route.subscribers;
  }

  /** The subscriber list changed: every route is rebuilt when next used. */
  invalidate(): void {
    this.#version++;
    this.#last = undefined;
  }

  /** Adds the publishes counted since the last call to the per-type counter. */
  flushCounts(): void {
    const dirty = this.#dirty;
    if (dirty.length === 0) return;
    for (let i = 0; i < dirty.length; i++) {
      const r = dirty[i]!;
      this.#published.inc(r.labels, r.pending);
      r.pending = 0;
    }
    dirty.length = 0;
  }

  #add(type: string): Route<S> {
    if (this.#routes.size >= MAX_ROUTES) {
      this.flushCounts();
      this.#routes.clear();
      this.#last = undefined;
    }
    const route: Route<S> = { type, labels: { type }, subscribers: [], version: -1, pending: 0 };
    this.#routes.set(type, route);
    return route;
  }

  #refresh(route: Route<S>): void {
    route.subscribers = this.#subscribers.filter((s) => {
      try {
        return s.matcher.wantsType(route.type);
      } catch {
        return false;
      }
    });
    route.version = this.#version;
  }
}
