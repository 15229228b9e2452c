import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { DEAD_LETTER_TYPE, EventBus, FileStore, MemoryStore, type DeadLetterData, type StoredEvent } from '../../../plugins/events/index.js';
import { fileBus, memoryBus, recordingLogger, tempDir, tick, until } from './helpers.js';

const NO_WAIT = { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 };

test('a durable subscription resumes after a restart (store closed and reopened) without redelivering acked events', async (t) => {
  const dir = await tempDir(t);
  const first: number[] = [];
  const bus1 = new EventBus({ store: new FileStore({ dir }) });
  await bus1.start();
  bus1.subscribe('order.*', (e) => void first.push(e.sequence), { durable: 'billing', from: 'earliest' });
  for (let i = 0; i < 5; i++) await bus1.publish({ type: 'order.placed', source: 'shop', data: i });
  await until(() => first.length === 5);
  await bus1.stop();
  assert.deepEqual(first, [1, 2, 3, 4, 5]);

  // Events published while the subscriber is away.
  const bus2 = new EventBus({ store: new FileStore({ dir }) });
  await bus2.start();
  for (let i = 0; i < 3; i++) await bus2.publish({ type: 'order.placed', source: 'shop', data: 10 + i });
  await bus2.publish({ type: 'other.thing', source: 'shop' });
  await bus2.stop();

  const second: number[] = [];
  const bus3 = await fileBus(t, dir);
  const sub = bus3.subscribe('order.*', (e) => void second.push(e.sequence), { durable: 'billing', from: 'earliest' });
  await until(() => second.length === 3);
  await bus3.publish({ type: 'order.placed', source: 'shop' });
  await until(() => second.length === 4);
  assert.deepEqual(second, [6, 7, 8, 10]);
  await until(() => sub.position === 10);
});

test('delivery is at-least-once: an event whose handler was cut off by a stop is delivered again after restart', async (t) => {
  const dir = await tempDir(t);
  const bus1 = new EventBus({ store: new FileStore({ dir }) });
  await bus1.start();
  const seen1: number[] = [];
  bus1.subscribe(
    'job',
    async (e) => {
      seen1.push(e.sequence);
      if (e.sequence === 2) await new Promise(() => {}); // never finishes
    },
    { durable: 'worker', from: 'earliest' },
  );
  for (let i = 0; i < 3; i++) await bus1.publish({ type: 'job', source: 's' });
  await until(() => seen1.length === 2);
  await bus1.stop(AbortSignal.timeout(200));
  const seen2: number[] = [];
  const bus2 = await fileBus(t, dir);
  bus2.subscribe('job', (e) => void seen2.push(e.sequence), { durable: 'worker' });
  await until(() => seen2.length === 2);
  assert.deepEqual(seen1, [1, 2]);
  assert.deepEqual(seen2, [2, 3]);
});

test('a kernel restarted on the same directory resumes the durable subscription', async (t) => {
  const { createTestKernel } = await import('../../../testing/index.js');
  const events = (await import('../../../plugins/events/index.js')).default;
  const dir = await tempDir(t);
  const options = { store: { type: 'file', dir: 'log' } };
  const k1 = await createTestKernel({ plugins: [{ use: events, options }], configDir: dir });
  const got1: number[] = [];
  k1.resolve('events').subscribe('a.>', (e) => void got1.push(e.sequence), { durable: 'd' });
  for (let i = 0; i < 3; i++) await k1.resolve('events').publish({ type: 'a.b', source: 't' });
  await until(() => got1.length === 3);
  await k1.stop();
  const k2 = await createTestKernel({ plugins: [{ use: events, options }], configDir: dir, test: t });
  const bus = k2.resolve('events');
  assert.equal(bus.lastSequence, 3);
  const got2: number[] = [];
  bus.subscribe('a.>', (e) => void got2.push(e.sequence), { durable: 'd' });
  await bus.publish({ type: 'a.c', source: 't' });
  await until(() => got2.length === 1);
  assert.deepEqual(got2, [4]);
});

test('failed deliveries are retried with backoff and succeed without a dead letter', async (t) => {
  const bus = await memoryBus(t, { durable: { backoff: NO_WAIT } });
  let calls = 0;
  const done: number[] = [];
  bus.subscribe(
    'flaky',
    (e) => {
      if (++calls < 3) throw new Error(`attempt ${calls}`);
      done.push(e.sequence);
    },
    { durable: 'f', from: 'earliest' },
  );
  const dead: StoredEvent[] = [];
  bus.subscribe(DEAD_LETTER_TYPE, (e) => void dead.push(e));
  await bus.publish({ type: 'flaky', source: 's' });
  await until(() => done.length === 1);
  assert.equal(calls, 3);
  await tick(5);
  assert.equal(dead.length, 0);
});

test('after maxDeliver failures the event is dead-lettered with the original and the error, and delivery moves on', async (t) => {
  const logger = recordingLogger();
  const bus = await memoryBus(t, { logger, durable: { backoff: NO_WAIT, maxDeliver: 5 } });
  const attempts = new Map<number, number>();
  const ok: number[] = [];
  bus.subscribe(
    'task.*',
    (e) => {
      attempts.set(e.sequence, (attempts.get(e.sequence) ?? 0) + 1);
      if (e.type === 'task.poison') throw Object.assign(new Error('cannot parse'), { code: 'BAD_TASK' });
      ok.push(e.sequence);
    },
    { durable: 'runner', from: 'earliest', maxDeliver: 3 },
  );
  const dead: StoredEvent[] = [];
  bus.subscribe(DEAD_LETTER_TYPE, (e) => void dead.push(e));
  const poison = await bus.publish({ type: 'task.poison', source: 's', correlationId: 'run-1', data: { x: 1 } });
  await bus.publish({ type: 'task.fine', source: 's' });
  await until(() => dead.length === 1 && ok.length === 1);
  assert.equal(attempts.get(poison.sequence), 3);
  const dl = dead[0]!;
  const data = dl.data as DeadLetterData;
  assert.equal(dl.source, 'events');
  assert.equal(dl.subject, 'runner');
  assert.equal(dl.causationId, poison.id);
  assert.equal(dl.correlationId, 'run-1');
  assert.equal(data.subscription, 'runner');
  assert.equal(data.attempts, 3);
  assert.deepEqual(data.error, { name: 'Error', message: 'cannot parse', code: 'BAD_TASK' });
  assert.deepEqual(data.original, poison);
  assert.deepEqual(ok, [2]);
  assert.ok(logger.lines.some((l) => l.level === 'error' && /gave up on event 1/.test(l.msg)));
});

test('a durable handler that never settles times out (EVENT_HANDLER_TIMEOUT) and is dead-lettered', async (t) => {
  const bus = await memoryBus(t, { durable: { backoff: NO_WAIT } });
  bus.subscribe('hang', () => new Promise<void>(() => {}), { durable: 'h', from: 'earliest', maxDeliver: 2, ackTimeoutMs: 10 });
  const dead: StoredEvent[] = [];
  bus.subscribe(DEAD_LETTER_TYPE, (e) => void dead.push(e));
  await bus.publish({ type: 'hang', source: 's' });
  await until(() => dead.length === 1);
  assert.equal((dead[0]!.data as DeadLetterData).error.code, 'EVENT_HANDLER_TIMEOUT');
});

test('retry delays follow the backoff (mock timers)', async (t) => {
  const bus = await memoryBus(t, { durable: { backoff: { initialMs: 1000, factor: 2, maxMs: 10_000, jitter: 0 } } });
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  let calls = 0;
  bus.subscribe(
    'x',
    () => {
      calls++;
      if (calls < 3) throw new Error('not yet');
    },
    { durable: 'b', from: 'earliest' },
  );
  await bus.publish({ type: 'x', source: 's' });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  await settle();
  assert.equal(calls, 1);
  mock.timers.tick(999);
  await settle();
  assert.equal(calls, 1, 'not before the first delay (1000 ms)');
  mock.timers.tick(1);
  await settle();
  assert.equal(calls, 2);
  mock.timers.tick(1999);
  await settle();
  assert.equal(calls, 2, 'the second delay doubles (2000 ms)');
  mock.timers.tick(1);
  await settle();
  assert.equal(calls, 3);
});

test('a durable subscriber never drops: a tiny buffer and a slow handler still get every event, in order', async (t) => {
  const bus = await memoryBus(t, { subscriber: { queueCapacity: 2 } });
  const got: number[] = [];
  const sub = bus.subscribe(
    'n',
    async (e) => {
      await tick(0);
      got.push(e.sequence);
    },
    { durable: 'slow' },
  );
  await tick();
  for (let i = 0; i < 60; i++) bus.publish({ type: 'n', source: 's' });
  await until(() => got.length === 60, 10_000);
  assert.deepEqual(got, Array.from({ length: 60 }, (_, i) => i + 1));
  assert.equal(sub.dropped, 0);
});

test('from: earliest, latest or a sequence, for durable and for live subscriptions', async (t) => {
  const bus = await memoryBus(t);
  for (let i = 0; i < 5; i++) await bus.publish({ type: 'e', source: 's' });
  const earliest: number[] = [];
  const latest: number[] = [];
  const fromThree: number[] = [];
  const liveFromTwo: number[] = [];
  bus.subscribe('e', (e) => void earliest.push(e.sequence), { durable: 'a', from: 'earliest' });
  bus.subscribe('e', (e) => void latest.push(e.sequence), { durable: 'b', from: 'latest' });
  bus.subscribe('e', (e) => void fromThree.push(e.sequence), { durable: 'c', from: 3 });
  bus.subscribe('e', (e) => void liveFromTwo.push(e.sequence), { from: 2 });
  await tick(5);
  await bus.publish({ type: 'e', source: 's' });
  await until(() => earliest.length === 6 && latest.length === 1 && fromThree.length === 4 && liveFromTwo.length === 5);
  assert.deepEqual(earliest, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(latest, [6]);
  assert.deepEqual(fromThree, [3, 4, 5, 6]);
  assert.deepEqual(liveFromTwo, [2, 3, 4, 5, 6]);
});

test('one durable name is active once per bus (EVENT_DURABLE_IN_USE); after unsubscribe it can be taken again', async (t) => {
  const bus = await memoryBus(t);
  const sub = bus.subscribe('a', () => {}, { durable: 'one' });
  assert.throws(() => bus.subscribe('a', () => {}, { durable: 'one' }), { code: 'EVENT_DURABLE_IN_USE' });
  assert.throws(() => bus.subscribe('a', () => {}, { durable: '' }), { code: 'EVENT_INVALID' });
  assert.throws(() => bus.subscribe('a', () => {}, { durable: 'two', maxDeliver: 0 }), { code: 'EVENT_INVALID' });
  await sub.unsubscribe();
  bus.subscribe('a', () => {}, { durable: 'one' });
});

test('a durable subscriber that falls behind the memory ring logs the gap and continues', async (t) => {
  const logger = recordingLogger();
  const bus = new EventBus({ store: new MemoryStore({ capacity: 3 }), logger });
  await bus.start();
  t.after(() => bus.stop());
  for (let i = 0; i < 10; i++) await bus.publish({ type: 'g', source: 's' });
  const got: number[] = [];
  bus.subscribe('g', (e) => void got.push(e.sequence), { durable: 'late', from: 1 });
  await until(() => got.length === 3);
  assert.deepEqual(got, [8, 9, 10]);
  assert.ok(logger.lines.some((l) => l.level === 'error' && /events 1\.\.7 are gone/.test(l.msg)));
});

test('health reports durable lag as degraded beyond the limit', async (t) => {
  const bus = await memoryBus(t);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  bus.subscribe('w', () => gate, { durable: 'stuck', from: 'earliest', ackTimeoutMs: 60_000 });
  for (let i = 0; i < 5; i++) await bus.publish({ type: 'w', source: 's' });
  await tick(5);
  const h = await bus.health(2);
  assert.equal(h.status, 'degraded');
  assert.deepEqual(h.details.durableLag, { stuck: 5 });
  assert.equal((await bus.health(100)).status, 'healthy');
  release();
});

test("a durable 'latest' subscription gets an event published right after subscribe returns", async (t) => {
  const bus = await memoryBus(t);
  await bus.publish({ type: 'before', source: 's' });
  const got: string[] = [];
  bus.subscribe('>', (e) => void got.push(e.type), { durable: 'eager' });
  void bus.publish({ type: 'right.after', source: 's' });
  await until(() => got.length === 1);
  await tick(5);
  assert.deepEqual(got, ['right.after']);
});

test('a durable subscription whose store read fails is logged and reported as a fault', async (t) => {
  class BrokenReads extends MemoryStore {
    override read(): AsyncIterable<readonly StoredEvent[]> {
      return {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('disk read error')) }),
      };
    }
  }
  const faults: Array<{ error: Error; subscription: string }> = [];
  const logger = recordingLogger();
  const bus = new EventBus({ store: new BrokenReads(), logger, onFault: (error, c) => void faults.push({ error, subscription: c.subscription }) });
  await bus.start();
  t.after(() => bus.stop());
  await bus.publish({ type: 'a', source: 's' });
  bus.subscribe('a', () => {}, { durable: 'reader', from: 'earliest' });
  await until(() => faults.length === 1);
  assert.equal(faults[0]!.subscription, 'reader');
  assert.match(faults[0]!.error.message, /disk read error/);
  assert.ok(logger.lines.some((l) => l.level === 'error' && /stopped on an unexpected error/.test(l.msg)));
});
