/**
 * Who may call what. Deny by default; an agent may call a name when one of its grant patterns (or
 * one granted to every agent, `'*'`) matches and none of its deny patterns (or `'*'`'s) does:
 * explicit deny wins, any allow allows, otherwise deny.
 */
import { matches, toPatterns } from './patterns.js';
import type { AgentPermissions, ToolPermissions } from './types.js';

/** The agent id whose patterns apply to every agent. */
export const EVERY_AGENT = '*';

/**
 * Caps on the decision cache. Decisions are cached per (agent, name) because a call checks them on
 * every hop of its delegation chain; names an agent makes up must not grow memory without bound.
 */
const MAX_CACHED_AGENTS = 10_000;
const MAX_CACHED_NAMES = 1_024;

export class Permissions implements ToolPermissions {
  readonly #grants = new Map<string, string[]>();
  readonly #denies = new Map<string, string[]>();
  /** agent → name → decision; depends on patterns only, so (un)registering tools keeps it valid. */
  readonly #cache = new Map<string, Map<string, boolean>>();

  /** Whether `agentId` may call `name`. Cached until that agent's (or `'*'`'s) patterns change. */
  allowed(agentId: string, name: string): boolean {
    let decisions = this.#cache.get(agentId);
    if (decisions === undefined) {
      if (this.#cache.size >= MAX_CACHED_AGENTS) this.#cache.clear();
      decisions = new Map();
      this.#cache.set(agentId, decisions);
    }
    let decision = decisions.get(name);
    if (decision === undefined) {
      decision = this.#decide(agentId, name);
      if (decisions.size >= MAX_CACHED_NAMES) decisions.clear();
      decisions.set(name, decision);
    }
    return decision;
  }

  /** Whether a deny pattern (the agent's own or `'*'`'s) matches: tells "denied" from "not granted". */
  denies(agentId: string, name: string): boolean {
    return anyMatch(this.#denies.get(agentId), name) || anyMatch(this.#denies.get(EVERY_AGENT), name);
  }

  /** Adds allow patterns for an agent (`'*'` as agent id: every agent). */
  grant(agentId: string, patterns: string | readonly string[]): void {
    add(this.#grants, agentId, toPatterns(patterns));
    this.#invalidate(agentId);
  }

  /** Removes the given allow patterns, or all of the agent's when none are given. */
  revoke(agentId: string, patterns?: string | readonly string[]): void {
    remove(this.#grants, agentId, patterns === undefined ? undefined : toPatterns(patterns));
    this.#invalidate(agentId);
  }

  /** Adds deny patterns; a deny wins over every grant. */
  deny(agentId: string, patterns: string | readonly string[]): void {
    add(this.#denies, agentId, toPatterns(patterns));
    this.#invalidate(agentId);
  }

  /** Removes the given deny patterns, or all of the agent's when none are given. */
  undeny(agentId: string, patterns?: string | readonly string[]): void {
    remove(this.#denies, agentId, patterns === undefined ? undefined : toPatterns(patterns));
    this.#invalidate(agentId);
  }

  /** The agent's own grant and deny patterns (not those of `'*'`). */
  of(agentId: string): AgentPermissions {
    return { grants: [...(this.#grants.get(agentId) ?? [])], deny: [...(this.#denies.get(agentId) ?? [])] };
  }

  #decide(agentId: string, name: string): boolean {
    if (this.denies(agentId, name)) return false;
    return anyMatch(this.#grants.get(agentId), name) || anyMatch(this.#grants.get(EVERY_AGENT), name);
  }

  #invalidate(agentId: string): void {
    if (agentId === EVERY_AGENT) this.#cache.clear();
    else this.#cache.delete(agentId);
  }
}

function anyMatch(patterns: readonly string[] | undefined, name: string): boolean {
  if (patterns === undefined) return false;
  for (const p of patterns) if (matches(p, name)) return true;
  return false;
}

function add(map: Map<string, string[]>, agentId: string, patterns: readonly string[]): void {
  const list = map.get(agentId) ?? [];
  // Unlike the original system's allow-list, a pattern is kept once: revoke then needs no "remove all copies".
  for (const p of patterns) if (!list.includes(p)) list.push(p);
  map.set(agentId, list);
}

function remove(map: Map<string, string[]>, agentId: string, patterns: readonly string[] | undefined): void {
  if (patterns === undefined) {
    map.delete(agentId);
    return;
  }
  const list = map.get(agentId);
  if (list === undefined) return;
  const kept = list.filter((p) => !patterns.includes(p));
  if (kept.length === 0) map.delete(agentId);
  else map.set(agentId, kept);
}
