/**
 * Error codes of the http plugin. Codes never change once published; each HTTP error response
 * carries one as `{ error: { code, message } }`.
 */
import { ConfigError, NetworkError, type MisterSmithErrorOptions } from '../../sdk/index.js';

export const HTTP_ERROR_CODES = Object.freeze({
  /** `route()` got a method + path pair that is already registered. */
  HTTP_ROUTE_CONFLICT: 'HTTP_ROUTE_CONFLICT',
  /** `route()` got a malformed path or an unknown method. */
  HTTP_INVALID_ROUTE: 'HTTP_INVALID_ROUTE',
  /** 413: the request body is larger than `bodyLimitBytes`. */
  HTTP_BODY_TOO_LARGE: 'HTTP_BODY_TOO_LARGE',
  /** 400: a JSON body that does not parse, or a malformed path. */
  HTTP_BAD_REQUEST: 'HTTP_BAD_REQUEST',
  /** 401: auth is on and the request has no (or a wrong) bearer token. */
  HTTP_UNAUTHORIZED: 'HTTP_UNAUTHORIZED',
  /** 404: no route matches the path. */
  HTTP_NOT_FOUND: 'HTTP_NOT_FOUND',
  /** 405: a route matches the path but not the method; `Allow` lists the methods that do. */
  HTTP_METHOD_NOT_ALLOWED: 'HTTP_METHOD_NOT_ALLOWED',
  /** 408: the client did not send its whole body within `requestTimeoutMs`. */
  HTTP_REQUEST_TIMEOUT: 'HTTP_REQUEST_TIMEOUT',
  /** 503: the handler did not answer within `requestTimeoutMs`. */
  HTTP_HANDLER_TIMEOUT: 'HTTP_HANDLER_TIMEOUT',
  /** 503: the server is shutting down and takes no new requests. */
  HTTP_SHUTTING_DOWN: 'HTTP_SHUTTING_DOWN',
  /** 500: a handler threw something that is not an `HttpError`. */
  HTTP_INTERNAL_ERROR: 'HTTP_INTERNAL_ERROR',
  /** The server could not bind its host and port. */
  HTTP_LISTEN_FAILED: 'HTTP_LISTEN_FAILED',
  /** `auth.tokenEnv` names an environment variable that is not set. */
  HTTP_AUTH_TOKEN_MISSING: 'HTTP_AUTH_TOKEN_MISSING',
});

/**
 * An error with an HTTP status. Throw it from a route handler to answer with that status and
 * `{ error: { code, message } }`; anything else a handler throws becomes a 500 whose message
 * does not leak the original (which is logged instead).
 */
export class HttpError extends NetworkError {
  /** The HTTP status code of the response. */
  readonly status: number;
  /** Extra response headers (`Allow`, `WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: Omit<MisterSmithErrorOptions, 'kind'> & { headers?: Record<string, string> } = {},
  ) {
    super(code, message, { retryable: status >= 500, ...options, context: { status, ...options.context } });
    this.status = status;
    this.headers = options.headers ?? {};
  }
}

/** A route registration that cannot work: bad path, unknown method, or a duplicate. */
export class HttpRouteError extends ConfigError {}
