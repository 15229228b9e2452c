/** Public contract of the http plugin. The http helper owns this file and may add to it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SyncHook } from 'tapable';
import type { Disposer } from '../../sdk/index.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** What a route handler sees of a request. */
export interface HttpRequest {
  readonly method: string;
  /** The path without the query string, as sent (not decoded). */
  readonly path: string;
  /** Path parameters (`/agents/:id` → `{ id }`), URI-decoded; a trailing `*` is `params['*']`. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /**
   * Parsed JSON body when the content type is JSON (or absent), the raw `Buffer` for any other
   * content type, undefined when there is no body.
   */
  readonly body: unknown;
  /** Aborts at the request deadline, when the client goes away, or when the server is force-closed. */
  readonly signal: AbortSignal;
  readonly raw: IncomingMessage;
}

/** What a handler returns: a reply object, or it writes to `res` itself and returns undefined. */
export interface HttpReply {
  /** Default 200. */
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON; strings (text/plain) and Buffers (octet-stream) as they are. */
  readonly body?: unknown;
}

export type RouteHandler = (req: HttpRequest, res: ServerResponse) => HttpReply | undefined | Promise<HttpReply | undefined>;

/** Per-route options. */
export interface RouteOptions {
  /**
   * Whether the route requires the bearer token when auth is configured (default true). Probes
   * such as `/livez` opt out so that orchestrators can reach them without a secret.
   */
  readonly auth?: boolean;
}

/** One answered request, as `hooks.responded` sees it (never a body). */
export interface HttpExchangeRecord {
  /** The request method (`OTHER` for a method the server does not know). */
  readonly method: string;
  /** The route pattern that matched (`/agents/runs/:id`), or `unmatched`. */
  readonly route: string;
  /** The status code sent. */
  readonly status: number;
  /** Wall-clock arrival, in ms since the epoch. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** The request headers (a tracer reads `traceparent` here). */
  readonly headers: IncomingMessage['headers'];
  /** Whether the client went away before the response was sent. */
  readonly aborted: boolean;
}

export interface HttpHooks {
  /**
   * Called once per request when its response has closed. Untapped it costs nothing: the record is
   * built only when `isUsed()`.
   */
  readonly responded: SyncHook<[HttpExchangeRecord]>;
}

/** The `http` service. */
export interface HttpService {
  readonly hooks: HttpHooks;
  /**
   * Paths may hold params (`/agents/:id`) and end in `*`. Throws `HTTP_ROUTE_CONFLICT` when the
   * method and path are taken, `HTTP_INVALID_ROUTE` when malformed. Returns a function that
   * removes the route.
   */
  route(method: HttpMethod, path: string, handler: RouteHandler, options?: RouteOptions): Disposer;
  /** The bound URL once started (`http://127.0.0.1:PORT`); undefined before start and after stop. */
  readonly url: string | undefined;
}

declare module '../../sdk/index.js' {
  interface Services {
    http: HttpService;
  }
}
