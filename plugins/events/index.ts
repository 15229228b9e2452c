/**
 * The events plugin: provides the `events` service, an EventBus over a
 * memory or file store. This file declares the plugin and lists what the folder exports.
 */
import { definePlugin } from '../../sdk/index.js';
import { createStore } from './createStore.js';
import { EventBus } from './EventBus.js';
import { eventsOptions } from './options.js';
import type { EventStoreFactory } from './stores/EventStore.js';

export { createStore } from './createStore.js';
export { EventBus } from './EventBus.js';
export type { BusHealth, EventBusOptions } from './EventBus.js';
export { MemoryStore } from './stores/MemoryStore.js';
export type { MemoryStoreOptions } from './stores/MemoryStore.js';
export { FileStore } from './stores/FileStore.js';
export type { FileStoreOptions, FsyncMode } from './stores/FileStore.js';
export type { CommitListener, EventStore, EventStoreFactory, JetStreamStoreConfig, OpenReport, PendingEvent, ReadRange, RepairRecord } from './stores/EventStore.js';
export { compilePattern, matchesPattern } from './patterns.js';
export type { PatternMatcher } from './patterns.js';
export { toCloudEvent, fromCloudEvent } from './cloudevents.js';
export type { CloudEvent } from './cloudevents.js';
export { EVENT_ERROR_CODES } from './errors.js';
export type { EventErrorCode } from './errors.js';
export { eventsOptions } from './options.js';
export type { EventsOptions, EventsOptionsInput, JetStreamStoreOptions } from './options.js';
export type { BusLogger } from './SubscriberHost.js';
export { DEAD_LETTER_TYPE } from './types.js';
export type {
  DeadLetterData,
  EventBus as EventBusService,
  EventFilter,
  EventHandler,
  EventInput,
  OverflowPolicy,
  ReplayQuery,
  RequestOptions,
  StoredEvent,
  SubscribeOptions,
  Subscription,
} from './types.js';

export default definePlugin({
  name: 'events',
  version: '1.0.0',
  description: 'Event bus with a durable, replayable event log (memory, file or JetStream store)',
  // nats: the `jetstream` store type is built by its service.
  optionalDependsOn: ['health', 'nats'],
  options: eventsOptions,
  setup(ctx) {
    const o = ctx.options;
    const fsyncSeconds = ctx.metrics.histogram({
      name: 'event_store_fsync_seconds',
      help: 'Duration of each fsync of the file store (one per group-commit batch)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    });
    // Resolved in setup: nats (an optional dependency) has run its setup by now when it is loaded.
    const remote = o.store.type === 'jetstream' ? ctx.tryResolve<EventStoreFactory>('nats' as string) : undefined;
    const store = createStore(o.store, ctx.configDir, ctx.logger, fsyncSeconds, remote);
    const bus = new EventBus({
      store,
      logger: ctx.logger,
      metrics: ctx.metrics,
      source: ctx.name,
      subscriber: o.subscriber,
      durable: o.durable,
      request: o.request,
      onFault: (error, context) => void ctx.reportFault({ error, source: ctx.name, severity: 'medium', context }),
    });
    ctx.provide('events', bus);
    let unregister: (() => void) | undefined;
    ctx.onStart(async () => {
      await bus.start();
      // Looked up at start, not in setup: health and events may each optionally depend on the
      // other, and by now every plugin's setup has run whatever the order.
      unregister = ctx.tryResolve('health')?.register('events', async () => bus.health(o.health.maxLag), { kind: 'ready', critical: true });
    });
    ctx.onStop(async (signal) => {
      unregister?.();
      unregister = undefined;
      await bus.stop(signal);
    });
  },
});
