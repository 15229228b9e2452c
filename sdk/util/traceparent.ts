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
const DASH = 45;

/**
 * 1 when `value[from, to)` is lowercase hex with a non-zero digit, 0 when it is all `0`, -1 when it is
 * not lowercase hex. A character scan: validation runs on every traced publish and tool call, and
 * slicing plus regular expressions cost several times more.
 */
function hexRun(value: string, from: number, to: number): number {
  let nonZero = 0;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (c === 48) continue;
    if ((c > 48 && c <= 57) || (c >= 97 && c <= 102)) nonZero = 1;
    else return -1;
  }
  return nonZero;
}

/** Whether `value` is a valid `traceparent` (allocates nothing). */
export function isTraceparent(value: unknown): value is string {
  if (typeof value !== 'string' || value.length < 55) return false;
  if (hexRun(value, 0, 2) < 0) return false;
  const v0 = value.charCodeAt(0);
  const v1 = value.charCodeAt(1);
  if (v0 === 102 && v1 === 102) return false; // version ff is forbidden
  // Version 00 is exactly 55 characters; a later version may add `-<more>`.
  if (v0 === 48 && v1 === 48 ? value.length !== 55 : value.length > 55 && value.charCodeAt(55) !== DASH) return false;
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) return false;
  // Trace id and span id not all zero; the flags may be anything hex.
  return hexRun(value, 3, 35) > 0 && hexRun(value, 36, 52) > 0 && hexRun(value, 53, 55) >= 0;
}

/** The parts of a valid `traceparent`, or undefined when it is not one. */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (!isTraceparent(value)) return undefined;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), sampled: (parseInt(value.slice(53, 55), 16) & 1) === 1 };
}

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

/**
 * Puts a call's trace context on a carrier — HTTP headers, a child process' environment: every
 * `traceparent` and `tracestate` entry already there goes, whatever the case of its name (a
 * `tracestate` belongs to the `traceparent` it came with), then `traceparent`, when given, is set
 * under `key` (`TRACEPARENT` for an environment). Returns the carrier, changed in place.
 */
export function replaceTraceContext<T extends Record<string, string | undefined>>(carrier: T, traceparent: string | undefined, key = 'traceparent'): T {
  for (const name of Object.keys(carrier)) {
    const lower = name.toLowerCase();
    if (lower === 'traceparent' || lower === 'tracestate') delete carrier[name];
  }
  if (traceparent !== undefined) (carrier as Record<string, string | undefined>)[key] = traceparent;
  return carrier;
}

/** What a bad `traceparent` is told (for typed errors naming the field). */
export const TRACEPARENT_PROBLEM = 'must be a W3C traceparent (00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, lowercase, ids not all zero)';
