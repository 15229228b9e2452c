import type { PluginEntry } from '../../../kernel/config.js';
import type { ActorSystem } from '../../../plugins/actors/types.js';
import { createTestKernel, type TestKernel } from '../../../testing/index.js';

export interface Harness {
  readonly kernel: TestKernel;
  readonly actors: ActorSystem;
}

/** No restart delay, so tests that crash actors do not wait on backoff timers. */
export const FAST_RESTART = { supervision: { backoff: { initialMs: 0, jitter: 0 } } };

/** A started kernel with supervision and actors (plus `extra` plugins), stopped after the test. */
export async function startActors(
  t: { after(fn: () => unknown): void },
  options: Record<string, unknown> = FAST_RESTART,
  extra: readonly PluginEntry[] = [],
): Promise<Harness> {
  const kernel = await createTestKernel({ plugins: ['supervision', { use: 'actors', options }, ...extra], test: t });
  return { kernel, actors: kernel.resolve('actors') };
}

/** Lets queued microtasks and one macrotask turn run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise plus its resolver, for gating async receives in tests. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
