/**
 * A fingerprint of a call's input, to tell "the same call again" from "a different call under a
 * reused id". Canonical JSON (object keys sorted, so `{a,b}` and `{b,a}` agree; `toJSON` honoured;
 * bigint, NaN and undefined kept distinct); inputs longer than {@link MAX_KEPT} characters are kept as
 * their SHA-256 instead, so a cache of 10,000 results does not hold 10,000 large inputs.
 */
import { createHash } from 'node:crypto';

/** Canonical forms up to this length are kept as they are (cheaper than hashing them). */
const MAX_KEPT = 128;

export function fingerprint(input: unknown): string {
  // Most inputs are plain JSON already in key order: the native stringify gives the same text then.
  const text = plainSorted(input, 0) ? JSON.stringify(input) : canonical(input, undefined);
  return text.length <= MAX_KEPT ? text : `sha256:${createHash('sha256').update(text).digest('base64')}`;
}

/**
 * Whether `value` is plain JSON (finite numbers, no undefined, plain objects and arrays, not too
 * deep) with every object's keys in sorted order: then `JSON.stringify` gives exactly what
 * {@link canonical} would, several times faster.
 */
function plainSorted(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > 32) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!plainSorted(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && key <= previous) return false;
    previous = key;
    if (!plainSorted((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function canonical(value: unknown, seen: Set<object> | undefined): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'object':
      break;
    default:
      // Functions and symbols: not data; two of them are "the same input" only if identical.
      return `<${typeof value}:${String((value as { name?: unknown }).name ?? '')}>`;
  }
  if (value === null) return 'null';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return canonical((toJSON as () => unknown).call(value), seen);
  if (seen?.has(value)) return '<cycle>';
  (seen ??= new Set()).add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonical(value[i], seen);
    out += ']';
  } else {
    const keys = Object.keys(value);
    if (keys.length > 1) keys.sort();
    out = '{';
    let first = true;
    for (const k of keys) {
      const v = (value as Record<string, unknown>)[k];
      if (v === undefined) continue; // as JSON: an absent key and an undefined one are the same input
      out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonical(v, seen);
      first = false;
    }
    out += '}';
  }
  seen.delete(value);
  return out;
}
