import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EventBus, FileStore, MemoryStore, type BusLogger, type EventBusOptions, type FileStoreOptions } from '../../../plugins/events/index.js';

/** A temp dir removed after the test. */
export async function tempDir(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-events-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface LogLine {
  readonly level: string;
  readonly obj: object;
  readonly msg: string;
}

/** A logger that remembers every line. */
export function recordingLogger(): BusLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A started bus over a memory store, stopped after the test. */
export async function memoryBus(t: { after(fn: () => unknown): void }, options: Partial<EventBusOptions> = {}): Promise<EventBus> {
  const bus = new EventBus({ store: new MemoryStore(), ...options });
  await bus.start();
  t.after(() => bus.stop());
  return bus;
}

/** A started bus over a file store in `dir`, stopped after the test. */
export async function fileBus(
  t: { after(fn: () => unknown): void },
  dir: string,
  store: Partial<FileStoreOptions> = {},
  options: Partial<EventBusOptions> = {},
): Promise<EventBus> {
  const bus = new EventBus({ store: new FileStore({ dir, ...store }), ...options });
  await bus.start();
  t.after(() => bus.stop());
  return bus;
}

/** Resolves after the current microtasks and one macrotask turn. */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it is true (or fails after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(2);
  }
}
