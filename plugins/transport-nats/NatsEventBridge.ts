/**
 * The event bridge: local events whose type matches the patterns go out on
 * `ms.<system>.events.<type>` (CloudEvents 1.0 structured JSON, with an `Ms-Origin` header naming
 * this node); the same patterns' events from other nodes come in and are published on the local
 * bus. Guarantees:
 * - **no echo**: a message carrying this node's origin is ignored, and an event that came in is
 *   never sent out again (it is recognised by id when the local subscriber sees it);
 * - **no duplicates**: overlapping patterns are separate NATS subscriptions, so one message can
 *   arrive twice; a bounded set of recent `(origin, id)` pairs drops the second copy;
 * - **at most once across nodes**: plain NATS publish, so an event sent while another node is
 *   disconnected does not reach it. Use the shared JetStream event store for a log every node sees.
 *
 * A traced event's W3C `traceparent` travels as the CloudEvents Distributed Tracing extension
 * attribute in the body and as the NATS `traceparent` header (see traceContext.ts); an incoming
 * event takes it from the body, else the header, and a malformed one is left off the event (which is
 * still published).
 */
import { headers, type Msg, type NatsConnection as Client, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { Logger } from '../../sdk/index.js';
import type { EventBus, StoredEvent, Subscription } from '../events/types.js';
import type { NatsConnection } from './NatsConnection.js';
import type { Subjects } from './subjects.js';
import { MalformedTraceparents, traceHeaders } from './traceContext.js';
import type { EventBridge } from './types.js';

export const ORIGIN_HEADER = 'Ms-Origin';
/** Remote `(origin, id)` pairs remembered to drop duplicate deliveries. */
const RECENT = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class NatsEventBridge implements EventBridge {
  readonly patterns: readonly string[];
  sent = 0;
  received = 0;
  readonly #bus: EventBus;
  readonly #connection: NatsConnection;
  readonly #subjects: Subjects;
  readonly #origin: string;
  readonly #logger: Logger;
  #local: Subscription | undefined;
  readonly #remote: NatsSubscription[] = [];
  /** Local ids of events that came in from another node: never sent out again. */
  readonly #imported = new Set<string>();
  /** Local publishes of incoming events not yet resolved (their ids are not known yet). */
  readonly #importing = new Set<Promise<unknown>>();
  readonly #recent = new Set<string>();
  readonly #badTraceparents: MalformedTraceparents;
  #closed = false;

  constructor(bus: EventBus, connection: NatsConnection, subjects: Subjects, origin: string, patterns: readonly string[], logger: Logger) {
    this.#bus = bus;
    this.#connection = connection;
    this.#subjects = subjects;
    this.#origin = origin;
    this.patterns = patterns;
    this.#logger = logger;
    this.#badTraceparents = new MalformedTraceparents(logger);
  }

  async open(): Promise<void> {
    const client = await this.#connection.ready();
    for (const pattern of this.patterns) {
      this.#remote.push(client.subscribe(this.#subjects.event(pattern), { callback: (err, msg) => (err ? undefined : this.#incoming(msg)) }));
    }
    // Subscriptions are live on the server once flushed: only then is the bridge open.
    await client.flush();
    this.#local = this.#bus.subscribe({ types: this.patterns }, (event) => this.#outgoing(client, event));
  }

  async #outgoing(client: Client, event: StoredEvent): Promise<void> {
    if (this.#closed) return;
    // The local copy of an incoming event may reach us before its publish resolved: wait for
    // those first, so that it is recognised and not sent back out.
    if (this.#importing.size > 0) await Promise.allSettled([...this.#importing]);
    if (this.#imported.delete(event.id)) return;
    const subject = this.#subjects.event(event.type);
    const payload = encoder.encode(JSON.stringify(toWire(event)));
    try {
      this.#connection.checkPayload(subject, payload.length);
      const h = headers();
      h.set(ORIGIN_HEADER, this.#origin);
      if (event.traceparent !== undefined) traceHeaders(event.traceparent, h);
      client.publish(subject, payload, { headers: h });
      this.sent++;
    } catch (error) {
      this.#logger.warn({ err: error, type: event.type, id: event.id }, `event ${event.id} (${event.type}) not bridged: ${(error as Error).message}`);
    }
  }

  #incoming(msg: Msg): void {
    if (this.#closed) return;
    const origin = msg.headers?.get(ORIGIN_HEADER) ?? '';
    if (origin === this.#origin) return;
    let wire: WireEvent;
    try {
      wire = JSON.parse(decoder.decode(msg.data)) as WireEvent;
      if (typeof wire.id !== 'string' || typeof wire.type !== 'string' || typeof wire.source !== 'string') throw new Error('missing id, type or source');
    } catch (error) {
      this.#logger.warn({ err: error, subject: msg.subject }, `bad bridged event on ${msg.subject}; dropped`);
      return;
    }
    const key = `${origin}/${wire.id}`;
    if (this.#recent.has(key)) return;
    if (this.#recent.size >= RECENT) this.#recent.delete(this.#recent.values().next().value!);
    this.#recent.add(key);
    const traceparent = this.#badTraceparents.read(wire.traceparent, msg.headers, () => `bridged event ${wire.id} (${wire.type})`);
    const publishing = this.#bus
      .publish({
        type: wire.type,
        source: wire.source,
        data: wire.data ?? null,
        ...(wire.subject !== undefined ? { subject: wire.subject } : {}),
        ...(wire.correlationid !== undefined ? { correlationId: wire.correlationid } : {}),
        ...(wire.causationid !== undefined ? { causationId: wire.causationid } : {}),
        ...(traceparent !== undefined ? { traceparent } : {}),
      })
      .then(
        (stored) => {
          this.received++;
          this.#imported.add(stored.id);
          if (this.#imported.size > RECENT) this.#imported.delete(this.#imported.values().next().value!);
        },
        (error: unknown) => this.#logger.warn({ err: error, id: wire.id, type: wire.type }, `bridged event ${wire.id} could not be published locally`),
      )
      .finally(() => this.#importing.delete(publishing));
    this.#importing.add(publishing);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#remote.splice(0)) s.unsubscribe();
    await this.#local?.unsubscribe();
    await Promise.allSettled([...this.#importing]);
  }
}

/** CloudEvents 1.0 structured JSON; correlation, causation and trace context ride as extension attributes. */
interface WireEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: unknown;
  readonly subject?: string;
  readonly correlationid?: string;
  readonly causationid?: string;
  /** The Distributed Tracing extension (also sent as the `traceparent` header). */
  readonly traceparent?: string;
}

function toWire(e: StoredEvent): WireEvent {
  return {
    specversion: '1.0',
    id: e.id,
    type: e.type,
    source: e.source,
    time: e.time,
    datacontenttype: 'application/json',
    data: e.data,
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    ...(e.correlationId !== undefined ? { correlationid: e.correlationId } : {}),
    ...(e.causationId !== undefined ? { causationid: e.causationId } : {}),
    ...(e.traceparent !== undefined ? { traceparent: e.traceparent } : {}),
  };
}
