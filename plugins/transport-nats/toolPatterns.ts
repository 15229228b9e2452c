/**
 * Tool name patterns as the tools plugin reads them: an exact name, `ns.*` (any name below `ns.`,
 * at any depth) or `*` (everything). Re-stated here because a plugin may import only another
 * plugin's types.
 */
import { badSubject } from './errors.js';

const SEGMENT = '[A-Za-z][A-Za-z0-9_-]*';
const NAME = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*$`);
const NAMESPACE = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*\\.\\*$`);

/** Normalises and checks patterns; throws NATS_BAD_SUBJECT for one that is not a tool pattern. */
export function toolPatterns(patterns: string | readonly string[] | undefined): string[] {
  const list = patterns === undefined ? ['*'] : typeof patterns === 'string' ? [patterns] : [...patterns];
  for (const p of list) {
    if (!(p === '*' || NAME.test(p) || NAMESPACE.test(p))) throw badSubject('tool pattern', p, "use a tool name ('math.add'), a namespace ('math.*') or '*'");
  }
  return list;
}

export function matchesTool(patterns: readonly string[], name: string): boolean {
  for (const p of patterns) {
    if (p === '*' || p === name) return true;
    if (p.endsWith('.*') && name.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}
