import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus, MemoryStore, type PendingEvent, type StoredEvent } from '../../../plugins/events/index.js';
import { memoryBus, recordingLogger, tick, until } from './helpers.js';

test('publish returns the stored event with id, time and a monotonic sequence', async (t) => {
  const bus = await memoryBus(t);
  const a = await bus.publish({ type: 'agent.started', source: 'test', data: { n: 1 }, subject: 'a1', correlationId: 'c1', causationId: 'x' });
  const b = await bus.publish({ type: 'agent.stopped', source: 'test' });
  assert.equal(a.type, 'agent.started');
  assert.equal(a.source, 'test');
  assert.deepEqual(a.data, { n: 1 });
  assert.equal(a.subject, 'a1');
  assert.equal(a.correlationId, 'c1');
  assert.equal(a.causationId, 'x');
  assert.equal(a.sequence, 1);
  assert.equal(b.sequence, 2);
  assert.notEqual(a.id, b.id);
  assert.ok(!Number.isNaN(Date.parse(a.time)));
  assert.equal(b.data, null, 'absent data is stored as null');
  assert.equal('subject' in b, false, 'absent optional fields are absent, not undefined');
  assert.equal(bus.lastSequence, 2);
});

test('invalid inputs reject with EVENT_INVALID naming the field', async (t) => {
  const bus = await memoryBus(t);
  const cases: Array<[unknown, RegExp]> = [
    [null, /event must be an object/],
    [{ source: 's' }, /type is required/],
    [{ type: '', source: 's' }, /type must be a non-empty/],
    [{ type: 'a..b', source: 's' }, /type must not have empty tokens/],
    [{ type: 'a.*', source: 's' }, /type must not contain the wildcards/],
    [{ type: 'a b', source: 's' }, /whitespace/],
    [{ type: 'a' }, /source is required/],
    [{ type: 'a', source: '' }, /source is required/],
    [{ type: 'a', source: 's', data: { f: () => 1 } }, /data\.f .*function/],
    [{ type: 'a', source: 's', data: { n: 10n } }, /data\.n .*bigint/],
    [{ type: 'a', source: 's', data: [1, Number.NaN] }, /data\[1\] .*NaN/],
    [{ type: 'a', source: 's', data: Symbol('x') }, /data .*symbol/],
    [{ type: 'a', source: 's', subject: 5 }, /subject must be a non-empty string/],
    [{ type: 'a', source: 's', correlationId: '' }, /correlationId must be/],
    [{ type: 'a', source: 's', causationId: {} }, /causationId must be/],
  ];
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  cases.push([{ type: 'a', source: 's', data: { deep: cyclic } }, /data\.deep\.self .*circular/]);
  for (const [input, message] of cases) {
    await assert.rejects(bus.publish(input as never), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EVENT_INVALID', `${message}: ${e.message}`);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.equal(bus.lastSequence, 0, 'nothing invalid was stored');
  // Dates (toJSON) and undefined object fields are fine.
  await bus.publish({ type: 'ok', source: 's', data: { at: new Date(0), gone: undefined } });
});

test('the event is in the store before any subscriber sees it', async (t) => {
  const bus = await memoryBus(t);
  const seen: Array<StoredEvent | undefined> = [];
  bus.subscribe('order.>', async (e) => {
    seen.push(await bus.get(e.id));
  });
  const e = await bus.publish({ type: 'order.placed', source: 'shop' });
  await until(() => seen.length === 1);
  assert.equal(seen[0]?.id, e.id);
});

class FailingStore extends MemoryStore {
  fail = false;
  override append(event: PendingEvent): undefined {
    if (this.fail) throw new Error('disk on fire');
    return super.append(event);
  }
}

test('a store failure rejects the publish with EVENT_STORE_FAILED and delivers nothing', async (t) => {
  const store = new FailingStore();
  const bus = new EventBus({ store });
  await bus.start();
  t.after(() => bus.stop());
  const got: StoredEvent[] = [];
  bus.subscribe('>', (e) => void got.push(e));
  store.fail = true;
  await assert.rejects(bus.publish({ type: 'a', source: 's' }), (e: Error & { code?: string }) => e.code === 'EVENT_STORE_FAILED' && /disk on fire/.test(e.message));
  await tick();
  assert.equal(got.length, 0);
  assert.equal((await bus.health()).details.lastStoreError !== undefined, true);
  store.fail = false;
  await bus.publish({ type: 'a', source: 's' });
  await until(() => got.length === 1);
});

test('a throwing or slow subscriber does not affect the publisher or the others', async (t) => {
  const logger = recordingLogger();
  const bus = await memoryBus(t, { logger });
  const fast: number[] = [];
  let slowSeen = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  bus.subscribe('job.*', () => {
    throw new Error('boom');
  });
  bus.subscribe('job.*', async () => {
    slowSeen++;
    await gate;
  });
  bus.subscribe('job.*', async () => {
    await Promise.reject(new Error('async boom'));
  });
  bus.subscribe('job.*', (e) => void fast.push(e.sequence));
  for (let i = 0; i < 50; i++) await bus.publish({ type: 'job.done', source: 's', data: i });
  await until(() => fast.length === 50);
  assert.deepEqual(fast, Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(slowSeen, 1, 'the slow one is still on its first event');
  assert.ok(logger.lines.some((l) => l.level === 'warn' && /boom/.test(l.msg)));
  release();
  await until(() => slowSeen === 50);
});

test('a full live queue drops the oldest by default, counts it and warns; drop-newest keeps the oldest', async (t) => {
  const logger = recordingLogger();
  const bus = await memoryBus(t, { logger, subscriber: { queueCapacity: 4 } });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const oldest: number[] = [];
  const newest: number[] = [];
  const subOld = bus.subscribe('x', async (e) => {
    oldest.push(e.sequence);
    await gate;
  });
  const subNew = bus.subscribe(
    'x',
    async (e) => {
      newest.push(e.sequence);
      await gate;
    },
    { overflow: 'drop-newest' },
  );
  await bus.publish({ type: 'x', source: 's' });
  await tick(); // both are now busy with event 1
  for (let i = 0; i < 9; i++) bus.publish({ type: 'x', source: 's' });
  await tick();
  release();
  await until(() => oldest.length === 5 && newest.length === 5);
  assert.deepEqual(oldest, [1, 7, 8, 9, 10]);
  assert.deepEqual(newest, [1, 2, 3, 4, 5]);
  assert.equal(subOld.dropped, 5);
  assert.equal(subNew.dropped, 5);
  assert.ok(logger.lines.some((l) => l.level === 'warn' && /too slow/.test(l.msg)));
});

test('filters: fields AND, values OR; a correlation filter needs a correlation id', async (t) => {
  const bus = await memoryBus(t);
  const got: number[] = [];
  bus.subscribe({ types: ['agent.>'], sources: ['a', 'b'], correlationId: 'c1' }, (e) => void got.push(e.sequence));
  const where: number[] = [];
  bus.subscribe({ where: (e) => (e.data as number) > 1 }, (e) => void where.push(e.data as number));
  await bus.publish({ type: 'agent.x', source: 'a', correlationId: 'c1', data: 1 }); // 1 yes
  await bus.publish({ type: 'agent.x', source: 'c', correlationId: 'c1', data: 2 }); // 2 no: source
  await bus.publish({ type: 'agent.x', source: 'b', data: 3 }); // 3 no: correlation
  await bus.publish({ type: 'tool.x', source: 'b', correlationId: 'c1', data: 4 }); // 4 no: type
  await bus.publish({ type: 'agent.y.z', source: 'b', correlationId: 'c1', data: 5 }); // 5 yes
  await tick();
  assert.deepEqual(got, [1, 5]);
  assert.deepEqual(where, [2, 3, 4, 5]);
  assert.throws(() => bus.subscribe({ types: ['a..b'] }, () => {}), { code: 'EVENT_INVALID_PATTERN' });
  assert.throws(() => bus.subscribe({ sources: 'a' as never }, () => {}), { code: 'EVENT_INVALID' });
  assert.throws(() => bus.subscribe('a', 'nope' as never), { code: 'EVENT_INVALID' });
  assert.throws(() => bus.subscribe('a', () => {}, { from: 0 }), { code: 'EVENT_INVALID' });
  assert.throws(() => bus.subscribe('a', () => {}, { overflow: 'block' as never }), { code: 'EVENT_INVALID' });
});

test('unsubscribe stops delivery; subscribers see events in publish order', async (t) => {
  const bus = await memoryBus(t);
  const got: number[] = [];
  const sub = bus.subscribe('a', (e) => void got.push(e.sequence));
  await bus.publish({ type: 'a', source: 's' });
  await bus.publish({ type: 'a', source: 's' });
  await tick();
  await sub.unsubscribe();
  await sub.unsubscribe();
  await bus.publish({ type: 'a', source: 's' });
  await tick();
  assert.deepEqual(got, [1, 2]);
});

test('publishMany validates everything first, then stores in order', async (t) => {
  const bus = await memoryBus(t);
  await assert.rejects(
    bus.publishMany([{ type: 'a', source: 's' }, { type: '', source: 's' }]),
    (e: Error & { code?: string }) => e.code === 'EVENT_INVALID' && /inputs\[1\]/.test(e.message),
  );
  assert.equal(bus.lastSequence, 0);
  const events = await bus.publishMany([1, 2, 3].map((i) => ({ type: 'a', source: 's', data: i })));
  assert.deepEqual(events.map((e) => [e.sequence, e.data]), [[1, 1], [2, 2], [3, 3]]);
  await assert.rejects(bus.publishMany('x' as never), { code: 'EVENT_INVALID' });
});

test('replay streams ranges by sequence, time, type, correlation and limit', async (t) => {
  const bus = await memoryBus(t);
  for (let i = 1; i <= 20; i++) await bus.publish({ type: i % 2 ? 'odd.n' : 'even.n', source: 's', data: i, ...(i % 5 === 0 ? { correlationId: 'five' } : {}) });
  const seqs = async (q: Parameters<typeof bus.replay>[0]) => {
    const out: number[] = [];
    for await (const e of bus.replay(q)) out.push(e.sequence);
    return out;
  };
  assert.equal((await seqs({})).length, 20);
  assert.deepEqual(await seqs({ fromSequence: 5, toSequence: 8 }), [5, 6, 7, 8]);
  assert.deepEqual(await seqs({ fromSequence: 18 }), [18, 19, 20]);
  assert.deepEqual(await seqs({ toSequence: 2 }), [1, 2]);
  assert.deepEqual(await seqs({ types: ['even.*'], toSequence: 6 }), [2, 4, 6]);
  assert.deepEqual(await seqs({ correlationId: 'five' }), [5, 10, 15, 20]);
  assert.deepEqual(await seqs({ limit: 3, fromSequence: 10 }), [10, 11, 12]);
  assert.deepEqual(await seqs({ fromSequence: 30 }), []);
  assert.deepEqual(await seqs({ fromTime: Date.now() + 60_000 }), []);
  assert.equal((await seqs({ fromTime: new Date(0), toTime: new Date().toISOString() })).length, 20);
  assert.deepEqual((await bus.byCorrelation('five')).map((e) => e.sequence), [5, 10, 15, 20]);
  assert.deepEqual((await bus.byCorrelation('five', { limit: 2 })).map((e) => e.sequence), [5, 10]);
  const all = await seqs({});
  const e7 = await bus.get((await bus.replay({ fromSequence: 7, limit: 1 })[Symbol.asyncIterator]().next()).value.id);
  assert.equal(e7?.sequence, 7);
  assert.equal(await bus.get('nope-7'), undefined);
  assert.equal(await bus.get('nope'), undefined);
  assert.equal(all.length, 20);
  await assert.rejects(seqs({ fromSequence: -1 }), { code: 'EVENT_INVALID' });
  await assert.rejects(seqs({ fromTime: 'yesterday' }), { code: 'EVENT_INVALID' });
  await assert.rejects(seqs({ types: ['a..'] }), { code: 'EVENT_INVALID_PATTERN' });
  await assert.rejects(bus.get(''), { code: 'EVENT_INVALID' });
  await assert.rejects(bus.byCorrelation(''), { code: 'EVENT_INVALID' });
  const ac = new AbortController();
  ac.abort(new Error('enough'));
  await assert.rejects(seqs({ signal: ac.signal }), /enough/);
});

test('the memory store is a bounded ring: the oldest events are evicted', async (t) => {
  const bus = new EventBus({ store: new MemoryStore({ capacity: 5 }) });
  await bus.start();
  t.after(() => bus.stop());
  for (let i = 0; i < 12; i++) await bus.publish({ type: 'a', source: 's' });
  const out: number[] = [];
  for await (const e of bus.replay()) out.push(e.sequence);
  assert.deepEqual(out, [8, 9, 10, 11, 12]);
  assert.throws(() => new MemoryStore({ capacity: 0 }), RangeError);
});

test('request resolves with the reply that shares its correlation id; times out with EVENT_REQUEST_TIMEOUT', async (t) => {
  const bus = await memoryBus(t);
  bus.subscribe('math.add', async (req) => {
    const { a, b } = req.data as { a: number; b: number };
    await bus.publish({ type: 'math.result', source: 'adder', data: a + b, correlationId: req.correlationId!, causationId: req.id });
  });
  const reply = await bus.request({ type: 'math.add', source: 'test', data: { a: 2, b: 3 } }, { timeoutMs: 1000 });
  assert.equal(reply.type, 'math.result');
  assert.equal(reply.data, 5);
  const withId = await bus.request({ type: 'math.add', source: 'test', data: { a: 1, b: 1 }, correlationId: 'mine' }, { replyType: 'math.result' });
  assert.equal(withId.correlationId, 'mine');
  await assert.rejects(bus.request({ type: 'nobody.listens', source: 'test' }, { timeoutMs: 20 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'EVENT_REQUEST_TIMEOUT');
    assert.match(e.message, /nobody\.listens/);
    return true;
  });
  const ac = new AbortController();
  const pending = bus.request({ type: 'nobody.listens', source: 'test' }, { signal: ac.signal, timeoutMs: 10_000 });
  ac.abort(new Error('caller gave up'));
  await assert.rejects(pending, /caller gave up/);
  await assert.rejects(bus.request({ type: '', source: 'test' }), { code: 'EVENT_INVALID' });
});

test('after stop: publish, subscribe and pending requests fail with EVENT_BUS_STOPPED', async () => {
  const bus = new EventBus({ store: new MemoryStore() });
  await bus.start();
  const pending = bus.request({ type: 'q', source: 's' }, { timeoutMs: 10_000 });
  await tick();
  await bus.stop();
  await bus.stop();
  await assert.rejects(pending, { code: 'EVENT_BUS_STOPPED' });
  await assert.rejects(bus.publish({ type: 'a', source: 's' }), { code: 'EVENT_BUS_STOPPED' });
  await assert.rejects(bus.publishMany([{ type: 'a', source: 's' }]), { code: 'EVENT_BUS_STOPPED' });
  assert.throws(() => bus.subscribe('a', () => {}), { code: 'EVENT_BUS_STOPPED' });
  await assert.rejects(bus.get('x-1'), { code: 'EVENT_BUS_STOPPED' });
  assert.equal((await bus.health()).status, 'unhealthy');
});

test('publishes made before start wait for the store to open; a never-started bus stops cleanly', async () => {
  const bus = new EventBus({ store: new MemoryStore() });
  const early = bus.publish({ type: 'early', source: 's' });
  await bus.start();
  assert.equal((await early).sequence, 1);
  await bus.stop();
  const never = new EventBus({ store: new MemoryStore() });
  const waiting = never.publish({ type: 'a', source: 's' });
  await never.stop();
  await assert.rejects(waiting, { code: 'EVENT_BUS_STOPPED' });
});

test('stop lets live subscribers drain their queues', async () => {
  const bus = new EventBus({ store: new MemoryStore() });
  await bus.start();
  const got: number[] = [];
  bus.subscribe('a', async (e) => {
    await tick(1);
    got.push(e.sequence);
  });
  for (let i = 0; i < 5; i++) bus.publish({ type: 'a', source: 's' });
  await bus.stop(AbortSignal.timeout(2000));
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
});

test('starting a bus twice, or opening an open file store, fails with EVENT_INVALID_STATE', async (t) => {
  const bus = await memoryBus(t);
  await assert.rejects(bus.start(), { code: 'EVENT_INVALID_STATE' });
  const { mkdtemp, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-events-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { FileStore } = await import('../../../plugins/events/index.js');
  const store = new FileStore({ dir });
  await store.open(() => {});
  await assert.rejects(store.open(() => {}), { code: 'EVENT_INVALID_STATE' });
  await store.close();
});

test('stop without a signal does not wait forever for a live handler that never settles', async () => {
  const bus = new EventBus({ store: new MemoryStore() });
  await bus.start();
  bus.subscribe('a', () => new Promise<void>(() => {}));
  await bus.publish({ type: 'a', source: 's' });
  await tick();
  const { mock } = await import('node:test');
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let stopped = false;
    const stopping = bus.stop().then(() => (stopped = true));
    // Two bounded waits: the queues draining, then the unsubscribes.
    for (let round = 0; round < 4 && !stopped; round++) {
      for (let i = 0; i < 20; i++) await Promise.resolve();
      mock.timers.tick(5_000);
    }
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assert.equal(stopped, true);
    await stopping;
  } finally {
    mock.timers.reset();
  }
});

test('request with replyType ignores other events of the same correlation', async (t) => {
  const bus = await memoryBus(t);
  bus.subscribe('job.start', async (req) => {
    await bus.publish({ type: 'job.progress', source: 'worker', correlationId: req.correlationId!, data: 50 });
    await bus.publish({ type: 'job.done', source: 'worker', correlationId: req.correlationId!, causationId: req.id, data: 100 });
  });
  const reply = await bus.request({ type: 'job.start', source: 'client' }, { replyType: 'job.done', timeoutMs: 1000 });
  assert.equal(reply.type, 'job.done');
  assert.equal(reply.data, 100);
  await assert.rejects(bus.request({ type: 'job.start', source: 'client' }, { replyType: 'a..b' }), { code: 'EVENT_INVALID_PATTERN' });
});

test('a filter whose where() throws counts a failure for that subscriber only', async (t) => {
  const { MemoryMetricsBackend } = await import('../../../testing/index.js');
  const { MetricsFacade } = await import('../../../kernel/MetricsFacade.js');
  const metrics = new MetricsFacade();
  const backend = new MemoryMetricsBackend();
  metrics.attach(backend);
  const bus = await memoryBus(t, { metrics, subscriber: { queueCapacity: 1 } });
  const ok: number[] = [];
  bus.subscribe({ where: () => { throw new Error('bad filter'); } }, () => {});
  bus.subscribe('>', (e) => void ok.push(e.sequence));
  await bus.publish({ type: 'a', source: 's' });
  await tick();
  assert.deepEqual(ok, [1]);
  assert.equal(backend.value('events_failed_total'), 1);
  // Two publishes in one turn overflow a queue of 1: one drop, counted.
  void bus.publish({ type: 'a', source: 's' });
  void bus.publish({ type: 'a', source: 's' });
  await tick();
  assert.equal(backend.value('events_dropped_total'), 1);
  assert.equal(backend.value('events_published_total', { type: 'a' }), 3);
});

test('an event from fromCloudEvent can be published (it gets a new id and sequence here)', async (t) => {
  const { fromCloudEvent } = await import('../../../plugins/events/index.js');
  const bus = await memoryBus(t);
  const incoming = fromCloudEvent({ specversion: '1.0', id: 'ext-1', source: 'https://example.com', type: 'com.example.ping', data: { n: 1 }, correlationid: 'c9' });
  const stored = await bus.publish(incoming);
  assert.notEqual(stored.id, 'ext-1');
  assert.equal(stored.sequence, 1);
  assert.equal(stored.correlationId, 'c9');
  assert.deepEqual(stored.data, { n: 1 });
});
