import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import type { PluginEntry } from '../kernel/config.js';
import { createKernel } from '../kernel/createKernel.js';
import { builtinPluginNames } from '../kernel/loader.js';
import { MisterSmithError } from '../sdk/errors.js';
import type { Plugin } from '../sdk/plugin.js';
import { TestingErrorCodes } from './errors.js';

export interface ConformanceOptions {
  /** Options for the plugin under test (default: none, so its defaults must validate). */
  readonly options?: Record<string, unknown>;
  /**
   * Plugins it needs, as config entries (`'supervision'`, `{ use: 'http', options }`). Default: the
   * built-in plugins its `dependsOn` names, with their own required dependencies, on defaults (so
   * `checkPluginConformance(plugin)` works for a plugin that needs, say, `actors`).
   */
  readonly with?: readonly PluginEntry[];
  /** The stop deadline the plugin must meet (default 5 000 ms). */
  readonly shutdownTimeoutMs?: number;
  /** Runs between start and stop, to exercise the plugin before checking what it leaves behind. */
  readonly exercise?: (kernel: Awaited<ReturnType<typeof createKernel>>) => void | Promise<void>;
  /** How long to let handles close after stop before counting leaks (default 100 ms). */
  readonly settleMs?: number;
}

export interface ConformanceReport {
  readonly plugin: string;
  readonly problems: readonly string[];
  readonly startMs: number;
  readonly stopMs: number;
}

/** Thrown by `checkPluginConformance` with every problem found. */
export class ConformanceError extends MisterSmithError {
  readonly problems: readonly string[];
  constructor(plugin: string, problems: readonly string[]) {
    super(TestingErrorCodes.PLUGIN_NOT_CONFORMANT, `plugin '${plugin}' is not conformant:\n  - ${problems.join('\n  - ')}`, { kind: 'configuration' });
    this.problems = problems;
  }
}

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/**
 * The check every plugin should pass, built-in or third-party: its default options validate; it
 * starts and stops in a real kernel; stop meets its deadline; no work it tracked (`ctx.track`)
 * rejects or outlives the stop; and after stop it leaves no timers,
 * sockets, servers or other handles behind (`process.getActiveResourcesInfo()` before vs after).
 * Throws `ConformanceError` listing every problem; resolves to a report when all is well.
 */
export async function checkPluginConformance(plugin: Plugin, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const problems: string[] = [];
  if (plugin.options !== undefined) {
    const parsed = plugin.options.safeParse(options.options ?? {});
    if (!parsed.success) {
      problems.push(`options ${options.options ? 'given' : '(defaults)'} do not validate: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      throw new ConformanceError(plugin.name, problems);
    }
  }
  // process.stdout/stderr are created lazily, on first use (a pipe or TTY handle): make sure they
  // exist before counting, or the kernel's first log line reads as a leaked PipeWrap/TTYWrap.
  void process.stdout;
  void process.stderr;
  const before = countResources();
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
  const kernel = await createKernel({
    config: {
      name: `conformance-${plugin.name}`,
      shutdownTimeoutMs,
      startTimeoutMs: 10_000,
      plugins: [...(options.with ?? (await builtinDependencies(plugin))), { use: plugin, options: options.options ?? {} }],
    },
    logger: pino({ level: process.env.MISTER_SMITH_TEST_LOG || 'silent' }),
  });
  const startBegan = performance.now();
  try {
    await kernel.start();
  } catch (error) {
    problems.push(`start failed: ${(error as Error).message}`);
    throw new ConformanceError(plugin.name, problems);
  }
  const startMs = performance.now() - startBegan;
  try {
    await options.exercise?.(kernel);
  } catch (error) {
    problems.push(`exercise failed: ${(error as Error).message}`);
  }
  const stopBegan = performance.now();
  const report = await kernel.stop('conformance check');
  const stopMs = performance.now() - stopBegan;
  for (const error of report.errors) {
    if ((error as MisterSmithError).code === 'KERNEL_STOP_TIMEOUT') problems.push(`missed its stop deadline: ${error.message}`);
    else problems.push(`stop failed: ${error.message}`);
  }
  // Work handed to ctx.track must not fail: a rejection there is a plugin bug the kernel only logs.
  try {
    const failed = await kernel.settled({ timeoutMs: shutdownTimeoutMs });
    if (failed > 0) problems.push(`${failed} piece(s) of tracked work (ctx.track) rejected; the kernel logged each as 'tracked work failed'`);
  } catch {
    problems.push(`tracked work (ctx.track) was still pending ${shutdownTimeoutMs} ms after stop`);
  }
  // Closing sockets and servers takes a turn or two of the loop; give handles a moment to go.
  const settleUntil = performance.now() + (options.settleMs ?? 100);
  let leaks: string[] = [];
  do {
    await delay(10);
    const after = countResources();
    leaks = [];
    for (const [type, count] of after) {
      const extra = count - (before.get(type) ?? 0);
      if (extra > 0) leaks.push(`${extra} × ${type}`);
    }
  } while (leaks.length > 0 && performance.now() < settleUntil);
  if (leaks.length > 0) problems.push(`left handles behind after stop: ${leaks.join(', ')}`);
  if (problems.length > 0) throw new ConformanceError(plugin.name, problems);
  return { plugin: plugin.name, problems, startMs, stopMs };
}

const MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The built-in plugins `plugin` requires, transitively (names the kernel loads on their defaults). */
async function builtinDependencies(plugin: Plugin): Promise<string[]> {
  const builtins = builtinPluginNames();
  const needed: string[] = [];
  const queue = [...(plugin.dependsOn ?? [])];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === plugin.name || needed.includes(name) || !builtins.includes(name)) continue;
    needed.push(name);
    const mod = (await import(new URL(`../plugins/${name}/index${MODULE_EXT}`, import.meta.url).href)) as { default?: Plugin };
    queue.push(...(mod.default?.dependsOn ?? []));
  }
  return needed;
}
