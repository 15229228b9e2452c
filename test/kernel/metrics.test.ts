import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, definePlugin, MetricsFacade, prefixedMetricName } from '../../index.js';
import { MemoryMetricsBackend } from '../../testing/index.js';
import { MAX_BUFFERED_LABEL_SETS, MAX_BUFFERED_OBSERVATIONS } from '../../kernel/MetricsBuffer.js';
import { kernelOf } from './fixtures/util.js';

test('without a backend, metrics are no-ops that accept every call shape', () => {
  const m = new MetricsFacade();
  const c = m.counter({ name: 'c_total', help: 'c' });
  const g = m.gauge({ name: 'g', help: 'g', labelNames: ['k'] });
  const h = m.histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1] });
  c.inc();
  c.inc(2);
  c.inc({ k: 'v' }, 3);
  g.set(1);
  g.set({ k: 'v' }, 2);
  g.inc();
  g.dec({ k: 'v' });
  h.observe(0.5);
  h.observe({ k: 'v' }, 0.2);
  assert.equal(m.backends.length, 0);
  assert.deepEqual(m.definitions().map((d) => [d.type, d.definition.name]), [
    ['counter', 'c_total'],
    ['gauge', 'g'],
    ['histogram', 'h_seconds'],
  ]);
});

test('a backend attached later receives metrics defined before and after, with the values recorded before it', () => {
  const m = new MetricsFacade();
  const before = m.counter({ name: 'before_total', help: 'x', labelNames: ['route'] });
  before.inc({ route: '/a' }); // no backend yet: the facade keeps the total
  const backend = new MemoryMetricsBackend();
  m.attach(backend);
  m.attach(backend); // attaching twice is harmless
  before.inc({ route: '/a' }, 2);
  before.inc({ route: '/b' });
  const after = m.gauge({ name: 'after_gauge', help: 'x' });
  after.set(7);
  after.inc(3);
  after.dec();
  const hist = m.histogram({ name: 'lat_seconds', help: 'x' });
  hist.observe(0.25);
  hist.observe(0.75);
  assert.deepEqual(backend.names().sort(), ['after_gauge', 'before_total', 'lat_seconds']);
  assert.equal(backend.value('before_total'), 4);
  assert.equal(backend.value('before_total', { route: '/a' }), 3);
  assert.equal(backend.value('after_gauge'), 9);
  assert.deepEqual(backend.observations('lat_seconds'), [0.25, 0.75]);
});

test('values recorded before any backend reach every backend attached until buffering stops, then only live values', () => {
  const m = new MetricsFacade();
  const plain = m.counter({ name: 'plain_total', help: 'x' });
  const labelled = m.counter({ name: 'jobs_total', help: 'x', labelNames: ['kind'] });
  const gauge = m.gauge({ name: 'level', help: 'x', labelNames: ['k'] });
  const hist = m.histogram({ name: 'wait_seconds', help: 'x' });
  plain.inc();
  plain.inc(4);
  labelled.inc({ kind: 'a' });
  labelled.inc({ kind: 'b' }, 2);
  labelled.inc({ kind: 'a' }, 3);
  gauge.set({ k: 'x' }, 10);
  gauge.dec({ k: 'x' }, 4);
  gauge.inc({ k: 'y' });
  hist.observe(0.1);
  hist.observe(0.2);
  const first = new MemoryMetricsBackend();
  m.attach(first);
  plain.inc(); // recorded by the backend and by the buffer, for a backend attaching later in the start
  const second = new MemoryMetricsBackend();
  m.attach(second);
  for (const backend of [first, second]) {
    assert.equal(backend.value('plain_total'), 6);
    assert.equal(backend.value('jobs_total', { kind: 'a' }), 4);
    assert.equal(backend.value('jobs_total', { kind: 'b' }), 2);
    assert.equal(backend.value('level', { k: 'x' }), 6);
    assert.equal(backend.value('level', { k: 'y' }), 1);
    assert.deepEqual(backend.observations('wait_seconds'), [0.1, 0.2]);
  }
  m.stopBuffering();
  plain.inc();
  const third = new MemoryMetricsBackend();
  m.attach(third);
  plain.inc();
  assert.equal(first.value('plain_total'), 8);
  assert.equal(second.value('plain_total'), 8);
  assert.equal(third.value('plain_total'), 1, 'a backend attached after the start sees values from then on');
});

test('with no backend once buffering stops, updates are dropped and the handles become no-ops', () => {
  const m = new MetricsFacade();
  const c = m.counter({ name: 'c_total', help: 'x', labelNames: ['k'] });
  c.inc({ k: 'v' }, 5);
  m.stopBuffering();
  m.stopBuffering(); // idempotent
  c.inc({ k: 'v' }, 7);
  const late = m.counter({ name: 'late_total', help: 'x' });
  late.inc();
  const backend = new MemoryMetricsBackend();
  m.attach(backend);
  assert.equal(backend.value('c_total'), 0, 'buffered values were dropped with the buffers');
  assert.equal(backend.value('late_total'), 0, 'a metric defined after the start is never buffered');
  c.inc({ k: 'v' });
  late.inc(2);
  assert.equal(backend.value('c_total'), 1);
  assert.equal(backend.value('late_total'), 2);
});

test('the buffer is bounded: label sets and histogram observations beyond the caps are dropped', () => {
  const m = new MetricsFacade();
  const c = m.counter({ name: 'wide_total', help: 'x', labelNames: ['id'] });
  const h = m.histogram({ name: 'many_seconds', help: 'x' });
  for (let i = 0; i < MAX_BUFFERED_LABEL_SETS + 50; i++) c.inc({ id: String(i) });
  for (let i = 0; i < MAX_BUFFERED_OBSERVATIONS + 50; i++) h.observe(1);
  const backend = new MemoryMetricsBackend();
  m.attach(backend);
  assert.equal(backend.series('wide_total').length, MAX_BUFFERED_LABEL_SETS);
  assert.equal(backend.observations('many_seconds').length, MAX_BUFFERED_OBSERVATIONS);
});

test('a collect-on-scrape counter publishes its totals as increments when read, labelled or not', () => {
  const m = new MetricsFacade();
  let done = 0;
  const byStatus = { ok: 0, failed: 0 };
  m.counter({ name: 'done_total', help: 'x', collect: () => done });
  m.counter({
    name: 'finished_total',
    help: 'x',
    labelNames: ['status'],
    collect: () => Object.entries(byStatus).map(([status, total]) => [{ status }, total] as const),
  });
  done = 3; // counted before any backend: read at scrape time, so nothing is lost
  byStatus.ok = 2;
  const a = new MemoryMetricsBackend();
  m.attach(a);
  assert.equal(a.value('done_total'), 3);
  assert.equal(a.value('finished_total', { status: 'ok' }), 2);
  assert.equal(a.value('finished_total', { status: 'failed' }), 0);
  done = 10;
  byStatus.failed = 1;
  assert.equal(a.value('done_total'), 10);
  assert.equal(a.value('done_total'), 10, 'reading twice adds nothing');
  assert.equal(a.value('finished_total', { status: 'failed' }), 1);
  done = 4; // the source was replaced: the counter never goes down, it counts on from there
  assert.equal(a.value('done_total'), 10);
  done = 6;
  assert.equal(a.value('done_total'), 12);
});

test('two backends both receive every update', () => {
  const m = new MetricsFacade();
  const a = new MemoryMetricsBackend();
  const b = new MemoryMetricsBackend();
  const c = m.counter({ name: 'n_total', help: 'x' });
  m.attach(a);
  c.inc();
  m.stopBuffering(); // as the kernel does once started: b, attached after, sees values from then on
  m.attach(b);
  c.inc(5);
  const g = m.gauge({ name: 'g', help: 'x' });
  g.set(4);
  assert.equal(a.value('n_total'), 6);
  assert.equal(b.value('n_total'), 5);
  assert.equal(a.value('g'), 4);
  assert.equal(b.value('g'), 4);
});

test('redefining a metric the same way returns the same handle; a conflicting one is an error', () => {
  const m = new MetricsFacade();
  const c = m.counter({ name: 'jobs_total', help: 'x', labelNames: ['kind'] });
  assert.equal(m.counter({ name: 'jobs_total', help: 'other help', labelNames: ['kind'] }), c);
  assert.throws(
    () => m.gauge({ name: 'jobs_total', help: 'x', labelNames: ['kind'] }),
    (e: ConfigError) => e.code === 'METRIC_CONFLICT' && /already defined as a counter with labels \[kind\]/.test(e.message),
  );
  assert.throws(() => m.counter({ name: 'jobs_total', help: 'x', labelNames: ['other'] }), (e: ConfigError) => e.code === 'METRIC_CONFLICT');
  assert.throws(() => m.counter({ name: 'jobs_total', help: 'x' }), (e: ConfigError) => e.code === 'METRIC_CONFLICT');
  assert.throws(() => m.counter({ name: 'bad-name', help: 'x' }), (e: ConfigError) => e.code === 'METRIC_INVALID_NAME' && /bad-name/.test(e.message));
});

test('a backend plugin announced through hooks.metricsBackend receives plugins\' metrics', async () => {
  const backend = new MemoryMetricsBackend();
  const early = definePlugin({
    name: 'early',
    version: '1.0.0',
    setup(ctx) {
      const c = ctx.metrics.counter({ name: 'early_total', help: 'x' });
      ctx.onStart(() => c.inc(2));
    },
  });
  const backendPlugin = definePlugin({
    name: 'memory-backend',
    version: '1.0.0',
    setup(ctx) {
      ctx.hooks.metricsBackend.call(backend);
    },
  });
  const late = definePlugin({
    name: 'late',
    version: '1.0.0',
    setup(ctx) {
      ctx.metrics.gauge({ name: 'late_gauge', help: 'x' }).set(5);
    },
  });
  const kernel = await kernelOf({ plugins: [early, backendPlugin, late] });
  await kernel.start();
  assert.equal(backend.value('early_total'), 2);
  assert.equal(backend.value('late_gauge'), 5);
  assert.deepEqual(kernel.metrics.backends, [backend]);
  await kernel.stop();
});

test('each kernel has its own metrics facade', async () => {
  const a = await kernelOf({});
  const b = await kernelOf({});
  assert.notEqual(a.metrics, b.metrics);
  a.metrics.counter({ name: 'x_total', help: 'x' });
  b.metrics.gauge({ name: 'x_total', help: 'x' }); // no conflict across kernels
});

test('prefixedMetricName adds mister_smith_ once', () => {
  assert.equal(prefixedMetricName('a_total'), 'mister_smith_a_total');
  assert.equal(prefixedMetricName('mister_smith_a_total'), 'mister_smith_a_total');
});
