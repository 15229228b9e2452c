/** Turns the plugin's `store` option into a store instance. */
import path from 'node:path';
import { EventError, type Histogram } from '../../sdk/index.js';
import { EVENT_ERROR_CODES } from './errors.js';
import type { EventsOptions } from './options.js';
import type { EventStore, EventStoreFactory } from './stores/EventStore.js';
import { FileStore } from './stores/FileStore.js';
import { MemoryStore } from './stores/MemoryStore.js';
import type { BusLogger } from './SubscriberHost.js';

/**
 * Builds the store the options describe; a file store's `dir` resolves against `configDir`. The
 * `jetstream` type needs `remote`, the service that builds it (the `nats` plugin's), and fails with
 * `EVENT_STORE_UNAVAILABLE` without one.
 */
export function createStore(
  options: EventsOptions['store'],
  configDir: string,
  logger?: BusLogger,
  fsyncSeconds?: Histogram,
  remote?: EventStoreFactory,
): EventStore {
  if (options.type === 'memory') return new MemoryStore({ capacity: options.capacity });
  if (options.type === 'jetstream') {
    if (remote === undefined || typeof remote.createEventStore !== 'function') {
      throw new EventError(
        EVENT_ERROR_CODES.STORE_UNAVAILABLE,
        `events store type 'jetstream' needs the nats plugin: add { "use": "transport-nats" } (the plugin named nats) to the plugins of the config, or use the 'file' store`,
        { context: { store: 'jetstream' } },
      );
    }
    return remote.createEventStore({ ...options, type: 'jetstream', stream: options.stream, subjectPrefix: options.subjectPrefix });
  }
  return new FileStore({
    dir: path.resolve(configDir, options.dir),
    fsync: options.fsync,
    segmentBytes: options.segmentBytes,
    maxBatchBytes: options.maxBatchBytes,
    batchDelayMs: options.batchDelayMs,
    retention: options.retention,
    maxEventBytes: options.maxEventBytes,
    onCorruption: options.onCorruption,
    readOnly: options.readOnly,
    ...(logger !== undefined ? { logger } : {}),
    ...(fsyncSeconds !== undefined ? { onSync: (s: number) => fsyncSeconds.observe(s) } : {}),
  });
}
