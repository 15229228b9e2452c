/** What the bus tells a health check: open, writable, the last write succeeded, durable lag in bounds. */
import { toError } from '../../sdk/index.js';
import type { EventStore } from './stores/EventStore.js';

/** What the bus reports to a health check. */
export interface BusHealth {
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/**
 * `unhealthy` when the bus is not open, the store cannot take writes, or the last publish failed to
 * write (until a write succeeds); `degraded` when a durable subscription lags more than `maxLag`.
 */
export async function busHealth(o: {
  readonly state: string;
  readonly store: EventStore;
  readonly durableLags: Iterable<readonly [string, number]>;
  readonly lastStoreError: Error | undefined;
  readonly maxLag: number;
}): Promise<BusHealth> {
  const durable: Record<string, number> = {};
  let worst = 0;
  for (const [name, lag] of o.durableLags) {
    durable[name] = lag;
    worst = Math.max(worst, lag);
  }
  const { store, maxLag, lastStoreError } = o;
  const details: Record<string, unknown> = { store: store.kind, lastSequence: store.lastSequence, bytes: store.bytes, durableLag: durable };
  if (o.state !== 'open') return { status: 'unhealthy', message: `event bus is ${o.state}`, details };
  try {
    await store.checkWritable();
  } catch (error) {
    return { status: 'unhealthy', message: `event store is not writable: ${toError(error).message}`, details };
  }
  if (lastStoreError !== undefined) {
    details.lastStoreError = lastStoreError.message;
    return { status: 'unhealthy', message: `the last publish failed to write: ${lastStoreError.message}`, details };
  }
  if (worst > maxLag) return { status: 'degraded', message: `a durable subscription is ${worst} events behind (limit ${maxLag})`, details };
  return { status: 'healthy', message: 'event store writable', details };
}
