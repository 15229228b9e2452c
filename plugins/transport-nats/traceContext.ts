/**
 * W3C trace context on NATS messages. A traced event or remote tool call carries its `traceparent`
 * twice: in the JSON body (the CloudEvents Distributed Tracing extension for events, a field of the
 * tool envelope) and as the `traceparent` message header, the name the Trace Context spec gives it
 * and what other NATS tooling (OpenTelemetry NATS instrumentations, `nats sub --headers`) reads.
 * Incoming, the body's value wins, else the header's (any case: some tracers canonicalise header
 * names HTTP-style, `Traceparent`). A malformed value is left off — the message is still handled —
 * and warned about on the first and every 1000th occurrence, so one broken sender cannot flood the log.
 */
import { headers, Match, type MsgHdrs } from '@nats-io/transport-node';
import type { Logger } from '../../sdk/index.js';
import { isTraceparent } from '../../sdk/util/index.js';

/** The NATS header carrying a message's W3C trace context. */
export const TRACEPARENT_HEADER = 'traceparent';

/** Headers holding just `traceparent` (only traced messages get one: untraced ones allocate nothing). */
export function traceHeaders(traceparent: string, into: MsgHdrs = headers()): MsgHdrs {
  into.set(TRACEPARENT_HEADER, traceparent);
  return into;
}

/** Counts malformed incoming traceparents and warns about the first and every 1000th. */
export class MalformedTraceparents {
  /** How many were left off so far. */
  count = 0;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The valid traceparent of an incoming message (body first, then header), or undefined. */
  read(fromBody: unknown, msgHeaders: MsgHdrs | undefined, what: () => string): string | undefined {
    if (fromBody !== undefined && isTraceparent(fromBody)) return fromBody;
    const fromHeader = msgHeaders?.values(TRACEPARENT_HEADER, Match.IgnoreCase)[0];
    const valid = fromHeader !== undefined && isTraceparent(fromHeader) ? fromHeader : undefined;
    const bad = fromBody !== undefined ? fromBody : valid === undefined ? fromHeader : undefined;
    if (bad !== undefined) this.#report(bad, what);
    return valid;
  }

  #report(value: unknown, what: () => string): void {
    if (this.count++ % 1000 !== 0) return;
    const shown = typeof value === 'string' ? value.slice(0, 100) : typeof value;
    this.#logger.warn({ traceparent: shown, count: this.count }, `${what()} has a malformed traceparent; handled without it (${this.count} so far)`);
  }
}
