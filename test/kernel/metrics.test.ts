import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, definePlugin, MetricsFacade, prefixedMetricName } from '../../index.js';
import { MemoryMetricsBackend } from '../../testing/index.js';
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

test('a backend attached later receives metrics defined before and after, with values from then on', () => {
  const m = new MetricsFacade();
  const before = m.counter({ name: 'before_total', help: 'x', labelNames: ['route'] });
  before.inc({ route: '/a' }); // no backend yet: not recorded anywhere
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
  assert.equal(backend.value('before_total'), 3);
  assert.equal(backend.value('before_total', { route: '/a' }), 2);
  assert.equal(backend.value('after_gauge'), 9);
  assert.deepEqual(backend.observations('lat_seconds'), [0.25, 0.75]);
});

test('two backends both receive every update', () => {
  const m = new MetricsFacade();
  const a = new MemoryMetricsBackend();
  const b = new MemoryMetricsBackend();
  const c = m.counter({ name: 'n_total', help: 'x' });
  m.attach(a);
  c.inc();
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
