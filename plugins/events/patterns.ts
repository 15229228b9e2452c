/**
 * NATS-style subject patterns over event types: tokens separated by `.`, `*` matches exactly one
 * token, `>` (last token only) matches one or more tokens. `agent.*.started` matches
 * `agent.a1.started`; `tool.>` matches `tool.call` and `tool.call.done` but not `tool`.
 *
 * Matching runs once per (type, subscriber) pair: the bus caches the subscribers of each type, so
 * nothing here is on the per-event path.
 */
import { invalidPattern } from './errors.js';

/** A compiled pattern. */
export interface PatternMatcher {
  readonly pattern: string;
  matches(type: string): boolean;
}

const WHITESPACE = /\s/;

/** Checks a pattern and compiles it; throws `EVENT_INVALID_PATTERN` saying what is wrong. */
export function compilePattern(pattern: string): PatternMatcher {
  if (typeof pattern !== 'string' || pattern.length === 0) throw invalidPattern(pattern, 'must be a non-empty string');
  if (WHITESPACE.test(pattern)) throw invalidPattern(pattern, 'must not contain whitespace');
  const tokens = pattern.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) throw invalidPattern(pattern, `token ${i + 1} is empty (leading, trailing or double '.')`);
    if (t === '>' && i !== tokens.length - 1) throw invalidPattern(pattern, "'>' may only be the last token");
    if (t !== '*' && t !== '>' && (t.includes('*') || t.includes('>'))) {
      throw invalidPattern(pattern, `'*' and '>' must be whole tokens, not part of '${t}'`);
    }
  }
  if (pattern === '>') return { pattern, matches: () => true };
  if (!pattern.includes('*') && !pattern.includes('>')) return { pattern, matches: (type) => type === pattern };
  const tail = tokens[tokens.length - 1] === '>';
  const fixed = tail ? tokens.slice(0, -1) : tokens;
  return {
    pattern,
    matches(type: string): boolean {
      const parts = type.split('.');
      if (tail ? parts.length <= fixed.length : parts.length !== fixed.length) return false;
      for (let i = 0; i < fixed.length; i++) {
        const t = fixed[i]!;
        if (t !== '*' && t !== parts[i]) return false;
      }
      return true;
    },
  };
}

/** Whether `type` matches `pattern` (compiles the pattern each call: use `compilePattern` in loops). */
export function matchesPattern(pattern: string, type: string): boolean {
  return compilePattern(pattern).matches(type);
}

/**
 * Why `type` is not a valid event type, or undefined when it is: non-empty tokens separated by
 * `.`, no whitespace, no wildcard characters (a type is a subject, not a pattern).
 */
export function typeProblem(type: string): string | undefined {
  if (type.length === 0) return 'must be a non-empty string';
  if (type.length > 512) return 'must be at most 512 characters';
  if (type.includes('*') || type.includes('>')) return "must not contain the wildcards '*' or '>'";
  if (WHITESPACE.test(type)) return 'must not contain whitespace';
  if (type.startsWith('.') || type.endsWith('.') || type.includes('..')) return "must not have empty tokens (leading, trailing or double '.')";
  return undefined;
}
