/**
 * One HTTP POST under a deadline that covers the whole exchange, body and stream included, and
 * the caller's signal; failures come back typed (timeout, unreachable, cut off).
 */
import { NetworkError } from '../errors.js';
import { abortReason } from './async.js';
import { isTraceparent, replaceTraceContext } from './traceparent.js';

export interface OpenRequestOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Error code prefix (`OPENAI` gives `OPENAI_TIMEOUT`, `OPENAI_UNREACHABLE`, `OPENAI_STREAM_INTERRUPTED`). */
  readonly prefix: string;
  /**
   * W3C trace context of the call (`ModelRequest.traceparent`): sent as the `traceparent` header,
   * replacing any `traceparent` or `tracestate` in `headers` (whatever their case). A value that is
   * not a valid traceparent is not sent: trace context never fails the call it describes, and W3C
   * asks the same of a receiver that cannot parse one.
   */
  readonly traceparent?: string | undefined;
}

/** The request headers: JSON, the caller's, and the trace context when there is a valid one. */
function requestHeaders(o: OpenRequestOptions): Record<string, string> {
  const headers = { 'content-type': 'application/json', ...o.headers };
  return isTraceparent(o.traceparent) ? replaceTraceContext(headers, o.traceparent) : headers;
}

/** An open exchange: the response, a way to type any later failure, and cleanup. */
export interface OpenRequest {
  readonly res: Response;
  /** Types a failure while reading the body: the deadline, the caller's abort, or a cut connection. */
  failure(error: unknown): Error;
  /** Ends the deadline and aborts the exchange if still open. Idempotent. */
  dispose(): void;
}

export async function openRequest(o: OpenRequestOptions): Promise<OpenRequest> {
  if (o.signal.aborted) throw abortReason(o.signal);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, o.timeoutMs);
  const onAbort = (): void => controller.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const dispose = (): void => {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
    controller.abort();
  };
  const failure = (error: unknown, phase: 'connect' | 'read'): Error => {
    if (o.signal.aborted) return abortReason(o.signal);
    if (timedOut) return new NetworkError(`${o.prefix}_TIMEOUT`, `${o.url} did not finish answering within ${o.timeoutMs} ms`, { retryable: true, context: { timeoutMs: o.timeoutMs } });
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return phase === 'connect'
      ? new NetworkError(`${o.prefix}_UNREACHABLE`, `cannot reach ${o.url}: ${why}`, { cause: error, retryable: true })
      : new NetworkError(`${o.prefix}_STREAM_INTERRUPTED`, `${o.url} closed the connection in the middle of its answer: ${why}`, { cause: error, retryable: true });
  };
  try {
    const res = await fetch(o.url, { method: 'POST', headers: requestHeaders(o), body: JSON.stringify(o.body), signal: controller.signal });
    return { res, failure: (error) => failure(error, 'read'), dispose };
  } catch (error) {
    const typed = failure(error, 'connect');
    dispose();
    throw typed;
  }
}
