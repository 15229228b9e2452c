import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { definePlugin } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import events, { DEAD_LETTER_TYPE, eventsOptions, fromCloudEvent, toCloudEvent, type StoredEvent } from '../../../plugins/events/index.js';
import type { HealthCheck, HealthService } from '../../../plugins/health/types.js';
import { tempDir, until } from './helpers.js';

test('conformance with default options (memory store)', async () => {
  await checkPluginConformance(events, {
    exercise: async (kernel) => {
      const bus = kernel.resolve('events');
      bus.subscribe('a.>', async () => {}, { durable: 'd' });
      bus.subscribe('a.*', () => {});
      await bus.publishMany([{ type: 'a.b', source: 's' }, { type: 'a.c', source: 's' }]);
    },
  });
});

test('conformance with the file store (durable subscription, retrying handler, pending request)', async (t) => {
  const dir = await tempDir(t);
  await checkPluginConformance(events, {
    options: { store: { type: 'file', dir: path.join(dir, 'log') }, durable: { backoff: { initialMs: 10_000 } } },
    exercise: async (kernel) => {
      const bus = kernel.resolve('events');
      bus.subscribe('a.>', () => {
        throw new Error('always failing: leaves a backoff timer pending at stop');
      }, { durable: 'd' });
      await Promise.all(Array.from({ length: 50 }, (_, i) => bus.publish({ type: 'a.b', source: 's', data: i })));
      void bus.request({ type: 'q', source: 's' }, { timeoutMs: 60_000 }).catch(() => undefined);
    },
  });
});

test('default options validate and the store shape follows DESIGN §4', () => {
  const o = eventsOptions.parse({});
  assert.deepEqual(o.store, { type: 'memory', capacity: 100_000 });
  const f = eventsOptions.parse({ store: { type: 'file' } });
  assert.deepEqual(f.store, {
    type: 'file',
    dir: '.mister-smith/events',
    fsync: 'batch',
    segmentBytes: 64 * 1024 * 1024,
    maxBatchBytes: 4 * 1024 * 1024,
    batchDelayMs: 0,
    maxEventBytes: 4 * 1024 * 1024,
    onCorruption: 'fail',
    readOnly: false,
    retention: {},
  });
  assert.deepEqual(eventsOptions.parse({ store: { type: 'jetstream' } }).store, { type: 'jetstream', stream: 'MISTER_SMITH_EVENTS', subjectPrefix: 'ms.events' });
  assert.equal(eventsOptions.safeParse({ store: { type: 'file', onCorruption: 'ignore' } }).success, false);
  assert.equal(eventsOptions.safeParse({ store: { type: 'file', maxEventBytes: 512 * 1024 * 1024 } }).success, false);
  assert.equal(o.durable.maxDeliver, 5);
  assert.equal(o.subscriber.overflow, 'drop-oldest');
  assert.equal(eventsOptions.safeParse({ store: { type: 'file', fsync: 'sometimes' } }).success, false);
  assert.equal(eventsOptions.safeParse({ store: { type: 'disk' } }).success, false);
});

test('the file store dir resolves against the config directory; metrics are recorded', async (t) => {
  const dir = await tempDir(t);
  const kernel = await createTestKernel({
    plugins: [{ use: events, options: { store: { type: 'file', dir: 'data/events' }, durable: { backoff: { initialMs: 1, jitter: 0 } } } }],
    configDir: dir,
    test: t,
  });
  const bus = kernel.resolve('events');
  bus.subscribe('m.*', () => {});
  bus.subscribe('m.fail', () => {
    throw new Error('no');
  }, { durable: 'x', maxDeliver: 2 });
  await bus.publish({ type: 'm.ok', source: 's' });
  await bus.publish({ type: 'm.ok', source: 's' });
  await bus.publish({ type: 'm.fail', source: 's' });
  const dead: StoredEvent[] = [];
  bus.subscribe(DEAD_LETTER_TYPE, (e) => void dead.push(e));
  await until(() => dead.length === 1);
  const m = kernel.recordedMetrics;
  assert.equal(m.value('events_published_total', { type: 'm.ok' }), 2);
  assert.equal(m.value('events_published_total', { type: 'm.fail' }), 1);
  assert.ok(m.value('events_delivered_total') >= 3);
  assert.equal(m.value('events_failed_total'), 2);
  assert.equal(m.value('events_dead_lettered_total'), 1);
  assert.ok(m.value('event_store_bytes') > 0);
  assert.ok(m.observations('event_store_fsync_seconds').length >= 1);
  assert.equal(m.value('event_store_last_sequence'), bus.lastSequence);
  const { readdir } = await import('node:fs/promises');
  assert.ok((await readdir(path.join(dir, 'data/events'))).some((f) => f.endsWith('.log')));
});

function fakeHealth(): { plugin: ReturnType<typeof definePlugin>; checks: Map<string, HealthCheck> } {
  const checks = new Map<string, HealthCheck>();
  const plugin = definePlugin({
    name: 'health',
    version: '0.0.0',
    optionalDependsOn: ['events'],
    setup(ctx) {
      ctx.provide('health', {
        register(name: string, check: HealthCheck) {
          checks.set(name, check);
          return () => void checks.delete(name);
        },
      } as unknown as HealthService);
    },
  });
  return { plugin, checks };
}

test('with the health plugin loaded (in either order), the bus registers a ready check', async (t) => {
  for (const order of ['events first', 'health first']) {
    const { plugin, checks } = fakeHealth();
    const kernel = await createTestKernel({ plugins: order === 'events first' ? [events, plugin] : [plugin, events], test: t });
    const check = checks.get('events');
    assert.ok(check, order);
    const result = await check(AbortSignal.timeout(1000));
    assert.equal(result.status, 'healthy');
    await kernel.stop();
    assert.equal(checks.has('events'), false, 'unregistered on stop');
  }
});

test('CloudEvents 1.0: toCloudEvent and fromCloudEvent round-trip', async (t) => {
  const kernel = await createTestKernel({ plugins: [events], test: t });
  const e = await kernel.resolve('events').publish({ type: 'agent.started', source: 'agents', data: { a: 1 }, subject: 'a1', correlationId: 'c', causationId: 'z' });
  const ce = toCloudEvent(e);
  assert.deepEqual(ce, {
    specversion: '1.0',
    id: e.id,
    source: 'agents',
    type: 'agent.started',
    time: e.time,
    datacontenttype: 'application/json',
    data: { a: 1 },
    sequence: String(e.sequence),
    subject: 'a1',
    correlationid: 'c',
    causationid: 'z',
  });
  assert.deepEqual(fromCloudEvent(ce), e);
  assert.deepEqual(fromCloudEvent(JSON.stringify(ce)), e);
  const minimal = fromCloudEvent({ specversion: '1.0', id: '1', source: 'x', type: 't' });
  assert.equal(minimal.sequence, 0);
  assert.equal(minimal.data, null);
  const bad: Array<[unknown, RegExp]> = [
    ['{', /not valid JSON/],
    [[], /must be a JSON object/],
    [{ specversion: '0.3', id: '1', source: 'x', type: 't' }, /specversion/],
    [{ specversion: '1.0', source: 'x', type: 't' }, /cloudevent\.id/],
    [{ specversion: '1.0', id: '1', type: 't' }, /cloudevent\.source/],
    [{ specversion: '1.0', id: '1', source: 'x', type: '' }, /cloudevent\.type/],
    [{ specversion: '1.0', id: '1', source: 'x', type: 't', time: 'noon' }, /cloudevent\.time/],
    [{ specversion: '1.0', id: '1', source: 'x', type: 't', datacontenttype: 'text/plain' }, /datacontenttype/],
    [{ specversion: '1.0', id: '1', source: 'x', type: 't', data_base64: 'AAAA' }, /data_base64/],
    [{ specversion: '1.0', id: '1', source: 'x', type: 't', sequence: 'x' }, /sequence/],
    [{ specversion: '1.0', id: '1', source: 'x', type: 't', subject: 4 }, /subject/],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => fromCloudEvent(input), (err: Error & { code?: string }) => err.code === 'EVENT_INVALID' && message.test(err.message), String(message));
  }
});
