/**
 * Environment overrides of a config:
 * - `MISTER_SMITH_LOG_LEVEL=debug` (any case) sets `log.level`;
 * - `MISTER_SMITH__<A>__<B>…=value` sets the key path `a.b…` of the config, `__` between segments;
 * - `MISTER_SMITH__PLUGINS__<NAME>__<A>…=value` sets option `a…` of the plugin named NAME — its
 *   `name` in the config, else the plugin's own name (known only once its module is imported, so
 *   the loader applies these). An override that matches no plugin is an error.
 * A segment matches a known key case-insensitively (underscores ignored), else it is camel-cased
 * (`SHUTDOWN_TIMEOUT_MS` → `shutdownTimeoutMs`). Values are parsed as JSON when they parse (`10`,
 * `true`, `["a"]`), else kept as strings. A problem with a value set this way names the variable.
 */
import type { z } from 'zod';
import { isPlugin } from '../sdk/index.js';
import { isPlainObject } from './merge.js';

/** Key under which a config carries its overrides to the loader (a hidden symbol: no schema sees it). */
export const ENV_OVERRIDES: unique symbol = Symbol.for('mister-smith.envOverrides') as never;

export interface EnvOverride {
  /** The environment variable, e.g. `MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY`. */
  readonly variable: string;
  /** For a plugin option: the plugin-name segment as written (`ACTORS`). */
  readonly plugin?: string;
  /** Segments after the prefix (top level) or after the plugin name (options), as written. */
  readonly segments: readonly string[];
  readonly value: unknown;
  /** For a top-level override: the config path it set, to name the variable in problems. */
  readonly path?: readonly string[];
}

const ENV_PREFIX = 'MISTER_SMITH__';
const LOG_LEVEL_VARIABLE = 'MISTER_SMITH_LOG_LEVEL';

/**
 * Applies the top-level overrides to a copy of `config` and attaches the plugin ones (under
 * `ENV_OVERRIDES`) for the loader, which knows plugin names.
 */
export function applyEnvOverrides(config: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = copyConfigData(config);
  const overrides: EnvOverride[] = [];
  const level = env[LOG_LEVEL_VARIABLE];
  if (level !== undefined && level !== '') {
    const log = isPlainObject(out.log) ? out.log : (out.log = {});
    (log as Record<string, unknown>).level = level.trim().toLowerCase();
    overrides.push({ variable: LOG_LEVEL_VARIABLE, segments: [], value: level, path: ['log', 'level'] });
  }
  for (const [variable, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const segments = variable.slice(ENV_PREFIX.length).split('__').filter((s) => s !== '');
    if (segments.length === 0) continue;
    const value = parseEnvValue(raw);
    if (segments[0]!.toLowerCase() === 'plugins' && segments.length >= 2) {
      overrides.push({ variable, plugin: segments[1]!, segments: segments.slice(2), value });
    } else {
      overrides.push({ variable, segments, value, path: setPath(out, segments, value, undefined) });
    }
  }
  return withEnvOverrides(out, [...envOverridesOf(config), ...overrides]);
}

/**
 * Attaches `overrides` to a config object. Non-enumerable, so a config compares and prints as the
 * data it is; code that copies a config passes them on with `withEnvOverrides(copy, envOverridesOf(original))`.
 */
export function withEnvOverrides<T extends object>(config: T, overrides: readonly EnvOverride[]): T {
  if (overrides.length > 0) Object.defineProperty(config, ENV_OVERRIDES, { value: overrides, enumerable: false, configurable: true });
  return config;
}

/** The overrides a config carries. */
export function envOverridesOf(config: unknown): readonly EnvOverride[] {
  return (config as { [ENV_OVERRIDES]?: readonly EnvOverride[] } | null)?.[ENV_OVERRIDES] ?? [];
}

/** How an env segment names a plugin: case and `-`/`_`/`.` do not matter. */
export function pluginKey(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, '_');
}

/**
 * Applies the overrides for one plugin to a copy of its raw options, mapping each segment to the
 * schema's keys. Returns the options and, per variable, the option path it set.
 */
export function applyPluginOverrides(
  options: Record<string, unknown>,
  overrides: readonly EnvOverride[],
  schema: z.core.$ZodType | undefined,
): { options: Record<string, unknown>; applied: Array<{ variable: string; path: string[] }> } {
  const out = copyConfigData(options);
  const applied = overrides.map((o) => ({ variable: o.variable, path: setPath(out, o.segments, o.value, schema) }));
  return { options: out, applied };
}

/**
 * `problem` with ` (from VARIABLE)` when its path is at or under a path an override set. `prefix`
 * is the formatted path the override paths are relative to (`plugins[2].options`).
 */
export function nameVariable(problem: string, applied: ReadonlyArray<{ variable: string; path: readonly string[] }>, prefix: readonly PropertyKey[], format: (p: readonly PropertyKey[]) => string): string {
  for (const { variable, path } of applied) {
    const at = format([...prefix, ...path]);
    if (problem.startsWith(`${at}:`) || problem.startsWith(`${at}.`) || problem.startsWith(`${at}[`)) return `${problem} (from ${variable})`;
  }
  return problem;
}

function copyConfigData(config: Record<string, unknown>): Record<string, unknown> {
  // Plugin definitions inside a TS config are objects with functions: copy plain data only.
  const copy = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copy);
    if (isPlainObject(value) && !isPlugin(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
    return value;
  };
  return copy(config) as Record<string, unknown>;
}

function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function camelCase(segment: string): string {
  const parts = segment.toLowerCase().split('_').filter((p) => p !== '');
  return parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
}

const squash = (key: string): string => key.toLowerCase().replace(/_/g, '');

/** The key an env segment names: one the schema or the config already has, else camel-cased. */
function keyFor(target: Record<string, unknown>, segment: string, known: readonly string[]): string {
  const wanted = squash(segment);
  return known.find((k) => squash(k) === wanted) ?? Object.keys(target).find((k) => squash(k) === wanted) ?? camelCase(segment);
}

/** Sets `segments` in `target` (creating objects on the way); returns the keys it used. */
function setPath(target: Record<string, unknown>, segments: readonly string[], value: unknown, schema: z.core.$ZodType | undefined): string[] {
  const keys: string[] = [];
  let node = target;
  let nodeSchema = schema;
  segments.forEach((segment, i) => {
    const shape = objectShape(nodeSchema);
    const key = keyFor(node, segment, Object.keys(shape ?? {}));
    keys.push(key);
    nodeSchema = shape?.[key];
    if (i === segments.length - 1) node[key] = value;
    else {
      if (!isPlainObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
  });
  return keys;
}

interface Def {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** The shape of the object a schema describes, through optional/default/pipe wrappers. */
function objectShape(schema: z.core.$ZodType | undefined): Record<string, z.core.$ZodType> | undefined {
  for (let s = schema, i = 0; s !== undefined && i < 20; i++) {
    const def = (s as unknown as { _zod: { def: Def } })._zod.def;
    if (def.type === 'object') return def.shape as Record<string, z.core.$ZodType>;
    if (def.type === 'pipe') s = def.in as z.core.$ZodType;
    else if (def.type === 'lazy') s = (def.getter as () => z.core.$ZodType)();
    else s = def.innerType as z.core.$ZodType | undefined;
  }
  return undefined;
}
