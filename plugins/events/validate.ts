/**
 * Input checks for `publish`. They run on every publish, so the common cases (strings, numbers,
 * small plain objects) return without allocating; only a bad input pays for building a message.
 */
import { invalidEvent } from './errors.js';

const MAX_DEPTH = 64;

/**
 * Why `value` is not JSON-serialisable, as `path: reason`, or undefined when it is. Rejected:
 * functions, symbols, bigints, non-finite numbers (JSON would turn them into null), cycles and
 * nesting deeper than 64. `undefined` inside objects is allowed (JSON drops it); objects with
 * `toJSON` (Date) are trusted.
 */
export function jsonProblem(value: unknown, path: string): string | undefined {
  // The common case (valid data) is checked without building a path string per field; only a bad
  // value walks again to say where.
  return isJsonSafe(value, []) ? undefined : problemAt(value, path);
}

/** The same rules as `problemAt`, answering only yes or no (no allocation beyond the stack). */
function isJsonSafe(value: unknown, stack: object[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null || typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
      if (stack.length >= MAX_DEPTH || stack.includes(value)) return false;
      stack.push(value);
      let ok = true;
      if (Array.isArray(value)) {
        for (let i = 0; ok && i < value.length; i++) {
          const v: unknown = value[i];
          ok = v !== undefined && isJsonSafe(v, stack);
        }
      } else {
        for (const key in value) {
          if (!Object.hasOwn(value, key)) continue;
          if (!isJsonSafe((value as Record<string, unknown>)[key], stack)) {
            ok = false;
            break;
          }
        }
      }
      stack.pop();
      return ok;
    }
    default:
      return false;
  }
}

function problemAt(value: unknown, path: string): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path}: ${value} is not representable in JSON`;
    case 'bigint':
      return `${path}: bigint is not JSON-serialisable (convert it to a string or number)`;
    case 'function':
      return `${path}: a function is not JSON-serialisable`;
    case 'symbol':
      return `${path}: a symbol is not JSON-serialisable`;
    default:
      return value === null ? undefined : objectProblem(value as object, path, []);
  }
}

function objectProblem(value: object, path: string, stack: object[]): string | undefined {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (stack.length >= MAX_DEPTH) return `${path}: nested deeper than ${MAX_DEPTH} levels`;
  if (stack.includes(value)) return `${path}: circular reference`;
  stack.push(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const p = childProblem(value[i], `${path}[${i}]`, stack, true);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    for (const key of Object.keys(value)) {
      const p = childProblem((value as Record<string, unknown>)[key], `${path}.${key}`, stack, false);
      if (p !== undefined) return p;
    }
    return undefined;
  } finally {
    stack.pop();
  }
}

function childProblem(v: unknown, path: string, stack: object[], inArray: boolean): string | undefined {
  if (typeof v === 'object' && v !== null) return objectProblem(v, path, stack);
  // In an array JSON turns undefined into null, which is a change of meaning: say so.
  if (inArray && v === undefined) return `${path}: undefined in an array becomes null in JSON`;
  return problemAt(v, path);
}

/** Throws `EVENT_INVALID` when an optional string field is present but not a string. */
export function checkOptionalString(value: unknown, field: string): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
    throw invalidEvent(field, 'must be a non-empty string when given', value);
  }
}
