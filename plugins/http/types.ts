/** Public contract of the http plugin (DESIGN §4). The http helper owns this file and may add to it. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Parsed JSON body (undefined when there is none). */
  readonly body: unknown;
  readonly signal: AbortSignal;
  readonly raw: IncomingMessage;
}

/** What a handler returns: a reply object, or it writes to `res` itself and returns undefined. */
export interface HttpReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  readonly body?: unknown;
}

export type RouteHandler = (req: HttpRequest, res: ServerResponse) => HttpReply | undefined | Promise<HttpReply | undefined>;

/** The `http` service. */
export interface HttpService {
  /** Paths may hold params (`/agents/:id`). Returns a function that removes the route. */
  route(method: HttpMethod, path: string, handler: RouteHandler, options?: { auth?: boolean }): () => void;
  /** The bound URL once started (`http://127.0.0.1:PORT`). */
  readonly url: string | undefined;
}

declare module '../../sdk/index.js' {
  interface Services {
    http: HttpService;
  }
}
