/**
 * The `HttpRequest` a handler sees. One object per request; the query and the AbortController are
 * created only when a handler asks for them, so a probe like `/livez` allocates neither.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpRequest } from './types.js';

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** The request object passed to route handlers. */
export class ServerRequest implements HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly raw: IncomingMessage;
  params: Readonly<Record<string, string>> = EMPTY_PARAMS;
  body: unknown = undefined;
  readonly #search: string;
  #query: URLSearchParams | undefined;
  #controller: AbortController | undefined;
  #abortReason: Error | undefined;

  constructor(raw: IncomingMessage, method: string, path: string, search: string) {
    this.raw = raw;
    this.method = method;
    this.path = path;
    this.#search = search;
  }

  get headers(): IncomingMessage['headers'] {
    return this.raw.headers;
  }

  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.#search));
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** Aborts the signal (now, or as soon as a handler reads it). The first reason wins. */
  abort(reason: Error): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}
