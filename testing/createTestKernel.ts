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
   * A node:test context whose `after` stops the kernel (the same as `createTestKernel(t, options)`).
   * Without one, stop it yourself or use `await using`.
   */
  readonly test?: TestContextLike;
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
 * Kernels created without a test context. Under the node:test runner they are
 * stopped when the test file's tests are done — a safety net so that a forgotten stop cannot keep the
 * file's process alive. The hook is registered once, when this module is first imported (at the top
 * of a test file, outside any test, so it attaches to the file itself); nothing here inspects
 * node:test's internals.
 */
const unowned = new Set<Kernel>();
if (process.env.NODE_TEST_CONTEXT !== undefined) {
  const { after } = await import('node:test');
  after(async () => {
    await Promise.allSettled([...unowned].map((kernel) => kernel.stop('test file finished')));
  });
}

/** What `createTestKernel` needs of a test context: node:test's `t` (or a suite's) fits. */
export interface TestContextLike {
  after(fn: () => unknown): void;
}

/**
 * Creates (and by default starts) a kernel for a test, stopped when the test ends:
 *
 * ```ts
 * test('greets', async (t) => {
 *   const kernel = await createTestKernel(t, { plugins: ['supervision', 'actors', greeter] });
 * });
 * ```
 *
 * Without a test context, use `await using kernel = await createTestKernel({ … })` (stopped when the
 * block ends) or call `kernel.stop()`; under `node --test`, one left running is stopped when the test
 * file's tests are done. Logs are silent unless `MISTER_SMITH_TEST_LOG=debug` (or another level) is
 * set.
 */
export async function createTestKernel(test: TestContextLike, options: TestKernelOptions): Promise<TestKernel>;
export async function createTestKernel(options: TestKernelOptions): Promise<TestKernel>;
export async function createTestKernel(first: TestContextLike | TestKernelOptions, second?: TestKernelOptions): Promise<TestKernel> {
  const options = second ?? (first as TestKernelOptions);
  const context = second !== undefined ? (first as TestContextLike) : options.test;
  if (options === undefined || !Array.isArray(options.plugins)) {
    throw new TypeError('createTestKernel(t, { plugins: [...] }): the options need a plugins array');
  }
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
  if (context !== undefined) context.after(() => kernel.stop('test finished'));
  else unowned.add(kernel); // stop() is idempotent: stopping an already stopped one at the end is harmless
  if (options.start ?? true) await kernel.start();
  return kernel;
}
