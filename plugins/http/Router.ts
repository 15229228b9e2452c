/**
 * A path trie with `:param` and trailing `*` segments. Static segments win over params, params over
 * the wildcard, with backtracking, so `/a/b` and `/a/:id` coexist and `/a/b` hits the first.
 */
import { HTTP_ERROR_CODES, HttpRouteError } from './errors.js';
import type { HttpMethod, RouteHandler } from './types.js';

/** The methods `route()` accepts. */
export const HTTP_METHODS: readonly HttpMethod[] = Object.freeze(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** One registered route. */
export interface Route {
  readonly method: HttpMethod;
  /** The pattern as registered (`/agents/:id`); also the `route` label of metrics. */
  readonly pattern: string;
  readonly handler: RouteHandler;
  readonly auth: boolean;
  /** Names of the `:param` segments in order; `*` last for a wildcard. */
  readonly paramNames: readonly string[];
}

/** What `match` finds: a route with its raw (still encoded) param values, or the methods the path allows. */
export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly values: readonly string[] }
  | { readonly kind: 'method-not-allowed'; readonly allow: string }
  | { readonly kind: 'not-found' };

class Node {
  readonly children = new Map<string, Node>();
  param: Node | undefined;
  wildcard: Node | undefined;
  readonly routes = new Map<string, Route>();
  /** `Allow` header value, rebuilt when routes change rather than per 405. */
  allow = '';
}

const NOT_FOUND: RouteMatch = Object.freeze({ kind: 'not-found' });
const PARAM_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function splitPath(path: string): string[] {
  // A trailing slash is not significant: `/a/` and `/a` are one route.
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed === '/' ? [] : trimmed.slice(1).split('/');
}

/** Routes requests by method and path. */
export class Router {
  readonly #root = new Node();
  #size = 0;

  /** Number of routes registered. */
  get size(): number {
    return this.#size;
  }

  /** Adds a route; returns a function that removes it (idempotent). */
  add(method: HttpMethod, pattern: string, handler: RouteHandler, auth: boolean): () => void {
    // Methods are case-insensitive for callers (`route('get', …)` from plain JavaScript).
    if (typeof method === 'string') method = method.toUpperCase() as HttpMethod;
    if (!HTTP_METHODS.includes(method)) {
      throw new HttpRouteError(HTTP_ERROR_CODES.HTTP_INVALID_ROUTE, `unknown HTTP method '${String(method)}'; use one of ${HTTP_METHODS.join(', ')}`);
    }
    if (typeof pattern !== 'string' || !pattern.startsWith('/')) {
      throw new HttpRouteError(HTTP_ERROR_CODES.HTTP_INVALID_ROUTE, `route path '${String(pattern)}' must start with '/'`);
    }
    if (typeof handler !== 'function') {
      throw new HttpRouteError(HTTP_ERROR_CODES.HTTP_INVALID_ROUTE, `route ${method} ${pattern} needs a handler function`);
    }
    const segments = splitPath(pattern);
    const paramNames: string[] = [];
    let node = this.#root;
    segments.forEach((segment, i) => {
      if (segment === '*') {
        if (i !== segments.length - 1) {
          throw new HttpRouteError(HTTP_ERROR_CODES.HTTP_INVALID_ROUTE, `route path '${pattern}': '*' may only be the last segment`);
        }
        paramNames.push('*');
        node = node.wildcard ??= new Node();
      } else if (segment.startsWith(':')) {
        const name = segment.slice(1);
        if (!PARAM_RE.test(name) || paramNames.includes(name)) {
          throw new HttpRouteError(HTTP_ERROR_CODES.HTTP_INVALID_ROUTE, `route path '${pattern}': parameter '${segment}' is not a valid, unique name`);
        }
        paramNames.push(name);
        node = node.param ??= new Node();
      } else {
        let child = node.children.get(segment);
        if (child === undefined) node.children.set(segment, (child = new Node()));
        node = child;
      }
    });
    const existing = node.routes.get(method);
    if (existing !== undefined) {
      throw new HttpRouteError(
        HTTP_ERROR_CODES.HTTP_ROUTE_CONFLICT,
        `route ${method} ${pattern} conflicts with ${method} ${existing.pattern}, already registered; remove it first or pick another path`,
      );
    }
    const route: Route = Object.freeze({ method, pattern, handler, auth, paramNames: Object.freeze(paramNames) });
    const target = node;
    target.routes.set(method, route);
    this.#size++;
    Router.#refreshAllow(target);
    return () => {
      if (target.routes.get(method) !== route) return;
      target.routes.delete(method);
      this.#size--;
      Router.#refreshAllow(target);
    };
  }

  /** Finds the route for `method` and `path` (without query string). HEAD falls back to GET. */
  match(method: string, path: string): RouteMatch {
    const segments = splitPath(path);
    const values: string[] = [];
    const node = Router.#find(this.#root, segments, 0, values);
    if (node === undefined || node.routes.size === 0) return NOT_FOUND;
    const route = node.routes.get(method) ?? (method === 'HEAD' ? node.routes.get('GET') : undefined);
    if (route === undefined) return { kind: 'method-not-allowed', allow: node.allow };
    return { kind: 'found', route, values };
  }

  static #find(node: Node, segments: readonly string[], i: number, values: string[]): Node | undefined {
    if (i === segments.length) {
      if (node.routes.size > 0) return node;
      // `/files/*` also matches `/files` with an empty rest.
      if (node.wildcard !== undefined && node.wildcard.routes.size > 0) {
        values.push('');
        return node.wildcard;
      }
      return node.routes.size > 0 ? node : undefined;
    }
    const segment = segments[i]!;
    const child = node.children.get(segment);
    if (child !== undefined) {
      const found = Router.#find(child, segments, i + 1, values);
      if (found !== undefined) return found;
    }
    if (node.param !== undefined && segment !== '') {
      values.push(segment);
      const found = Router.#find(node.param, segments, i + 1, values);
      if (found !== undefined) return found;
      values.pop();
    }
    if (node.wildcard !== undefined && node.wildcard.routes.size > 0) {
      values.push(segments.slice(i).join('/'));
      return node.wildcard;
    }
    return undefined;
  }

  static #refreshAllow(node: Node): void {
    const methods = new Set(node.routes.keys());
    if (methods.has('GET')) methods.add('HEAD');
    node.allow = [...methods].sort().join(', ');
  }
}
