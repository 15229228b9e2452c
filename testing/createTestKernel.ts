import type { Logger } from 'pino';
import pino from 'pino';
import { createKernel } from '../kernel/createKernel.js';
import type { KernelConfigInput, PluginEntry } from '../kernel/config.js';
import type { Kernel } from '../kernel/Kernel.js';
import { MemoryMetricsBackend } from './MemoryMetricsBackend.js';

export interface TestKernelOptions {
  /** Plugin entries as in a config file: short names, paths, definitions, `{ use, options }`. */
  readonly plugins: readonly PluginEntry[];
  /** Anything else of the config (timeouts, name, log). */
  readonly config?: Omit<KernelConfigInput, 'plugins'>;
  /** Start the kernel before returning (default true). */
  readonly start?: boolean;
  /**
   * A node:test context: the kernel is stopped in its `after`. Without one, under `node --test`
   * the kernel is stopped after the test that created it (node:test's `after`, which attaches to
   * the running test, or to the file when called outside a test); elsewhere stop it yourself
   * (or use `await using kernel = await createTestKernel(…)`).
   */
  readonly test?: { after(fn: () => unknown): void };
  /** Where relative plugin paths resolve (default: cwd). */
  readonly configDir?: string;
  /** A logger; default: silent, or JSON to stdout at the level in `MISTER_SMITH_TEST_LOG`. */
  readonly logger?: Logger;
}

/** A kernel for tests, with an in-memory metrics backend attached. */
export type TestKernel = Kernel & {
  /** Every facade metric, readable in assertions. */
  readonly recordedMetrics: MemoryMetricsBackend;
  [Symbol.asyncDispose](): Promise<void>;
};

/**
 * Creates (and by default starts) a kernel for a test. Logs are silent unless
 * `MISTER_SMITH_TEST_LOG=debug` (or another level) is set.
 */
export async function createTestKernel(options: TestKernelOptions): Promise<TestKernel> {
  const level = process.env.MISTER_SMITH_TEST_LOG;
  const logger = options.logger ?? pino({ level: level !== undefined && level !== '' ? level : 'silent' });
  const kernel = (await createKernel({
    config: { name: 'test', shutdownTimeoutMs: 5_000, startTimeoutMs: 5_000, ...options.config, plugins: [...options.plugins] },
    ...(options.configDir !== undefined ? { configDir: options.configDir } : {}),
    logger,
  })) as TestKernel;
  const recorded = new MemoryMetricsBackend();
  kernel.hooks.metricsBackend.call(recorded);
  Object.defineProperty(kernel, 'recordedMetrics', { value: recorded });
  Object.defineProperty(kernel, Symbol.asyncDispose, { value: async () => void (await kernel.stop('test finished')) });
  if (options.test !== undefined) options.test.after(() => kernel.stop('test finished'));
  else await stopAfterCurrentTest(() => kernel.stop('test finished'));
  if (options.start ?? true) await kernel.start();
  return kernel;
}

/**
 * DESIGN §3: a test kernel is "stopped after the test" even when no test context is passed. Done
 * with node:test's `after`, which attaches to the running test — but only when the caller is
 * plainly inside a test body: under the node:test runner (`node --test` sets NODE_TEST_CONTEXT;
 * anywhere else `after` would start a TAP run in a plain script), and with a test, not a hook, as
 * the innermost runner frame of the (async) stack (from a `before` hook, `after` would attach to
 * the hook and stop a kernel meant for the whole file). Otherwise nothing is registered: stop it
 * yourself, or pass `test`.
 */
async function stopAfterCurrentTest(stop: () => Promise<unknown>): Promise<void> {
  if (process.env.NODE_TEST_CONTEXT === undefined) return;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const runner = /at (?:async )?(\w+)\.run \(node:internal\/test_runner\//.exec(stack);
  if (runner?.[1] !== 'Test') return;
  const { after } = await import('node:test');
  after(async () => void (await stop()));
}
