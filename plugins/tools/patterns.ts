/**
 * Tool names and permission patterns. A name is dotted segments (`fs.read`, `agent.researcher`);
 * a pattern is an exact name, a namespace wildcard `ns.*` (any name below `ns.`, at any depth), or
 * `*` (everything).
 */
import { ToolErrorCodes, toolError } from './errors.js';

const SEGMENT = '[A-Za-z][A-Za-z0-9_-]*';
const NAME_RE = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*$`);
const NAMESPACE_RE = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*\\.\\*$`);

/** Longest accepted name; LLM function-calling APIs cap names at 64 characters. */
export const MAX_TOOL_NAME_LENGTH = 64;

/** Whether `name` is a valid tool name. */
export function isToolName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_TOOL_NAME_LENGTH && NAME_RE.test(name);
}

/** Throws `TOOL_INVALID_NAME` unless `name` is a valid tool name. */
export function assertToolName(name: unknown): asserts name is string {
  if (!isToolName(name)) {
    throw toolError(
      ToolErrorCodes.INVALID_NAME,
      `invalid tool name ${JSON.stringify(name)}: use dotted segments of letters, digits, '_' or '-', each starting with a letter (e.g. 'fs.read'), at most ${MAX_TOOL_NAME_LENGTH} characters`,
      { name },
    );
  }
}

/** Whether `pattern` is `*`, `ns.*` or an exact tool name. */
export function isPattern(pattern: unknown): pattern is string {
  return typeof pattern === 'string' && (pattern === '*' || NAMESPACE_RE.test(pattern) || isToolName(pattern));
}

/** Normalises one pattern or a list into an array, throwing `TOOL_INVALID_PATTERN` on a bad one. */
export function toPatterns(patterns: string | readonly string[]): string[] {
  const list = typeof patterns === 'string' ? [patterns] : [...patterns];
  for (const p of list) {
    if (!isPattern(p)) {
      throw toolError(
        ToolErrorCodes.INVALID_PATTERN,
        `invalid tool pattern ${JSON.stringify(p)}: use an exact name ('fs.read'), a namespace ('fs.*') or '*'`,
        { pattern: p },
      );
    }
  }
  return list;
}

/** Whether `pattern` covers `name`. */
export function matches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return name.length > pattern.length - 1 && name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}
