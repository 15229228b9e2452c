/** The bus's metrics: counters it adds to, and gauges read from the store at scrape time. */
import type { Counter, Metrics } from '../../sdk/index.js';
import type { EventStore } from './stores/EventStore.js';
import type { BusCounters } from './SubscriberHost.js';

const NOOP_COUNTER: Counter = { inc() {} };

/** Registers the bus's metrics (no-op counters without `metrics`). `durableLags` is read on scrape. */
export function registerBusMetrics(
  m: Metrics | undefined,
  store: EventStore,
  durableLags: () => Iterable<readonly [string, number]>,
): { published: Counter; counters: BusCounters } {
  const published = m?.counter({ name: 'events_published_total', help: 'Events stored by publish, per type', labelNames: ['type'] }) ?? NOOP_COUNTER;
  const counters: BusCounters = {
    delivered: m?.counter({ name: 'events_delivered_total', help: 'Events a subscriber handled without error' }) ?? NOOP_COUNTER,
    failed: m?.counter({ name: 'events_failed_total', help: 'Handler invocations that threw, rejected or timed out' }) ?? NOOP_COUNTER,
    dropped: m?.counter({ name: 'events_dropped_total', help: 'Events a live subscriber dropped because its queue was full (they stay in the store)' }) ?? NOOP_COUNTER,
    deadLettered: m?.counter({ name: 'events_dead_lettered_total', help: 'Events a durable subscription gave up on after maxDeliver attempts' }) ?? NOOP_COUNTER,
  };
  if (m !== undefined) {
    const bytes = m.gauge({ name: 'event_store_bytes', help: 'Bytes the event store occupies', collect: () => bytes.set(store.bytes) });
    const last = m.gauge({ name: 'event_store_last_sequence', help: 'Last stored sequence', collect: () => last.set(store.lastSequence) });
    const lag = m.gauge({
      name: 'events_durable_lag',
      help: 'Committed events a durable subscription has not handled yet',
      labelNames: ['subscription'],
      collect: () => {
        for (const [subscription, n] of durableLags()) lag.set({ subscription }, n);
      },
    });
  }
  return { published, counters };
}
