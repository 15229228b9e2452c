/**
 * `traceparent` on events: validated on publish, kept by both stores (a file store across close and
 * reopen, and for a read-only reader), and returned by get, replay, subscribe, byCorrelation and
 * request; a dead letter keeps the original's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEAD_LETTER_TYPE, EventBus, FileStore, MemoryStore, type StoredEvent } from '../../../plugins/events/index.js';
import { fileBus, memoryBus, tempDir, until } from './helpers.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TP2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
const NO_WAIT = { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 };

async function all(bus: EventBus, query: Parameters<EventBus['replay']>[0] = {}): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of bus.replay(query)) out.push(e);
  return out;
}

/** Publishes one traced and one untraced event and checks every read path returns them as published. */
async function checkReads(bus: EventBus): Promise<{ traced: StoredEvent; plain: StoredEvent }> {
  const seen: StoredEvent[] = [];
  const sub = bus.subscribe('job.*', (e) => void seen.push(e));
  const traced = await bus.publish({ type: 'job.started', source: 'runner', correlationId: 'run-1', traceparent: TP, data: { n: 1 } });
  const plain = await bus.publish({ type: 'job.done', source: 'runner', correlationId: 'run-1' });
  assert.equal(traced.traceparent, TP);
  assert.equal(Object.hasOwn(plain, 'traceparent'), false, 'an untraced event has no traceparent key');
  await until(() => seen.length === 2, 5000, 'live delivery');
  await sub.unsubscribe();
  assert.equal(seen[0]!.traceparent, TP);
  assert.equal(Object.hasOwn(seen[1]!, 'traceparent'), false);
  assert.deepEqual(await bus.get(traced.id), traced);
  assert.deepEqual(await bus.get(plain.id), plain);
  const replayed = await all(bus, { fromSequence: traced.sequence });
  assert.deepEqual(replayed.slice(0, 2), [traced, plain]);
  assert.deepEqual(await bus.byCorrelation('run-1'), [traced, plain]);
  // A subscriber that starts from the log (cursor) reads it back from the store.
  const fromLog: StoredEvent[] = [];
  const cursor = bus.subscribe('job.started', (e) => void fromLog.push(e), { from: traced.sequence });
  await until(() => fromLog.length === 1, 5000, 'cursor delivery');
  await cursor.unsubscribe();
  assert.deepEqual(fromLog[0], traced);
  return { traced, plain };
}

test('memory store: a traced event keeps its traceparent through get, replay, subscribe and byCorrelation', async (t) => {
  await checkReads(await memoryBus(t));
});

test('memory store: the ring forgets the traceparent of an evicted event, and an overwriting untraced event has none', async (t) => {
  const bus = new EventBus({ store: new MemoryStore({ capacity: 3 }) });
  await bus.start();
  t.after(() => bus.stop());
  const first = await bus.publish({ type: 'a', source: 's', traceparent: TP });
  await bus.publish({ type: 'a', source: 's' });
  await bus.publish({ type: 'a', source: 's', traceparent: TP2 });
  const overwriting = await bus.publish({ type: 'a', source: 's' }); // takes the first event's slot
  assert.equal(await bus.get(first.id), undefined);
  assert.equal(Object.hasOwn((await bus.get(overwriting.id))!, 'traceparent'), false);
  const again = await bus.publish({ type: 'a', source: 's', traceparent: TP }); // the second event's slot
  const held = await all(bus);
  assert.deepEqual(
    held.map((e) => [e.sequence, e.traceparent]),
    [
      [3, TP2],
      [4, undefined],
      [5, TP],
    ],
  );
  assert.equal(held[2]!.id, again.id);
});

test('memory store: the first traced event may come while the ring fills or after it wrapped', async (t) => {
  for (const untracedFirst of [1, 2, 4, 7]) {
    const bus = new EventBus({ store: new MemoryStore({ capacity: 3 }) });
    await bus.start();
    t.after(() => bus.stop());
    for (let i = 0; i < untracedFirst; i++) await bus.publish({ type: 'a', source: 's' });
    const traced = await bus.publish({ type: 'a', source: 's', traceparent: TP });
    const after = await bus.publish({ type: 'a', source: 's' });
    assert.equal((await bus.get(traced.id))!.traceparent, TP, `after ${untracedFirst} untraced`);
    assert.equal(Object.hasOwn((await bus.get(after.id))!, 'traceparent'), false);
    const held = await all(bus);
    assert.deepEqual(
      held.map((e) => e.traceparent),
      held.map((e) => (e.sequence === traced.sequence ? TP : undefined)),
    );
  }
});

test('file store: traceparent survives close and reopen, replay, and a read-only reader', async (t) => {
  const dir = await tempDir(t);
  const bus1 = new EventBus({ store: new FileStore({ dir }) });
  await bus1.start();
  const { traced, plain } = await checkReads(bus1);
  await bus1.stop();

  const bus2 = await fileBus(t, dir);
  assert.deepEqual(await bus2.get(traced.id), traced);
  assert.deepEqual(await all(bus2), [traced, plain]);
  assert.deepEqual(await bus2.byCorrelation('run-1'), [traced, plain]);
  const later = await bus2.publish({ type: 'job.started', source: 'runner', traceparent: TP2 });

  const reader = new EventBus({ store: new FileStore({ dir, readOnly: true }) });
  await reader.start();
  t.after(() => reader.stop());
  assert.deepEqual(await reader.get(later.id), later);
  assert.equal((await reader.get(traced.id))!.traceparent, TP);
});

test('a bad traceparent rejects with EVENT_INVALID naming the field, and nothing is stored', async (t) => {
  const bus = await memoryBus(t);
  const bad: unknown[] = [
    TP.slice(0, -1), // too short
    TP + '0', // version 00 is exactly 55 characters
    TP.toUpperCase(),
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero span id
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff is invalid
    '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01',
    '',
    42,
    { traceId: 'x' },
    null,
  ];
  for (const traceparent of bad) {
    await assert.rejects(bus.publish({ type: 'a', source: 's', traceparent } as never), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
      assert.equal(e.code, 'EVENT_INVALID', `${JSON.stringify(traceparent)}: ${e.message}`);
      assert.match(e.message, /^invalid event: traceparent must be a W3C traceparent/);
      assert.equal(e.context?.field, 'traceparent');
      return true;
    });
  }
  await assert.rejects(bus.publishMany([{ type: 'a', source: 's' }, { type: 'a', source: 's', traceparent: 'nope' }]), (e: Error & { code?: string }) => {
    return e.code === 'EVENT_INVALID' && /inputs\[1\]: invalid event: traceparent/.test(e.message);
  });
  await assert.rejects(bus.request({ type: 'a', source: 's', traceparent: TP.toUpperCase() }, { timeoutMs: 1000 }), { code: 'EVENT_INVALID' });
  assert.equal(bus.lastSequence, 0, 'nothing invalid was stored');
});

test('a later traceparent version with an extra field is accepted and kept as given', async (t) => {
  const bus = await memoryBus(t);
  const future = '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-somethingelse';
  const e = await bus.publish({ type: 'a', source: 's', traceparent: future });
  assert.equal((await bus.get(e.id))!.traceparent, future);
});

test('a request and its reply carry their own traceparents', async (t) => {
  const bus = await memoryBus(t);
  bus.subscribe('job.ask', (req) => void bus.publish({ type: 'job.answer', source: 'worker', correlationId: req.correlationId!, traceparent: TP2 }));
  const reply = await bus.request({ type: 'job.ask', source: 'client', traceparent: TP }, { replyType: 'job.answer' });
  assert.equal(reply.traceparent, TP2);
  const [ask] = await all(bus, { types: ['job.ask'] });
  assert.equal(ask!.traceparent, TP);
});

test("a dead letter keeps the original's traceparent (and correlation id)", async (t) => {
  const bus = await memoryBus(t, { durable: { backoff: NO_WAIT, maxDeliver: 1 } });
  const dead: StoredEvent[] = [];
  bus.subscribe(DEAD_LETTER_TYPE, (e) => void dead.push(e));
  bus.subscribe(
    'task.*',
    () => {
      throw new Error('poison');
    },
    { durable: 'runner', from: 'earliest' },
  );
  const traced = await bus.publish({ type: 'task.x', source: 's', correlationId: 'run-9', traceparent: TP });
  const plain = await bus.publish({ type: 'task.y', source: 's' });
  await until(() => dead.length === 2, 5000, 'two dead letters');
  const byCause = new Map(dead.map((d) => [d.causationId, d]));
  assert.equal(byCause.get(traced.id)!.traceparent, TP);
  assert.equal(byCause.get(traced.id)!.correlationId, 'run-9');
  assert.equal(Object.hasOwn(byCause.get(plain.id)!, 'traceparent'), false);
});
