/** Test doubles for supervised children: each start makes an incarnation the test can crash, end or stall. */
import { setImmediate as turn } from 'node:timers/promises';
import supervision from '../../../plugins/supervision/index.js';
import type { ChildContext, ChildHandle, ChildSpec, SupervisionService } from '../../../plugins/supervision/index.js';
import type { PluginEntry } from '../../../kernel/config.js';
import { createTestKernel, type TestKernel } from '../../../testing/index.js';

export interface TestIncarnation {
  readonly n: number;
  readonly ctx: ChildContext;
  /** Makes `exited` reject (a crash). */
  crash(error?: Error): void;
  /** Makes `exited` resolve (a normal exit). */
  exit(value?: unknown): void;
  readonly stopCalls: number;
  readonly ended: boolean;
}

export interface WorkerOptions {
  readonly restart?: ChildSpec['restart'];
  readonly shutdown?: ChildSpec['shutdown'];
  readonly backoff?: ChildSpec['backoff'];
  readonly startTimeoutMs?: number;
  /** Whether start number `n` (0-based) throws. */
  readonly failStart?: (n: number) => boolean;
  /** Return a promise from start instead of the handle. */
  readonly asyncStart?: boolean;
  /** `stop()` never resolves (a child that ignores its stop request). */
  readonly ignoreStop?: boolean;
  /** A shared log of `start:<id>` / `stop:<id>` lines. */
  readonly log?: string[];
}

export interface TestWorker {
  readonly spec: ChildSpec;
  readonly incarnations: TestIncarnation[];
  readonly starts: number;
  readonly current: TestIncarnation;
}

/** A child whose incarnations the test drives. Backoff defaults to none so that restarts are immediate. */
export function worker(id: string, options: WorkerOptions = {}): TestWorker {
  const incarnations: TestIncarnation[] = [];
  let starts = 0;
  const spec: ChildSpec = {
    id,
    ...(options.restart !== undefined ? { restart: options.restart } : {}),
    ...(options.shutdown !== undefined ? { shutdown: options.shutdown } : {}),
    ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
    backoff: options.backoff ?? { initialMs: 0, jitter: 0 },
    start(ctx) {
      const n = starts++;
      if (options.failStart?.(n)) throw new Error(`${id} start ${n} failed`);
      options.log?.push(`start:${id}`);
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const exited = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      let stopCalls = 0;
      let ended = false;
      const inc: TestIncarnation = {
        n,
        ctx,
        crash: (error = new Error(`${id} crashed`)) => {
          ended = true;
          reject(error);
        },
        exit: (value) => {
          ended = true;
          resolve(value);
        },
        get stopCalls() {
          return stopCalls;
        },
        get ended() {
          return ended;
        },
      };
      incarnations.push(inc);
      const handle: ChildHandle = {
        exited,
        stop: () => {
          stopCalls++;
          options.log?.push(`stop:${id}`);
          if (options.ignoreStop) return new Promise<void>(() => {});
          ended = true;
          resolve(undefined);
          return Promise.resolve();
        },
      };
      return options.asyncStart ? Promise.resolve(handle) : handle;
    },
  };
  return {
    spec,
    incarnations,
    get starts() {
      return starts;
    },
    get current() {
      return incarnations[incarnations.length - 1]!;
    },
  };
}

/**
 * Waits (real event-loop turns) until `condition` holds: at least `turns` turns and at least 5 s of
 * real time, so a restart behind a real 100 ms backoff is awaited on a fast machine too.
 */
export async function until(condition: () => boolean, what = 'condition', turns = 10_000): Promise<void> {
  const began = performance.now();
  for (let i = 0; i < turns || performance.now() - began < 5_000; i++) {
    if (condition()) return;
    await turn();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A started test kernel with the supervision plugin (plus `extra` plugins), stopped after the test. */
export async function kernelWithSupervision(
  t: { after(fn: () => unknown): void },
  options: Record<string, unknown> = {},
  extra: readonly PluginEntry[] = [],
): Promise<{ kernel: TestKernel; supervision: SupervisionService }> {
  const kernel = await createTestKernel({ plugins: [...extra, { use: supervision, options }], test: t });
  return { kernel, supervision: kernel.resolve('supervision') };
}
