import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { EventBus } from '../../../plugins/events/EventBus.js';
import type { PendingEvent } from '../../../plugins/events/stores/EventStore.js';
import type { EventBus as EventBusService, StoredEvent } from '../../../plugins/events/types.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { natsKernel, until } from './helpers.js';

const opts = skipWithoutNats();

function pending(type: string, data: unknown, id = ''): PendingEvent {
  return { id, sequence: 0, type, source: 'test', time: new Date().toISOString(), data };
}

test('append resolves with the stream sequence after the listener ran; a re-sent id is stored once', opts, async (t) => {
  const server = await startNats(t);
  const { nats } = await natsKernel(t, server.url);
  const store = nats.createEventStore({ stream: 'EV1' });
  const seen: StoredEvent[] = [];
  const report = await store.open((e) => seen.push(e));
  t.after(() => store.close());
  assert.deepEqual(report, { firstSequence: 1, lastSequence: 0, repairs: [] });
  const a = pending('order.placed', { n: 1 });
  await store.append(a);
  assert.equal(a.sequence, 1);
  assert.match(a.id, /^[0-9a-f]{12}-1$/);
  assert.equal(seen.length, 1, 'the listener ran before append resolved');
  assert.equal(seen[0], a, 'the listener got the very object appended');
  const again = pending('order.placed', { n: 1 }, a.id);
  await store.append(again);
  assert.equal(again.sequence, 1, 'a duplicate resolves to the original sequence');
  const jsm = await jetstreamManager(nats.client);
  assert.equal((await jsm.streams.info('EV1')).state.messages, 1, 'dedup by Nats-Msg-Id');
  assert.equal(store.lastSequence, 1);
  const b = pending('order.shipped', null);
  await store.append(b);
  assert.equal(b.sequence, 2);
  const pages = [];
  for await (const page of store.read({ from: 1 })) pages.push(...page);
  assert.deepEqual(pages.map((e) => [e.sequence, e.type, e.id]), [[1, 'order.placed', a.id], [2, 'order.shipped', b.id]]);
  assert.equal((await store.get(b.id))?.type, 'order.shipped');
  assert.equal(await store.get('nope-1'), undefined);
});

test('two nodes on one stream see one log in one order', opts, async (t) => {
  const server = await startNats(t);
  const n1 = await natsKernel(t, server.url);
  const n2 = await natsKernel(t, server.url);
  const s1 = n1.nats.createEventStore({ stream: 'SHARED' });
  const s2 = n2.nats.createEventStore({ stream: 'SHARED' });
  const seen1: StoredEvent[] = [];
  const seen2: StoredEvent[] = [];
  await s1.open((e) => seen1.push(e));
  await s2.open((e) => seen2.push(e));
  t.after(() => Promise.all([s1.close(), s2.close()]));
  const appends: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    appends.push(s1.append(pending('a.tick', i))!, s2.append(pending('b.tick', i))!);
  }
  await Promise.all(appends);
  await until(() => seen1.length === 100 && seen2.length === 100, 'both nodes to see all 100 events');
  assert.deepEqual(seen1.map((e) => e.id), seen2.map((e) => e.id), 'the same order on both nodes');
  assert.deepEqual(seen1.map((e) => e.sequence), Array.from({ length: 100 }, (_, i) => i + 1), 'gapless stream sequences');
});

test('through the EventBus: publish, live and durable subscribers, replay, get; positions persist in KV', opts, async (t) => {
  const server = await startNats(t);
  const { nats } = await natsKernel(t, server.url);
  const bus = new EventBus({ store: nats.createEventStore({ stream: 'BUS' }) });
  await bus.start();
  const live: number[] = [];
  bus.subscribe('job.*', (e) => void live.push(e.sequence));
  const durable: number[] = [];
  bus.subscribe('job.*', (e) => void durable.push(e.sequence), { durable: 'worker', from: 'earliest' });
  const published = await Promise.all([1, 2, 3].map((n) => bus.publish({ type: 'job.done', source: 'test', data: { n } })));
  assert.deepEqual(published.map((e) => e.sequence).sort(), [1, 2, 3]);
  await until(() => live.length === 3 && durable.length === 3, 'delivery');
  const replayed = [];
  for await (const e of bus.replay({ types: ['job.*'] })) replayed.push(e.sequence);
  assert.deepEqual(replayed, [1, 2, 3]);
  assert.equal((await bus.get(published[1]!.id))?.sequence, published[1]!.sequence);
  await bus.stop();

  // A second bus on the same stream resumes the durable subscription after the saved position.
  const bus2 = new EventBus({ store: nats.createEventStore({ stream: 'BUS' }) });
  await bus2.start();
  t.after(() => bus2.stop());
  const resumed: number[] = [];
  bus2.subscribe('job.*', (e) => void resumed.push(e.sequence), { durable: 'worker', from: 'earliest' });
  await bus2.publish({ type: 'job.done', source: 'test', data: { n: 4 } });
  await until(() => resumed.length === 1, 'the new event');
  assert.deepEqual(resumed, [4], 'events 1–3 were acknowledged before and are not redelivered');
});

test('an event over max_payload is refused with NATS_PAYLOAD_TOO_LARGE; bad store options are a config error', opts, async (t) => {
  const server = await startNats(t);
  const { nats } = await natsKernel(t, server.url);
  assert.throws(() => nats.createEventStore({ stream: 'bad.name' }), /stream: must be a stream name/);
  assert.throws(() => nats.createEventStore({ stream: 'X', subjectprefix: 'a' } as never), /subjectprefix/);
  const bus = new EventBus({ store: nats.createEventStore({ stream: 'BIG' }) });
  await bus.start();
  t.after(() => bus.stop());
  await assert.rejects(bus.publish({ type: 'blob.saved', source: 'test', data: 'x'.repeat(2 * 1024 * 1024) }), (err: Error & { cause?: Error & { code?: string } }) => {
    const chain = `${err.message} | ${err.cause?.message ?? ''} ${err.cause?.code ?? ''}`;
    assert.match(chain, /max_payload/);
    return true;
  });
  assert.equal(bus.lastSequence, 0, 'nothing stored');
});

test('a nats-server restart mid-traffic loses no acknowledged event', opts, async (t) => {
  const server = await startNats(t);
  const { nats } = await natsKernel(t, server.url);
  const bus = new EventBus({ store: nats.createEventStore({ stream: 'DURABLE', ackTimeoutMs: 1000 }) });
  await bus.start();
  t.after(() => bus.stop());
  const acked = new Set<string>();
  let failed = 0;
  let stop = false;
  const publishers = Array.from({ length: 8 }, async (_, p) => {
    for (let i = 0; !stop; i++) {
      try {
        const e = await bus.publish({ type: 'tick.sent', source: `p${p}`, data: { i } });
        acked.add(e.id);
      } catch {
        failed++;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  await until(() => acked.size >= 200, 'traffic before the restart');
  const before = acked.size;
  await server.restart();
  await until(() => acked.size >= before + 200, 'traffic after the restart');
  stop = true;
  await Promise.all(publishers);
  const stored = new Set<string>();
  for await (const e of bus.replay()) stored.add(e.id);
  const lost = [...acked].filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], `every acknowledged event survived (${acked.size} acknowledged, ${failed} publishes failed during the outage)`);
});

test('through the events plugin: { store: { type: "jetstream" } } makes two kernels share one log', opts, async (t) => {
  const server = await startNats(t);
  const events = { use: 'events', options: { store: { type: 'jetstream', stream: 'PLUGIN_LOG' } } } as const;
  const n1 = await natsKernel(t, server.url, {}, [events]);
  const n2 = await natsKernel(t, server.url, {}, [events]);
  const bus1 = n1.kernel.resolve<EventBusService>('events');
  const bus2 = n2.kernel.resolve<EventBusService>('events');
  const seenBy2: StoredEvent[] = [];
  bus2.subscribe('audit.*', (e) => void seenBy2.push(e), { durable: 'auditor' });
  const e1 = await bus1.publish({ type: 'audit.login', source: 'node1', data: { user: 'ann' } });
  const e2 = await bus2.publish({ type: 'audit.logout', source: 'node2', data: { user: 'ann' } });
  await until(() => seenBy2.length === 2, 'node 2 to see both events');
  assert.deepEqual(seenBy2.map((e) => [e.sequence, e.id]), [[e1.sequence, e1.id], [e2.sequence, e2.id]].sort((x, y) => (x[0] as number) - (y[0] as number)));
  await until(() => bus1.lastSequence === 2, 'node 1 to see node 2\'s event too');
  assert.equal((await bus1.get(e2.id))?.source, 'node2');
});
