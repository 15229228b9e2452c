/**
 * Validating a publish input and building the one event object that travels through store and
 * subscribers (DESIGN: `type` and `source` non-empty, `type` a valid dotted name, optional strings
 * non-empty, `data` JSON-serialisable, `traceparent` a W3C traceparent). A bad input throws
 * `EVENT_INVALID` naming the field.
 */
import { isTraceparent, TRACEPARENT_PROBLEM } from '../../sdk/util/index.js';
import { invalidEvent } from './errors.js';
import { typeProblem } from './patterns.js';
import type { PendingEvent } from './stores/EventStore.js';
import type { EventInput } from './types.js';
import { checkOptionalString, jsonProblem } from './validate.js';

export function prepareEvent(input: EventInput, knownTypes: { has(type: string): boolean }, now: () => string): PendingEvent {
  if (input === null || typeof input !== 'object') throw invalidEvent('event', 'must be an object', input);
  const type = input.type;
  if (typeof type !== 'string') throw invalidEvent('type', 'is required and must be a string', type);
  // A type with a route was validated before: the route table doubles as the cache of good types.
  if (!knownTypes.has(type)) {
    const problem = typeProblem(type);
    if (problem !== undefined) throw invalidEvent('type', problem, type);
  }
  const source = input.source;
  if (typeof source !== 'string' || source.length === 0) throw invalidEvent('source', 'is required and must be a non-empty string', source);
  const data = input.data;
  if (typeof data === 'object' || typeof data === 'number' || typeof data === 'bigint' || typeof data === 'function' || typeof data === 'symbol') {
    const problem = jsonProblem(data, 'data');
    if (problem !== undefined) {
      const colon = problem.indexOf(': ');
      throw invalidEvent(problem.slice(0, colon), `is not JSON-serialisable (${problem.slice(colon + 2)})`);
    }
  }
  const { subject, correlationId, causationId, traceparent } = input;
  const event: PendingEvent = { id: '', type, source, time: now(), sequence: 0, data: data === undefined ? null : data };
  if (subject !== undefined) {
    checkOptionalString(subject, 'subject');
    (event as { subject?: string }).subject = subject;
  }
  if (correlationId !== undefined) {
    checkOptionalString(correlationId, 'correlationId');
    (event as { correlationId?: string }).correlationId = correlationId;
  }
  if (causationId !== undefined) {
    checkOptionalString(causationId, 'causationId');
    (event as { causationId?: string }).causationId = causationId;
  }
  // Absent on most events: the check and the extra property cost nothing then.
  if (traceparent !== undefined) {
    if (!isTraceparent(traceparent)) throw invalidEvent('traceparent', TRACEPARENT_PROBLEM, traceparent);
    (event as { traceparent?: string }).traceparent = traceparent;
  }
  return event;
}
