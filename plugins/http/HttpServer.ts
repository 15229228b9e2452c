/**
 * The one node:http server every plugin adds routes to. It owns the request pipeline: routing,
 * bearer auth, body limit, deadline, error mapping, and the graceful close on stop.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SyncHook } from 'tapable';
import { CancelledError, NetworkError, TimeoutError, type Counter, type Disposer, type Gauge, type Histogram, type Logger, type Metrics } from '../../sdk/index.js';
import { HTTP_ERROR_CODES, HttpError } from './errors.js';
import type { HttpOptions } from './options.js';
import { Router, type Route } from './Router.js';
import { ServerRequest } from './ServerRequest.js';
import type { HttpHooks, HttpMethod, HttpReply, HttpService, RouteHandler, RouteOptions } from './types.js';
import { drainBudget, isThenable } from '../../sdk/util/index.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
/** Node's own request timeout, a backstop behind ours for clients that never finish their headers. */
const NODE_TIMEOUT_SLACK_MS = 5_000;

/** What the server needs from its plugin. */
export interface HttpServerDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The bearer token; auth is off when undefined. */
  readonly token?: string | undefined;
}

/** Per-request bookkeeping the pipeline keeps beside the handler-facing `ServerRequest`. */
class Exchange {
  route: Route | undefined;
  timer: NodeJS.Timeout | undefined;
  readingBody = false;
  timedOut = false;
  readonly started = performance.now();
  constructor(readonly request: ServerRequest) {}
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** The `http` service: a node:http server with a router. Create it through the plugin. */
export class HttpServer implements HttpService {
  readonly hooks: HttpHooks = { responded: new SyncHook(['exchange']) };
  readonly #options: HttpOptions;
  readonly #logger: Logger;
  readonly #tokenDigest: Buffer | undefined;
  readonly #router = new Router();
  readonly #requests: Counter;
  readonly #duration: Histogram;
  #server: Server | undefined;
  #url: string | undefined;
  #closing = false;
  #inFlight = 0;
  #drained: (() => void) | undefined;

  constructor(options: HttpOptions, deps: HttpServerDeps) {
    this.#options = options;
    this.#logger = deps.logger;
    // Comparing fixed-size digests keeps timingSafeEqual's equal-length rule from leaking the length.
    this.#tokenDigest = deps.token === undefined ? undefined : sha256(deps.token);
    this.#requests = deps.metrics.counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
    });
    this.#duration = deps.metrics.histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, by route pattern',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    });
    // Read on scrape instead of set per request: the hot path only moves a number.
    const inFlight: Gauge = deps.metrics.gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being handled right now',
      collect: () => inFlight.set(this.#inFlight),
    });
  }

  /** Whether bearer-token auth is on. */
  get authEnabled(): boolean {
    return this.#tokenDigest !== undefined;
  }

  /** The bound URL (`http://127.0.0.1:PORT`) while listening; undefined before start and after stop. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Requests received whose response has not closed yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Adds a route (see `HttpService.route`); routes may be added before or after the server listens. */
  route(method: HttpMethod, path: string, handler: RouteHandler, options: RouteOptions = {}): Disposer {
    const remove = this.#router.add(method, path, handler, options.auth ?? true);
    return async () => remove();
  }

  /** Binds host and port; resolves to the URL. Rejects with `HTTP_LISTEN_FAILED`. */
  async listen(): Promise<string> {
    if (this.#server !== undefined) return this.#url!;
    const backstop = this.#options.requestTimeoutMs + NODE_TIMEOUT_SLACK_MS;
    const server = createServer({ requestTimeout: backstop, headersTimeout: Math.min(60_000, backstop) }, this.#onRequest);
    const { host, port } = this.#options;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new NetworkError(HTTP_ERROR_CODES.HTTP_LISTEN_FAILED, `cannot listen on ${host}:${port}: ${error.message}; pick another host or port`, {
            cause: error,
            context: { host, port },
          }),
        );
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'http server error'));
    const address = server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#server = server;
    this.#url = `http://${shownHost}:${address.port}`;
    return this.#url;
  }

  /**
   * Graceful close: stop accepting, close idle keep-alive sockets, let in-flight requests finish
   * within `closeGraceMs` (or until `signal` aborts, or `deadline` — epoch ms — comes near), then
   * destroy what is left.
   */
  async close(signal?: AbortSignal, deadline = Infinity): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.#inFlight > 0 && !signal?.aborted) {
      this.#logger.info({ inFlight: this.#inFlight }, 'waiting for in-flight requests');
      // Leave a slice of the kernel's stop budget for destroying sockets, so the stop ends on time.
      await this.#drain(drainBudget(deadline, this.#options.closeGraceMs), signal);
    }
    if (this.#inFlight > 0) {
      this.#logger.warn({ inFlight: this.#inFlight }, 'destroying connections of unfinished requests');
      server.closeAllConnections();
      // Responses emit 'close' a tick after their socket goes; wait so handlers see their abort before stop returns.
      await this.#drain(1_000, undefined);
    }
    server.closeAllConnections();
    await closed;
    this.#server = undefined;
    this.#url = undefined;
  }

  /** Resolves when no request is in flight, after `ms`, or when `signal` aborts, whichever is first. */
  #drain(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#drained = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#drained = done;
    });
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const exchange = new Exchange(new ServerRequest(req, method, path, q === -1 ? '' : url.slice(q + 1)));
    this.#inFlight++;
    res.once('close', () => this.#finished(exchange, res));
    try {
      this.#dispatch(exchange, req, res);
    } catch (error) {
      // Nothing a request does may escape into the process: this is the last line.
      this.#handlerFailed(exchange, res, error);
    }
  };

  #dispatch(exchange: Exchange, req: IncomingMessage, res: ServerResponse): void {
    const request = exchange.request;
    if (this.#closing) {
      this.#fail(res, 503, HTTP_ERROR_CODES.HTTP_SHUTTING_DOWN, 'the server is shutting down; retry on another instance', { 'retry-after': '1' });
      return;
    }
    const match = this.#router.match(request.method, request.path);
    if (match.kind !== 'found') {
      // With auth on, only authenticated clients learn which paths exist.
      if (this.#tokenDigest !== undefined && !this.#authorized(req)) return this.#unauthorized(req, res);
      if (match.kind === 'not-found') {
        return this.#fail(res, 404, HTTP_ERROR_CODES.HTTP_NOT_FOUND, `no route for ${request.method} ${request.path}`);
      }
      if (request.method === 'OPTIONS') {
        res.writeHead(204, { allow: match.allow });
        res.end();
        return;
      }
      return this.#fail(res, 405, HTTP_ERROR_CODES.HTTP_METHOD_NOT_ALLOWED, `${request.method} is not allowed on ${request.path}; allowed: ${match.allow}`, {
        allow: match.allow,
      });
    }
    const route = match.route;
    exchange.route = route;
    if (route.auth && this.#tokenDigest !== undefined && !this.#authorized(req)) return this.#unauthorized(req, res);
    if (route.paramNames.length > 0) {
      const params: Record<string, string> = {};
      for (let i = 0; i < route.paramNames.length; i++) {
        try {
          params[route.paramNames[i]!] = decodeURIComponent(match.values[i]!);
        } catch {
          return this.#fail(res, 400, HTTP_ERROR_CODES.HTTP_BAD_REQUEST, `path segment '${match.values[i]}' is not valid URI encoding`);
        }
      }
      request.params = params;
    }
    const length = req.headers['content-length'];
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      if (length !== undefined && Number(length) > this.#options.bodyLimitBytes) return this.#tooLarge(res);
      this.#arm(exchange, res);
      this.#readBody(exchange, req, res);
      return;
    }
    this.#invoke(exchange, res);
  }

  #readBody(exchange: Exchange, req: IncomingMessage, res: ServerResponse): void {
    const limit = this.#options.bodyLimitBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    exchange.readingBody = true;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        // Keep draining into nothing so the client sees the 413 instead of a reset while it writes.
        req.resume();
        exchange.readingBody = false;
        this.#tooLarge(res);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      exchange.readingBody = false;
      if (exchange.timedOut || res.writableEnded) return;
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const type = req.headers['content-type'];
      if (type === undefined || type.includes('json')) {
        if (size > 0) {
          try {
            exchange.request.body = JSON.parse(raw.toString('utf8'));
          } catch (error) {
            return this.#fail(res, 400, HTTP_ERROR_CODES.HTTP_BAD_REQUEST, `request body is not valid JSON: ${(error as Error).message}`);
          }
        }
      } else {
        exchange.request.body = raw;
      }
      try {
        this.#invoke(exchange, res);
      } catch (error) {
        this.#handlerFailed(exchange, res, error);
      }
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', (error) => {
      exchange.readingBody = false;
      this.#logger.debug({ err: error }, 'request stream failed');
    });
  }

  #invoke(exchange: Exchange, res: ServerResponse): void {
    const route = exchange.route!;
    let result: HttpReply | undefined | PromiseLike<HttpReply | undefined>;
    try {
      result = route.handler(exchange.request, res);
    } catch (error) {
      this.#handlerFailed(exchange, res, error);
      return;
    }
    if (isThenable(result)) {
      this.#arm(exchange, res);
      result.then(
        (reply) => this.#reply(exchange, res, reply),
        (error: unknown) => this.#handlerFailed(exchange, res, error),
      );
      return;
    }
    this.#reply(exchange, res, result);
    // A handler that returned undefined may still be writing `res` itself: hold it to the deadline.
    if (!res.writableEnded) this.#arm(exchange, res);
  }

  #reply(exchange: Exchange, res: ServerResponse, reply: HttpReply | undefined): void {
    if (exchange.timedOut || reply === undefined || reply === null) return;
    if (res.headersSent) {
      this.#logger.warn({ route: exchange.route?.pattern }, 'handler returned a reply after writing the response itself; reply ignored');
      return;
    }
    try {
      const body = reply.body;
      let payload: string | Uint8Array | undefined;
      let type: string | undefined;
      if (body === undefined || body === null) payload = undefined;
      else if (typeof body === 'string') (payload = body), (type = 'text/plain; charset=utf-8');
      else if (body instanceof Uint8Array) (payload = body), (type = 'application/octet-stream');
      else (payload = JSON.stringify(body)), (type = JSON_TYPE);
      const headers = reply.headers;
      if (headers !== undefined) for (const key in headers) res.setHeader(key, headers[key]!);
      if (type !== undefined && !res.hasHeader('content-type')) res.setHeader('content-type', type);
      if (this.#closing) res.setHeader('connection', 'close');
      res.writeHead(reply.status ?? 200);
      res.end(payload);
    } catch (error) {
      this.#handlerFailed(exchange, res, error);
    }
  }

  #handlerFailed(exchange: Exchange, res: ServerResponse, error: unknown): void {
    const where = { method: exchange.request.method, path: exchange.request.path, route: exchange.route?.pattern };
    if (exchange.timedOut) {
      this.#logger.debug({ ...where, err: error }, 'handler failed after its deadline');
      return;
    }
    const http = error instanceof HttpError && error.status >= 400 && error.status <= 599 ? error : undefined;
    if (http === undefined || http.status >= 500) this.#logger.error({ ...where, err: error }, 'route handler failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.removeHeader('content-type');
    if (http !== undefined) this.#fail(res, http.status, http.code, http.message, { ...http.headers });
    else this.#fail(res, 500, HTTP_ERROR_CODES.HTTP_INTERNAL_ERROR, 'internal server error (logged)');
  }

  #arm(exchange: Exchange, res: ServerResponse): void {
    if (exchange.timer !== undefined || res.writableEnded) return;
    // Extra setTimeout args instead of a closure: one timer, no per-request function.
    exchange.timer = setTimeout(this.#onDeadline, Math.max(1, this.#options.requestTimeoutMs - (performance.now() - exchange.started)), exchange, res);
  }

  readonly #onDeadline = (exchange: Exchange, res: ServerResponse): void => {
    exchange.timer = undefined;
    if (res.writableEnded) return;
    exchange.timedOut = true;
    const ms = this.#options.requestTimeoutMs;
    const reading = exchange.readingBody;
    exchange.request.abort(new TimeoutError(`request timed out after ${ms} ms`, { code: reading ? HTTP_ERROR_CODES.HTTP_REQUEST_TIMEOUT : HTTP_ERROR_CODES.HTTP_HANDLER_TIMEOUT }));
    this.#logger.warn({ method: exchange.request.method, path: exchange.request.path, timeoutMs: ms, reading }, 'request timed out');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (reading) {
      this.#fail(res, 408, HTTP_ERROR_CODES.HTTP_REQUEST_TIMEOUT, `request body not received within ${ms} ms`, { connection: 'close' });
    } else {
      this.#fail(res, 503, HTTP_ERROR_CODES.HTTP_HANDLER_TIMEOUT, `handler did not answer within ${ms} ms`);
    }
  };

  #finished(exchange: Exchange, res: ServerResponse): void {
    if (exchange.timer !== undefined) clearTimeout(exchange.timer);
    if (!res.writableFinished) exchange.request.abort(new CancelledError('the connection closed before the response was sent'));
    const route = exchange.route?.pattern ?? 'unmatched';
    const method = KNOWN_METHODS.has(exchange.request.method) ? exchange.request.method : 'OTHER';
    const durationMs = performance.now() - exchange.started;
    this.#requests.inc({ method, route, status: res.statusCode });
    this.#duration.observe({ route }, durationMs / 1000);
    if (this.hooks.responded.isUsed()) {
      this.hooks.responded.call({
        method,
        route,
        status: res.statusCode,
        startedAt: performance.timeOrigin + exchange.started,
        durationMs,
        headers: exchange.request.headers,
        aborted: !res.writableFinished,
      });
    }
    this.#inFlight--;
    if (this.#inFlight === 0) this.#drained?.();
  }

  #authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (header === undefined || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return false;
    return timingSafeEqual(sha256(header.slice(7).trim()), this.#tokenDigest!);
  }

  #unauthorized(req: IncomingMessage, res: ServerResponse): void {
    const sent = req.headers.authorization !== undefined;
    this.#fail(res, 401, HTTP_ERROR_CODES.HTTP_UNAUTHORIZED, sent ? 'the bearer token is not valid' : 'this route needs an Authorization: Bearer <token> header', {
      'www-authenticate': sent ? 'Bearer realm="mister-smith", error="invalid_token"' : 'Bearer realm="mister-smith"',
    });
  }

  #tooLarge(res: ServerResponse): void {
    this.#fail(res, 413, HTTP_ERROR_CODES.HTTP_BODY_TOO_LARGE, `request body exceeds the limit of ${this.#options.bodyLimitBytes} bytes`, {
      connection: 'close',
    });
  }

  #fail(res: ServerResponse, status: number, code: string, message: string, headers?: Record<string, string>): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = errorBody(code, message);
    if (headers !== undefined) for (const key in headers) res.setHeader(key, headers[key]!);
    if (this.#closing) res.setHeader('connection', 'close');
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
