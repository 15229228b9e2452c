/**
 * Unknown keys in a value, judged against a zod schema: every object schema is treated as strict
 * unless it explicitly accepts other keys (`z.looseObject`, `.passthrough()`, `.catchall(…)`), so a
 * typo in any plugin's options — built-in or third-party, nested or not — is an error, never a key
 * silently dropped. Walking the value beside the schema (rather than rebuilding the schema strict)
 * keeps the plugin's own schema, transforms and defaults exactly as written.
 */
import type { z } from 'zod';
import { didYouMean } from './didYouMean.js';
import { formatPath } from './config.js';

export interface UnknownKey {
  /** Path of the unknown key itself. */
  readonly path: readonly PropertyKey[];
  /** The known key it most likely meant. */
  readonly suggestion?: string;
}

type AnySchema = z.core.$ZodType;
interface Def {
  readonly type: string;
  readonly [key: string]: unknown;
}

const defOf = (schema: AnySchema): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every unknown key in `value` under `schema`, deepest paths included. */
export function findUnknownKeys(schema: AnySchema, value: unknown, path: readonly PropertyKey[] = [], depth = 0): UnknownKey[] {
  // Schemas can be recursive (z.lazy); a value deeper than any sane config stops the walk.
  if (depth > 200 || value === undefined) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return objectKeys(def, value, path, depth);
    case 'optional':
    case 'nullable':
      return value === null ? [] : findUnknownKeys(def.innerType as AnySchema, value, path, depth + 1);
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return findUnknownKeys(def.innerType as AnySchema, value, path, depth + 1);
    case 'lazy':
      return findUnknownKeys((def.getter as () => AnySchema)(), value, path, depth + 1);
    case 'pipe': {
      // z.preprocess: the input goes through a function first; what it makes of it is unknown here.
      const input = def.in as AnySchema;
      return defOf(input).type === 'transform' ? [] : findUnknownKeys(input, value, path, depth + 1);
    }
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => findUnknownKeys(def.element as AnySchema, v, [...path, i], depth + 1)) : [];
    case 'tuple': {
      if (!Array.isArray(value)) return [];
      const items = def.items as AnySchema[];
      const rest = def.rest as AnySchema | null | undefined;
      return value.flatMap((v, i) => {
        const item = items[i] ?? rest;
        return item ? findUnknownKeys(item, v, [...path, i], depth + 1) : [];
      });
    }
    case 'record':
      return isObject(value)
        ? Object.entries(value).flatMap(([k, v]) => findUnknownKeys(def.valueType as AnySchema, v, [...path, k], depth + 1))
        : [];
    case 'union':
      return unionKeys(def.options as AnySchema[], value, path, depth);
    case 'intersection': {
      // A key is unknown only when neither side knows it.
      const right = new Set(findUnknownKeys(def.right as AnySchema, value, path, depth + 1).map((k) => formatPath(k.path)));
      return findUnknownKeys(def.left as AnySchema, value, path, depth + 1).filter((k) => right.has(formatPath(k.path)));
    }
    default:
      return [];
  }
}

function objectKeys(def: Def, value: unknown, path: readonly PropertyKey[], depth: number): UnknownKey[] {
  if (!isObject(value)) return [];
  const shape = def.shape as Record<string, AnySchema>;
  const catchall = def.catchall as AnySchema | undefined;
  const out: UnknownKey[] = [];
  for (const [key, v] of Object.entries(value)) {
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (field !== undefined) out.push(...findUnknownKeys(field, v, [...path, key], depth + 1));
    else if (catchall === undefined || defOf(catchall).type === 'never') {
      const suggestion = didYouMean(key, Object.keys(shape).filter((k) => !Object.hasOwn(value, k)));
      out.push(suggestion === undefined ? { path: [...path, key] } : { path: [...path, key], suggestion });
    } else out.push(...findUnknownKeys(catchall, v, [...path, key], depth + 1));
  }
  return out;
}

function unionKeys(options: readonly AnySchema[], value: unknown, path: readonly PropertyKey[], depth: number): UnknownKey[] {
  // Judge by the branches that accept the value; the one that knows the most keys wins.
  let best: UnknownKey[] | undefined;
  for (const option of options) {
    if (!(option as unknown as z.ZodType).safeParse(value).success) continue;
    const keys = findUnknownKeys(option, value, path, depth + 1);
    if (best === undefined || keys.length < best.length) best = keys;
    if (best.length === 0) break;
  }
  return best ?? [];
}

/** `plugins[0].options.dney: unknown key (did you mean \`deny\`?)` */
export function formatUnknownKey(key: UnknownKey, prefix: readonly PropertyKey[] = []): string {
  return `${formatPath([...prefix, ...key.path])}: unknown key${key.suggestion !== undefined ? ` (did you mean \`${key.suggestion}\`?)` : ''}`;
}
