/**
 * Compiles what a subscriber asked for (a pattern or a filter) into two checks: one on the type,
 * whose answer the bus caches per type, and one on the event for the remaining filter fields.
 */
import { invalidEvent } from './errors.js';
import { compilePattern, type PatternMatcher } from './patterns.js';
import type { EventFilter, StoredEvent } from './types.js';

export interface CompiledMatcher {
  /** A readable form for logs (`tool.>`, or the filter's fields). */
  readonly description: string;
  wantsType(type: string): boolean;
  /** Undefined when the type decides alone (the common case; saves a call per event). */
  readonly accepts: ((event: StoredEvent) => boolean) | undefined;
}

function stringList(value: unknown, field: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw invalidEvent(`filter.${field}`, 'must be an array of non-empty strings', value);
  }
  return value as string[];
}

export function compileMatcher(what: string | EventFilter): CompiledMatcher {
  if (typeof what === 'string') {
    const m = compilePattern(what);
    return { description: what, wantsType: (t) => m.matches(t), accepts: undefined };
  }
  if (what === null || typeof what !== 'object' || Array.isArray(what)) {
    throw invalidEvent('subscribe pattern', 'must be a pattern string or a filter object', what);
  }
  const types = stringList(what.types, 'types');
  const sources = stringList(what.sources, 'sources');
  const subjects = stringList(what.subjects, 'subjects');
  const correlationId = what.correlationId;
  if (correlationId !== undefined && (typeof correlationId !== 'string' || correlationId.length === 0)) {
    throw invalidEvent('filter.correlationId', 'must be a non-empty string', correlationId);
  }
  const where = what.where;
  if (where !== undefined && typeof where !== 'function') throw invalidEvent('filter.where', 'must be a function', where);
  const patterns: PatternMatcher[] | undefined = types?.map((t) => compilePattern(t));
  const needsEvent = sources !== undefined || subjects !== undefined || correlationId !== undefined || where !== undefined;
  return {
    description: JSON.stringify({ types, sources, subjects, correlationId, where: where ? 'fn' : undefined }),
    wantsType: patterns === undefined ? () => true : (t) => patterns.some((p) => p.matches(t)),
    accepts: needsEvent
      ? (e) =>
          (sources === undefined || sources.includes(e.source)) &&
          (subjects === undefined || (e.subject !== undefined && subjects.includes(e.subject))) &&
          (correlationId === undefined || e.correlationId === correlationId) &&
          (where === undefined || where(e) === true)
      : undefined,
  };
}
