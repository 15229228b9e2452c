/**
 * The config file: its schema, how it is read (JSON or a TS/JS module) and how the environment
 * overrides it. Every problem is reported at once, each as `path: message`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError, isPlugin, type Plugin } from '../sdk/index.js';
import { importModule } from './importModule.js';
import { findUnknownKeys, formatUnknownKey } from './unknownKeys.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const pluginUse = z.union([
  z.string().min(1, 'must name a built-in plugin, an npm package or a path'),
  z.custom<Plugin>((value) => isPlugin(value), 'must be a plugin definition (made with definePlugin) or a string'),
]);

/** The object form of a `plugins` entry. */
export const PluginEntryObjectSchema = z.strictObject({
    use: pluginUse,
    /** Overrides the plugin's own name (to load one plugin twice under two names). */
    name: z.string().min(1).optional(),
    options: z.record(z.string(), z.unknown()).optional(),
    enabled: z.boolean().default(true),
    /** When true, a failure to start this plugin is reported as a fault and the kernel runs on. */
    optional: z.boolean().default(false),
});

/**
 * One entry of `plugins`: a name or path, a plugin definition (in a TS/JS config), or an object
 * with options. Strings and definitions are shorthands for `{ use }`.
 */
export const PluginEntrySchema = z.preprocess(normalizeEntry, PluginEntryObjectSchema);

/** A string or a plugin definition is shorthand for `{ use }`. */
export function normalizeEntry(entry: unknown): unknown {
  return typeof entry === 'string' || isPlugin(entry) ? { use: entry } : entry;
}
export type PluginEntry = string | Plugin | z.input<typeof PluginEntryObjectSchema>;

export const KernelConfigSchema = z.strictObject({
  /** A JSON Schema URL or path for editors (`mister-smith schema` writes one); ignored by the kernel. */
  $schema: z.string().optional(),
  name: z.string().min(1).default('mister-smith'),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** Human-readable lines; default: when stdout is a TTY. */
      pretty: z.boolean().optional(),
    })
    .default({ level: 'info' }),
  shutdownTimeoutMs: z.number().int().positive().default(30_000),
  startTimeoutMs: z.number().int().positive().default(30_000),
  plugins: z.array(PluginEntrySchema).default([]),
});

/** The config as written (defaults optional). */
export type KernelConfigInput = z.input<typeof KernelConfigSchema>;
/** The config after validation, defaults applied. */
export type KernelConfig = z.output<typeof KernelConfigSchema>;

/** A config with where it came from, so relative paths resolve against its folder. */
export interface LoadedConfig extends KernelConfigInput {
  /** Absolute path of the file it was read from, if any. */
  readonly configPath?: string;
}

/**
 * Formats zod issues as `path: message`, paths written like `plugins[2].options.mailbox.capacity`,
 * and zod's type mismatches as DESIGN §2 writes them: `…capacity: expected number, received string`
 * (zod says `Invalid input: expected number, …`).
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.flatMap((issue) =>
    // One line per unknown key, at the key's own path: `plugins[0].optoins: unknown key`.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${formatPath([...prefix, ...issue.path, key])}: unknown key`)
      : [`${formatPath([...prefix, ...issue.path])}: ${issue.message.replace(/^Invalid input: (?=expected )/, '')}`],
  );
}

/** What `validate` returns: the parsed value, or every problem as `path: message`. */
export type Validation<T> = { readonly success: true; readonly data: T } | { readonly success: false; readonly problems: string[] };

/**
 * Parses `value` with `schema` and reports unknown keys everywhere — also in objects the schema
 * would strip — with a "did you mean" for near misses. An object schema that explicitly accepts
 * other keys (`z.looseObject`, `.passthrough()`, `.catchall()`) keeps doing so.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, prefix: readonly PropertyKey[] = []): Validation<z.output<S>> {
  const parsed = schema.safeParse(value);
  const unknown = findUnknownKeys(schema, value).map((k) => formatUnknownKey(k, prefix));
  // zod's own unknown-key issues (strict objects) are in `unknown` too, with a suggestion.
  const issues = parsed.success ? [] : formatIssues(parsed.error.issues.filter((i) => i.code !== 'unrecognized_keys'), prefix);
  const problems = [...issues, ...unknown];
  if (parsed.success && problems.length === 0) return { success: true, data: parsed.data };
  return { success: false, problems: problems.length > 0 ? problems : formatIssues(parsed.error!.issues, prefix) };
}

export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Reads a config file: `.json`, or a `.ts`/`.js`/`.mjs` module whose default export is the config
 * (or a function returning it). Environment overrides are applied (see `applyEnvOverrides`).
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const configPath = path.resolve(file);
  let raw: unknown;
  if (configPath.endsWith('.json')) {
    let text: string;
    try {
      text = await readFile(configPath, 'utf8');
    } catch (error) {
      throw new ConfigError('CONFIG_FILE_NOT_FOUND', `cannot read config file ${configPath}: ${(error as Error).message}`, [], { cause: error });
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError('CONFIG_PARSE_FAILED', `config file ${configPath} is not valid JSON: ${(error as Error).message}`, [], { cause: error });
    }
  } else {
    let mod: Record<string, unknown>;
    try {
      mod = await importModule(pathToFileURL(configPath).href);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' ? 'CONFIG_FILE_NOT_FOUND' : 'CONFIG_PARSE_FAILED';
      throw new ConfigError(code, `cannot load config module ${configPath}: ${(error as Error).message}`, [], { cause: error });
    }
    raw = mod.default;
    if (typeof raw === 'function') raw = await (raw as () => unknown)();
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('CONFIG_INVALID', `config file ${configPath} must hold an object`, ['(root): expected object']);
  }
  const withEnv = applyEnvOverrides(raw as Record<string, unknown>, env);
  return { ...(withEnv as KernelConfigInput), configPath };
}

const ENV_PREFIX = 'MISTER_SMITH__';

/**
 * Applies environment overrides to a raw config (returns a copy):
 * - `MISTER_SMITH_LOG_LEVEL=debug` sets `log.level`;
 * - `MISTER_SMITH__<A>__<B>…=value` sets the key path `a.b…`, with `__` between segments. Under
 *   `PLUGINS`, the next segment is a plugin name and the rest is a path in its options:
 *   `MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY=10`.
 * A segment matches an existing key case-insensitively, else it is camel-cased
 * (`SHUTDOWN_TIMEOUT_MS` → `shutdownTimeoutMs`). Values are parsed as JSON when they parse
 * (`10`, `true`, `["a"]`), else kept as strings.
 */
export function applyEnvOverrides(config: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = copyConfigData(config);
  const level = env.MISTER_SMITH_LOG_LEVEL;
  if (level !== undefined && level !== '') {
    const log = isRecord(out.log) ? out.log : (out.log = {});
    (log as Record<string, unknown>).level = level;
  }
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const segments = key.slice(ENV_PREFIX.length).split('__').filter((s) => s !== '');
    if (segments.length === 0) continue;
    const parsed = parseEnvValue(value);
    if (segments[0]!.toLowerCase() === 'plugins' && segments.length >= 2) {
      // `PLUGINS__<NAME>` alone names no option; writing it as a key path would replace the
      // plugin list with an object.
      if (segments.length >= 3) setPluginOption(out, segments[1]!, segments.slice(2), parsed);
    } else {
      setPath(out, segments, parsed);
    }
  }
  return out;
}

function copyConfigData(config: Record<string, unknown>): Record<string, unknown> {
  // Plugin definitions inside a TS config are objects with functions: copy plain data only.
  const copy = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copy);
    if (isRecord(value) && !isPlugin(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
    }
    return value;
  };
  return copy(config) as Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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

function keyFor(target: Record<string, unknown>, segment: string): string {
  const lower = segment.toLowerCase();
  const existing = Object.keys(target).find((k) => k.toLowerCase() === lower || k.toLowerCase() === lower.replace(/_/g, ''));
  return existing ?? camelCase(segment);
}

function setPath(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = keyFor(node, segments[i]!);
    if (!isRecord(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyFor(node, segments[segments.length - 1]!)] = value;
}

function setPluginOption(config: Record<string, unknown>, pluginSegment: string, rest: readonly string[], value: unknown): void {
  if (!Array.isArray(config.plugins)) config.plugins = [];
  const plugins = config.plugins as unknown[];
  const wanted = pluginSegment.toLowerCase().replace(/_/g, '-');
  const index = plugins.findIndex((entry) => entryName(entry)?.toLowerCase() === wanted);
  if (index === -1) return; // an override for a plugin the config does not load has nothing to change
  let entry = plugins[index];
  // A string or an inline plugin definition is shorthand for `{ use }`: expand it, or the options
  // would be written onto the definition itself (whose `options` is its zod schema).
  if (typeof entry === 'string' || isPlugin(entry)) entry = plugins[index] = { use: entry };
  const record = entry as Record<string, unknown>;
  if (!isRecord(record.options)) record.options = {};
  setPath(record.options as Record<string, unknown>, rest, value);
}

/** The name an entry is known by before its module is imported: explicit name, or the short name. */
function entryName(entry: unknown): string | undefined {
  if (typeof entry === 'string') return shortName(entry);
  if (!isRecord(entry)) return undefined;
  if (typeof entry.name === 'string') return entry.name;
  if (typeof entry.use === 'string') return shortName(entry.use);
  if (isPlugin(entry.use)) return entry.use.name;
  return undefined;
}

/** `./plugins/greeter.ts` → `greeter`; `./greeter/index.ts` → `greeter` (the folder names it). */
function shortName(use: string): string {
  const base = path.basename(use).replace(/\.(ts|js|mjs)$/, '');
  return base === 'index' ? path.basename(path.dirname(use)) : base;
}
