import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../sdk/index.js';
import type { KernelConfigInput, LoadedConfig } from './config.js';
import { createLogger } from './createLogger.js';
import { Kernel } from './Kernel.js';
import { envOverridesOf, withEnvOverrides } from './envOverrides.js';
import { loadPlugins } from './loader.js';
import { KernelErrorCodes } from './errors.js';

export interface CreateKernelOptions {
  /** A config object, or what `loadConfig(file)` returned. */
  readonly config: KernelConfigInput | LoadedConfig;
  /** Where relative plugin paths and option paths resolve; default: the config file's folder, else cwd. */
  readonly configDir?: string;
  /** Use this logger instead of creating one from `config.log`. */
  readonly logger?: Logger;
}

/**
 * Loads and checks every plugin of a config and returns a kernel in state `created`. Nothing with
 * side effects has run yet. Every problem found is in the thrown `ConfigError`'s `problems`.
 */
export async function createKernel(options: CreateKernelOptions): Promise<Kernel> {
  const configPath = (options.config as LoadedConfig).configPath;
  const configDir = options.configDir ?? (configPath !== undefined ? path.dirname(configPath) : process.cwd());
  const { configPath: _ignored, ...rest } = options.config as LoadedConfig;
  const raw = withEnvOverrides(rest, envOverridesOf(options.config));
  const { config, plugins, problems, skipped } = await loadPlugins(raw, configDir);
  if (problems.length > 0) {
    throw new ConfigError(
      KernelErrorCodes.CONFIG_INVALID,
      `invalid configuration${configPath !== undefined ? ` in ${configPath}` : ''} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
      problems,
      { context: { configPath } },
    );
  }
  const logger = options.logger ?? createLogger({ level: config.log.level, pretty: config.log.pretty, name: config.name });
  return new Kernel({ config, plugins, configDir, logger, skipped });
}
