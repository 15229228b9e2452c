import { inspect } from 'node:util';
import pino, { type Logger } from 'pino';
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
  extra: { logger?: Logger; configDir?: string } = {},
): Promise<{ kernel: TestKernel; nats: NatsService }> {
  const kernel = await createTestKernel({
    plugins: [...plugins, { use: natsPlugin, options: { servers: url, reconnect: { backoff: { initialMs: 20, maxMs: 250 } }, ...options } }],
    test: t,
    ...extra,
  });
  return { kernel, nats: kernel.resolve<NatsService>('nats') };
}

/** A pino logger at `trace` whose JSON lines are kept in `lines`, to assert what was (not) logged. */
export function captureLogs(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/**
 * Everything an error shows anywhere: its message, its cause chain and context, as `util.inspect`
 * renders them (what a log line or a crash report would print).
 */
export function errorText(error: unknown): string {
  return inspect(error, { depth: 10, showHidden: false });
}

/**
 * The NATS_CONNECT_FAILED error of a failed start: the kernel wraps a plugin's start error
 * (KERNEL_START_FAILED) with it as the cause.
 */
export function connectError(error: unknown): (Error & { code: string }) | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (e.code === 'NATS_CONNECT_FAILED') return e as Error & { code: string };
  }
  return undefined;
}
