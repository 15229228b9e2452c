import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../sdk/index.js';
import { loadConfig, type KernelConfig, type LoadedConfig } from '../config.js';
import { envOverridesOf, withEnvOverrides } from '../envOverrides.js';
import { loadPlugins, type ResolvedPlugin, type SkippedPlugin } from '../loader.js';
import { KernelErrorCodes } from '../errors.js';

export const DEFAULT_CONFIG_NAMES = ['mister-smith.config.json', 'mister-smith.config.ts', 'mister-smith.config.js', 'mister-smith.config.mjs'];

/** The config file given, else the first default name present in `cwd`. */
export function findConfig(given: string | undefined, cwd = process.cwd()): string | undefined {
  if (given !== undefined) return path.resolve(cwd, given);
  return DEFAULT_CONFIG_NAMES.map((n) => path.resolve(cwd, n)).find((p) => existsSync(p));
}

/** Reads the config file given (or the default one); a missing file is a `ConfigError`. */
export async function readConfig(file: string | undefined): Promise<LoadedConfig & { readonly configPath: string }> {
  const configPath = findConfig(file);
  if (configPath === undefined) {
    throw new ConfigError(KernelErrorCodes.CONFIG_FILE_NOT_FOUND, `no config file given and none of ${DEFAULT_CONFIG_NAMES.join(', ')} in ${process.cwd()}`);
  }
  return (await loadConfig(configPath)) as LoadedConfig & { readonly configPath: string };
}

/** A config read and its plugins loaded and checked: what every command that runs plugins needs. */
export interface LoadedSystem {
  /** The config as read (environment overrides applied), before validation. */
  readonly raw: LoadedConfig & { readonly configPath: string };
  readonly configPath: string;
  readonly configDir: string;
  readonly config: KernelConfig;
  /** In start order. */
  readonly plugins: readonly ResolvedPlugin[];
  /** Optional plugins left out because they are not installed. */
  readonly skipped: readonly SkippedPlugin[];
}

/** Reads a config and loads its plugins; throws a `ConfigError` listing every problem. */
export async function loadSystem(file: string | undefined): Promise<LoadedSystem> {
  const raw = await readConfig(file);
  const configDir = path.dirname(raw.configPath);
  const { plugins, problems, config, skipped } = await loadPlugins(withoutPath(raw), configDir);
  if (problems.length > 0) {
    throw new ConfigError(KernelErrorCodes.CONFIG_INVALID, `invalid configuration in ${raw.configPath} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`, problems, {
      context: { configPath: raw.configPath },
    });
  }
  return { raw, configPath: raw.configPath, configDir, config, plugins, skipped };
}

export function withoutPath(config: LoadedConfig): Omit<LoadedConfig, 'configPath'> {
  const { configPath: _omit, ...rest } = config;
  return withEnvOverrides(rest, envOverridesOf(config));
}
