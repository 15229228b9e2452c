import { formatPath } from './config.js';
import { isPlainObject } from './merge.js';

/** Deeper than any real config; deep enough that recursive code (ours, zod's) has stack to spare. */
export const MAX_CONFIG_DEPTH = 100;

/**
 * The path of the first place `value` nests deeper than `max` plain objects/arrays, or undefined.
 * Iterative, so that a 100,000-deep config is a config error rather than a stack overflow in
 * whatever walks it first; shared and cyclic references are walked once.
 */
export function tooDeep(value: unknown, max = MAX_CONFIG_DEPTH): string | undefined {
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value, path: [] }];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const { value: node, path } = stack.pop()!;
    if (!(Array.isArray(node) || isPlainObject(node)) || seen.has(node)) continue;
    if (path.length >= max) return `${formatPath(path.slice(0, 6))}… (${path.length} levels down)`;
    seen.add(node);
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
    for (const [key, child] of entries) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}
