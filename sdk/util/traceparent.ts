/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `<version>-<trace-id>-<parent-id>-<flags>`, lowercase hex. Events, tool calls and model requests
 * carry one when tracing is on, so a span started elsewhere — another process, another machine, a
 * model API's own tracing — can name its parent. Parsing follows the spec's rules for versions this
 * code does not know: a later version may append fields, which are ignored.
 */

/** The parts of a `traceparent` that propagation uses. */
export interface TraceParent {
  /** 32 lowercase hex characters, not all zero. */
  readonly traceId: string;
  /** The parent span: 16 lowercase hex characters, not all zero. */
  readonly spanId: string;
  /** The `sampled` flag (bit 0 of the flags). */
  readonly sampled: boolean;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The parts of a valid `traceparent`, or undefined when it is not one. */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string' || value.length < 55) return undefined;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return undefined;
  // Version 00 is exactly 55 characters; a later version may add `-<more>`.
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') return undefined;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** Whether `value` is a valid `traceparent`. */
export const isTraceparent = (value: unknown): value is string => parseTraceparent(value) !== undefined;

/** A version-00 `traceparent`; throws a RangeError naming the bad part when an id is malformed. */
export function formatTraceparent(parent: TraceParent): string {
  if (parent.traceId.length !== 32 || !HEX.test(parent.traceId) || parent.traceId === ZERO_TRACE) {
    throw new RangeError(`traceId must be 32 lowercase hex characters, not all zero: ${JSON.stringify(parent.traceId)}`);
  }
  if (parent.spanId.length !== 16 || !HEX.test(parent.spanId) || parent.spanId === ZERO_SPAN) {
    throw new RangeError(`spanId must be 16 lowercase hex characters, not all zero: ${JSON.stringify(parent.spanId)}`);
  }
  return `00-${parent.traceId}-${parent.spanId}-${parent.sampled ? '01' : '00'}`;
}

/** What a bad `traceparent` is told (for typed errors naming the field). */
export const TRACEPARENT_PROBLEM = 'must be a W3C traceparent (00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, lowercase, ids not all zero)';
