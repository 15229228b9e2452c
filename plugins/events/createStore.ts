/** Turns the plugin's `store` option into a store instance. */
import path from 'node:path';
import type { Histogram } from '../../sdk/index.js';
import type { EventsOptions } from './options.js';
import type { EventStore } from './stores/EventStore.js';
import { FileStore } from './stores/FileStore.js';
import { MemoryStore } from './stores/MemoryStore.js';
import type { BusLogger } from './SubscriberHost.js';

/** Builds the store the options describe; a file store's `dir` resolves against `configDir`. */
export function createStore(options: EventsOptions['store'], configDir: string, logger?: BusLogger, fsyncSeconds?: Histogram): EventStore {
  if (options.type === 'memory') return new MemoryStore({ capacity: options.capacity });
  return new FileStore({
    dir: path.resolve(configDir, options.dir),
    fsync: options.fsync,
    segmentBytes: options.segmentBytes,
    maxBatchBytes: options.maxBatchBytes,
    batchDelayMs: options.batchDelayMs,
    retention: options.retention,
    ...(logger !== undefined ? { logger } : {}),
    ...(fsyncSeconds !== undefined ? { onSync: (s: number) => fsyncSeconds.observe(s) } : {}),
  });
}
