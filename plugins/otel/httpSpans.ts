/**
 * One SERVER span per answered HTTP request, named by its route pattern (never the raw path, so
 * ids in URLs do not explode the span-name cardinality), continuing an incoming W3C `traceparent`.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { HttpExchangeRecord } from '../http/types.js';

const propagator = new W3CTraceContextPropagator();

export function httpSpanRecorder(tracer: Tracer): (exchange: HttpExchangeRecord) => void {
  return (exchange) => {
    const parent = exchange.headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, exchange.headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      `${exchange.method} ${exchange.route}`,
      {
        kind: SpanKind.SERVER,
        startTime: exchange.startedAt,
        attributes: {
          'http.request.method': exchange.method,
          'http.route': exchange.route,
          'http.response.status_code': exchange.status,
          ...(exchange.aborted ? { 'mister_smith.aborted': true } : {}),
        },
      },
      parent,
    );
    if (exchange.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `status ${exchange.status}` });
    span.end(exchange.startedAt + exchange.durationMs);
  };
}
