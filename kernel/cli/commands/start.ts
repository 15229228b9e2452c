import { ConfigError } from '../../../sdk/index.js';
import { createLogger } from '../../createLogger.js';
import { Kernel } from '../../Kernel.js';
import { EXIT, printError, println, type Io } from '../io.js';
import type { ProcessGuard } from '../ProcessGuard.js';
import { loadSystem, type LoadedSystem } from '../readConfig.js';
import { finalSummary, startSummary } from '../summary.js';
import type { CliCommand } from './CliCommand.js';

/** `mister-smith start [config] [--once]`. */
export const startCommand: CliCommand = {
  name: 'start',
  summary: 'start the system (until SIGINT/SIGTERM, or with --once until its work is done)',
  usage: 'start [config] [--once]',
  details: [
    '--once   stop gracefully when all work plugins handed to ctx.track has settled;',
    '         exit 1 if any of it failed',
    'On a terminal: one line per log event, and a summary at start and at the end.',
  ],
  options: { once: { type: 'boolean' } },
  maxPositionals: 1,
  async run({ values, positionals }, io, guard) {
    let system: LoadedSystem;
    try {
      system = await loadSystem(configArg(values, positionals));
    } catch (error) {
      printError(io, error);
      return error instanceof ConfigError ? EXIT.usage : EXIT.failure;
    }
    const { config, plugins, configDir, skipped } = system;
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: config.name });
    const kernel = new Kernel({ config, plugins, configDir, logger, skipped });
    const human = config.log.pretty ?? (io.stdout as NodeJS.WriteStream).isTTY === true;
    return runKernel(kernel, values.once === true, io, guard, human ? system : undefined);
  },
};

export function configArg(values: Record<string, unknown>, positionals: readonly string[]): string | undefined {
  return (values.config as string | undefined) ?? positionals[0];
}

/**
 * Starts `kernel` and waits until it stops (or, with `once`, until its tracked work settled).
 * With `summarize` (a terminal), prints a summary after start and at the end.
 */
export async function runKernel(kernel: Kernel, once: boolean, io: Io, guard: ProcessGuard, summarize?: LoadedSystem): Promise<number> {
  // Keep the process alive while the kernel runs, even if no plugin holds a handle.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const began = performance.now();
  guard.attach(kernel);
  let reason = 'requested';
  const stopped = new Promise<void>((resolve) =>
    kernel.hooks.stopped.tap('cli', (info) => {
      reason = info.reason;
      resolve();
    }),
  );
  let code: number = EXIT.ok;
  let trackedFailures = 0;
  try {
    try {
      await kernel.start();
    } catch (error) {
      printError(io, error);
      code = guard.exitRequested ?? EXIT.failure;
      reason = 'start failed';
      return code;
    }
    if (summarize !== undefined) println(io.stdout, startSummary(kernel, summarize, performance.now() - began));
    if (once) {
      trackedFailures = await Promise.race([kernel.settled(), stopped.then(() => 0)]);
      const report = await kernel.stop('all tracked work settled (--once)');
      if (trackedFailures > 0 || report.errors.length > 0) code = EXIT.failure;
    } else {
      await stopped;
      const report = await kernel.stop();
      if (report.errors.length > 0) code = EXIT.failure;
    }
    code = guard.exitRequested ?? (kernel.exitCode !== 0 ? kernel.exitCode : code);
    return code;
  } finally {
    clearInterval(keepAlive);
    guard.detach(kernel);
    if (summarize !== undefined) println(io.stdout, finalSummary(kernel, summarize, { code, reason, ranMs: performance.now() - began, trackedFailures }));
  }
}
