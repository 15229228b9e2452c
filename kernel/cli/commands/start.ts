import { ConfigError } from '../../../sdk/index.js';
import { createKernel } from '../../createKernel.js';
import type { Kernel } from '../../Kernel.js';
import { EXIT, printError, type Io } from '../io.js';
import type { ProcessGuard } from '../ProcessGuard.js';
import { readConfig } from '../readConfig.js';
import type { CliCommand } from './CliCommand.js';

/** `mister-smith start [config] [--once]`. */
export const startCommand: CliCommand = {
  name: 'start',
  summary: 'start the system (until SIGINT/SIGTERM, or with --once until its work is done)',
  usage: 'start [config] [--once]',
  details: [
    '--once   stop gracefully when all work plugins handed to ctx.track has settled;',
    '         exit 1 if any of it failed',
  ],
  options: { once: { type: 'boolean' } },
  maxPositionals: 1,
  async run({ values, positionals }, io, guard) {
    let kernel: Kernel;
    try {
      kernel = await createKernel({ config: await readConfig(configArg(values, positionals)) });
    } catch (error) {
      printError(io, error);
      return error instanceof ConfigError ? EXIT.usage : EXIT.failure;
    }
    return runKernel(kernel, values.once === true, io, guard);
  },
};

export function configArg(values: Record<string, unknown>, positionals: readonly string[]): string | undefined {
  return (values.config as string | undefined) ?? positionals[0];
}

/** Starts `kernel` and waits until it stops (or, with `once`, until its tracked work settled). */
export async function runKernel(kernel: Kernel, once: boolean, io: Io, guard: ProcessGuard): Promise<number> {
  // Keep the process alive while the kernel runs, even if no plugin holds a handle.
  const keepAlive = setInterval(() => {}, 1 << 30);
  guard.attach(kernel);
  const stopped = new Promise<void>((resolve) => kernel.hooks.stopped.tap('cli', () => resolve()));
  try {
    try {
      await kernel.start();
    } catch (error) {
      printError(io, error);
      return guard.exitRequested ?? EXIT.failure;
    }
    let code: number = EXIT.ok;
    if (once) {
      const failures = await Promise.race([kernel.settled(), stopped.then(() => 0)]);
      const report = await kernel.stop('all tracked work settled (--once)');
      if (failures > 0 || report.errors.length > 0) code = EXIT.failure;
    } else {
      await stopped;
      const report = await kernel.stop();
      if (report.errors.length > 0) code = EXIT.failure;
    }
    return guard.exitRequested ?? (kernel.exitCode !== 0 ? kernel.exitCode : code);
  } finally {
    clearInterval(keepAlive);
    guard.detach(kernel);
  }
}
