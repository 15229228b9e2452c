/**
 * Conversion to and from CloudEvents 1.0 in the JSON event format. Our fields map onto the
 * required attributes (`id`, `source`, `type`, `specversion`) and the optional `time` and
 * `subject`; the rest travel as extension attributes, whose names CloudEvents restricts to
 * lower-case letters and digits: `sequence` (the Sequence extension, a string), `correlationid`,
 * `causationid`, and `traceparent` (the Distributed Tracing extension: the W3C trace context of
 * the span the event belongs to).
 *
 * CloudEvents requires `source` to be a URI-reference; ours is any non-empty string. A source that
 * is not one (`ü/src`, `a b`) is percent-encoded on the way out (see uriReference.ts), so the output
 * passes the CloudEvents SDK's strict validation; `fromCloudEvent` keeps a source as given.
 */
import { isTraceparent, TRACEPARENT_PROBLEM } from '../../sdk/util/index.js';
import { invalidEvent } from './errors.js';
import { toUriReference } from './uriReference.js';
import type { StoredEvent } from './types.js';

/** A CloudEvent in the JSON format, as this plugin produces it. */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time?: string;
  readonly subject?: string;
  readonly datacontenttype?: string;
  readonly data?: unknown;
  readonly sequence?: string;
  readonly correlationid?: string;
  readonly causationid?: string;
  /** The Distributed Tracing extension: a W3C `traceparent`. */
  readonly traceparent?: string;
  readonly [extension: string]: unknown;
}

/** A stored event as a CloudEvents 1.0 JSON object (`JSON.stringify` it for the wire). */
export function toCloudEvent(event: StoredEvent): CloudEvent {
  const out: Record<string, unknown> = {
    specversion: '1.0',
    id: event.id,
    source: toUriReference(event.source),
    type: event.type,
    time: event.time,
    datacontenttype: 'application/json',
    data: event.data,
    sequence: String(event.sequence),
  };
  if (event.subject !== undefined) out.subject = event.subject;
  if (event.correlationId !== undefined) out.correlationid = event.correlationId;
  if (event.causationId !== undefined) out.causationid = event.causationId;
  if (event.traceparent !== undefined) out.traceparent = event.traceparent;
  return out as unknown as CloudEvent;
}

function requiredString(ce: Record<string, unknown>, name: string): string {
  const v = ce[name];
  if (typeof v !== 'string' || v.length === 0) throw invalidEvent(`cloudevent.${name}`, 'is required and must be a non-empty string', v);
  return v;
}

function optionalString(ce: Record<string, unknown>, name: string): string | undefined {
  const v = ce[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidEvent(`cloudevent.${name}`, 'must be a string', v);
  return v;
}

/**
 * A CloudEvents 1.0 JSON event (object or string) as a `StoredEvent`. `sequence` is the Sequence
 * extension when present, else 0 (the event was never stored here); `time` defaults to now. Pass
 * the result to `publish` to store it here (it then gets a new id and sequence). Only JSON data is
 * accepted: `data_base64` is rejected with `EVENT_INVALID`, and so is a `traceparent` extension that
 * is not a W3C traceparent (field `cloudevent.traceparent`).
 */
export function fromCloudEvent(input: unknown): StoredEvent {
  let ce: unknown = input;
  if (typeof input === 'string') {
    try {
      ce = JSON.parse(input);
    } catch (error) {
      throw invalidEvent('cloudevent', `is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (ce === null || typeof ce !== 'object' || Array.isArray(ce)) throw invalidEvent('cloudevent', 'must be a JSON object', ce);
  const o = ce as Record<string, unknown>;
  if (o.specversion !== '1.0') throw invalidEvent('cloudevent.specversion', "must be '1.0'", o.specversion);
  const id = requiredString(o, 'id');
  const source = requiredString(o, 'source');
  const type = requiredString(o, 'type');
  const time = optionalString(o, 'time');
  if (time !== undefined && Number.isNaN(Date.parse(time))) throw invalidEvent('cloudevent.time', 'must be an RFC 3339 timestamp', time);
  const contentType = optionalString(o, 'datacontenttype');
  if (contentType !== undefined && !/^application\/(.+\+)?json\b/.test(contentType)) {
    throw invalidEvent('cloudevent.datacontenttype', 'must be application/json (or a +json type); only JSON data is supported', contentType);
  }
  if (o.data_base64 !== undefined) throw invalidEvent('cloudevent.data_base64', 'is not supported: events carry JSON data');
  const rawSeq = o.sequence;
  let sequence = 0;
  if (rawSeq !== undefined) {
    sequence = typeof rawSeq === 'number' ? rawSeq : typeof rawSeq === 'string' ? Number(rawSeq) : Number.NaN;
    if (!Number.isSafeInteger(sequence) || sequence < 0) throw invalidEvent('cloudevent.sequence', 'must be a non-negative integer', rawSeq);
  }
  const event: Record<string, unknown> = {
    id,
    type,
    source,
    time: time ?? new Date().toISOString(),
    sequence,
    data: o.data === undefined ? null : o.data,
  };
  const subject = optionalString(o, 'subject');
  const correlationId = optionalString(o, 'correlationid');
  const causationId = optionalString(o, 'causationid');
  if (subject !== undefined) event.subject = subject;
  if (correlationId !== undefined) event.correlationId = correlationId;
  if (causationId !== undefined) event.causationId = causationId;
  const traceparent = optionalString(o, 'traceparent');
  if (traceparent !== undefined) {
    if (!isTraceparent(traceparent)) throw invalidEvent('cloudevent.traceparent', TRACEPARENT_PROBLEM, traceparent);
    event.traceparent = traceparent;
  }
  return event as unknown as StoredEvent;
}
