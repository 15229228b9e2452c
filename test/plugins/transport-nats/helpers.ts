import { createTestKernel, type TestKernel } from '../../../testing/index.js';
import natsPlugin from '../../../plugins/transport-nats/index.js';
import type { NatsService } from '../../../plugins/transport-nats/types.js';
import type { PluginEntry } from '../../../kernel/config.js';

/** Polls a condition every few ms, bounded by a signal: waits for state, never for a fixed time. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, signal = AbortSignal.timeout(30_000)): Promise<void> {
  while (!(await cond())) {
    if (signal.aborted) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A kernel with the nats plugin (plus `plugins`) connected to `url`. */
export async function natsKernel(
  t: { after(fn: () => unknown): void },
  url: string,
  options: Record<string, unknown> = {},
  plugins: readonly PluginEntry[] = [],
): Promise<{ kernel: TestKernel; nats: NatsService }> {
  const kernel = await createTestKernel({
    plugins: [...plugins, { use: natsPlugin, options: { servers: url, reconnect: { backoff: { initialMs: 20, maxMs: 250 } }, ...options } }],
    test: t,
  });
  return { kernel, nats: kernel.resolve<NatsService>('nats') };
}
