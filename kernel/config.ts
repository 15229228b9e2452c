/**
 * The config file: its schema, how it is read (JSON or a TS/JS module) and how the environment
 * overrides it. Every problem is reported at once, each as `path: message`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError, isPlugin, type Plugin } from '../sdk/index.js';
import { applyEnvOverrides, ENV_OVERRIDES, envOverridesOf, withEnvOverrides, type EnvOverride } from './envOverrides.js';
import { importModule } from './importModule.js';
import { findUnknownKeys, formatUnknownKey } from './unknownKeys.js';
import { KernelErrorCodes } from './errors.js';
import { MAX_CONFIG_DEPTH, tooDeep } from './configDepth.js';

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
  /** The environment overrides read with it; the loader applies those for plugins, by plugin name. */
  readonly [ENV_OVERRIDES]?: readonly EnvOverride[];
}

/**
 * Formats zod issues as `path: message`, paths written like `plugins[2].options.mailbox.capacity`,
 * and zod's type mismatches in one readable form: `…capacity: expected number, received string`
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
      throw new ConfigError(KernelErrorCodes.CONFIG_FILE_NOT_FOUND, `cannot read config file ${configPath}: ${(error as Error).message}`, [], { cause: error });
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(KernelErrorCodes.CONFIG_PARSE_FAILED, `config file ${configPath} is not valid JSON: ${(error as Error).message}`, [], { cause: error });
    }
  } else {
    let mod: Record<string, unknown>;
    try {
      mod = await importModule(pathToFileURL(configPath).href);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' ? KernelErrorCodes.CONFIG_FILE_NOT_FOUND : KernelErrorCodes.CONFIG_PARSE_FAILED;
      throw new ConfigError(code, `cannot load config module ${configPath}: ${(error as Error).message}`, [], { cause: error });
    }
    raw = mod.default;
    if (typeof raw === 'function') raw = await (raw as () => unknown)();
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(KernelErrorCodes.CONFIG_INVALID, `config file ${configPath} must hold an object`, ['(root): expected object']);
  }
  const deep = tooDeep(raw);
  if (deep !== undefined) {
    throw new ConfigError(KernelErrorCodes.CONFIG_INVALID, `invalid configuration in ${configPath} (1 problem):`, [`${deep}: nested deeper than ${MAX_CONFIG_DEPTH} levels`]);
  }
  const withEnv = applyEnvOverrides(raw as Record<string, unknown>, env);
  return withEnvOverrides({ ...(withEnv as KernelConfigInput), configPath }, envOverridesOf(withEnv));
}
