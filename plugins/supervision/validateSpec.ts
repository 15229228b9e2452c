/**
 * Spec validation. Specs are plain objects written by hand (or built per actor on a hot path), so
 * this is a handful of typeof checks rather than a zod parse, and it returns the error instead of
 * throwing so that callers can reject without a try/catch.
 */
import type { SupervisionError } from '../../sdk/index.js';
import { duplicateChild, invalidChildSpec, invalidSpec } from './errors.js';
import type { ChildSpec, SupervisorSpec } from './types.js';

const STRATEGIES = new Set(['one-for-one', 'one-for-all', 'rest-for-one']);
const RESTARTS = new Set(['permanent', 'transient', 'temporary']);

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The problem with a child spec, or undefined when it can work. */
export function validateChildSpec(spec: ChildSpec, supervisor: string): SupervisionError | undefined {
  if (spec === null || typeof spec !== 'object') {
    return invalidChildSpec(`supervisor '${supervisor}': a child spec must be an object with an id and a start function, got ${describe(spec)}`, { supervisor });
  }
  const { id } = spec;
  if (typeof id !== 'string' || id === '') {
    return invalidChildSpec(`supervisor '${supervisor}': child id must be a non-empty string, got ${describe(id)}`, { supervisor });
  }
  const where = `child '${id}' of supervisor '${supervisor}'`;
  const context = { supervisor, child: id };
  if (typeof spec.start !== 'function') {
    return invalidChildSpec(`${where}: start must be a function (ctx) => ChildHandle, got ${describe(spec.start)}`, context);
  }
  if (spec.restart !== undefined && !RESTARTS.has(spec.restart)) {
    return invalidChildSpec(`${where}: restart must be 'permanent', 'transient' or 'temporary', got ${describe(spec.restart)}`, context);
  }
  const type = spec.type ?? 'worker';
  if (type !== 'worker' && type !== 'supervisor') {
    return invalidChildSpec(`${where}: type must be 'worker' or 'supervisor', got ${describe(spec.type)}`, context);
  }
  const shutdown = spec.shutdown;
  if (shutdown !== undefined) {
    if (shutdown === 'infinity') {
      if (type === 'worker') {
        return invalidChildSpec(`${where}: shutdown 'infinity' is only allowed for supervisors (a worker must have a deadline); use a number of ms or 'brutal'`, context);
      }
    } else if (shutdown !== 'brutal' && !(typeof shutdown === 'number' && shutdown >= 0 && Number.isFinite(shutdown))) {
      return invalidChildSpec(`${where}: shutdown must be a number of ms >= 0, 'brutal' or 'infinity', got ${describe(shutdown)}`, context);
    }
  }
  if (spec.startTimeoutMs !== undefined && !(typeof spec.startTimeoutMs === 'number' && spec.startTimeoutMs > 0)) {
    return invalidChildSpec(`${where}: startTimeoutMs must be a number > 0, got ${describe(spec.startTimeoutMs)}`, context);
  }
  const backoff = spec.backoff;
  if (backoff !== undefined) {
    if (backoff === null || typeof backoff !== 'object') return invalidChildSpec(`${where}: backoff must be an object, got ${describe(backoff)}`, context);
    const { initialMs, factor, maxMs, jitter } = backoff;
    if (initialMs !== undefined && !(typeof initialMs === 'number' && initialMs >= 0)) {
      return invalidChildSpec(`${where}: backoff.initialMs must be a number >= 0, got ${describe(initialMs)}`, context);
    }
    if (factor !== undefined && !(typeof factor === 'number' && factor >= 1)) {
      return invalidChildSpec(`${where}: backoff.factor must be a number >= 1, got ${describe(factor)}`, context);
    }
    if (maxMs !== undefined && !(typeof maxMs === 'number' && maxMs >= 0)) {
      return invalidChildSpec(`${where}: backoff.maxMs must be a number >= 0, got ${describe(maxMs)}`, context);
    }
    if (jitter !== undefined && !(typeof jitter === 'number' && jitter >= 0 && jitter <= 1)) {
      return invalidChildSpec(`${where}: backoff.jitter must be a number from 0 to 1, got ${describe(jitter)}`, context);
    }
  }
  return undefined;
}

/** The problem with a supervisor spec (including its initial children), or undefined. */
export function validateSupervisorSpec(spec: SupervisorSpec): SupervisionError | undefined {
  if (spec === null || typeof spec !== 'object') return invalidSpec(`a supervisor spec must be an object with an id, got ${describe(spec)}`);
  const { id } = spec;
  if (typeof id !== 'string' || id === '') return invalidSpec(`supervisor id must be a non-empty string, got ${describe(id)}`);
  const context = { supervisor: id };
  if (spec.strategy !== undefined && !STRATEGIES.has(spec.strategy)) {
    return invalidSpec(`supervisor '${id}': strategy must be 'one-for-one', 'one-for-all' or 'rest-for-one', got ${describe(spec.strategy)}`, context);
  }
  if (spec.intensity !== undefined && !(typeof spec.intensity === 'number' && spec.intensity >= 0 && (Number.isInteger(spec.intensity) || spec.intensity === Infinity))) {
    return invalidSpec(`supervisor '${id}': intensity must be an integer >= 0 (or Infinity), got ${describe(spec.intensity)}`, context);
  }
  if (spec.periodMs !== undefined && !(typeof spec.periodMs === 'number' && spec.periodMs > 0)) {
    return invalidSpec(`supervisor '${id}': periodMs must be a number > 0, got ${describe(spec.periodMs)}`, context);
  }
  if (spec.children !== undefined && !Array.isArray(spec.children)) {
    return invalidSpec(`supervisor '${id}': children must be an array of child specs, got ${describe(spec.children)}`, context);
  }
  const seen = new Set<string>();
  for (const child of spec.children ?? []) {
    const problem = validateChildSpec(child, id);
    if (problem !== undefined) return problem;
    if (seen.has(child.id)) return duplicateChild(id, child.id);
    seen.add(child.id);
  }
  return undefined;
}
