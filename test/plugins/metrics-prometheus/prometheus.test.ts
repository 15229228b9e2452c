import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { register as globalRegister } from 'prom-client';
import prometheus, { LabelSetLimiter, PrometheusOptionsSchema } from '../../../plugins/metrics-prometheus/index.js';
import { definePlugin } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import { request } from '../http/helpers.js';
import { parseExposition, samples } from './exposition.js';

/** A pino logger whose lines tests can read. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

/** Defines a counter in setup (before the prometheus plugin loads) and counts at start. */
const early = definePlugin({
  name: 'early',
  version: '1.0.0',
  setup(ctx) {
    const jobs = ctx.metrics.counter({ name: 'early_jobs_total', help: 'Jobs counted by a plugin loaded before prometheus', labelNames: ['kind'] });
    ctx.onStart(() => {
      jobs.inc({ kind: 'a' });
      jobs.inc({ kind: 'b' }, 2);
    });
  },
});

test('GET /metrics serves strict Prometheus text with facade metrics defined before and after load, and process metrics', async (t) => {
  const kernel = await createTestKernel({ plugins: [early, 'http', prometheus], test: t });
  const late = kernel.metrics.histogram({ name: 'late_duration_seconds', help: 'Defined after load', labelNames: ['op'], buckets: [0.1, 1] });
  late.observe({ op: 'x' }, 0.5);
  const plain = kernel.metrics.counter({ name: 'late_plain_total', help: 'Unlabelled, defined after load' });
  plain.inc();
  plain.inc(4);
  const res = await request(`${kernel.resolve('http').url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const families = parseExposition(res.text);
  assert.equal(families.get('mister_smith_early_jobs_total')?.type, 'counter');
  assert.equal(families.get('mister_smith_early_jobs_total')?.help, 'Jobs counted by a plugin loaded before prometheus');
  assert.deepEqual(
    samples(families, 'mister_smith_early_jobs_total').map((s) => [s.labels.kind, s.value]),
    [
      ['a', 1],
      ['b', 2],
    ],
  );
  assert.equal(families.get('mister_smith_late_duration_seconds')?.type, 'histogram');
  assert.deepEqual(
    samples(families, 'mister_smith_late_duration_seconds_bucket').map((s) => [s.labels.le, s.labels.op, s.value]),
    [
      ['0.1', 'x', 0],
      ['1', 'x', 1],
      ['+Inf', 'x', 1],
    ],
  );
  assert.equal(samples(families, 'mister_smith_late_duration_seconds_sum')[0]?.value, 0.5);
  assert.equal(samples(families, 'mister_smith_late_plain_total')[0]?.value, 5);
  assert.ok(samples(families, 'mister_smith_kernel_phase_duration_seconds').some((s) => s.labels.plugin === 'metrics-prometheus'));
  assert.equal(families.get('mister_smith_process_cpu_seconds_total')?.type, 'counter', 'default process metrics, prefixed');
  assert.ok(families.has('mister_smith_nodejs_heap_size_used_bytes'));
  for (const name of families.keys()) assert.match(name, /^mister_smith_/);
  assert.equal(globalRegister.getMetricsAsArray().length, 0, 'the global registry is never used');
});

/** Counts in `setup`, before metrics-prometheus (listed after it) has attached its backend. */
const countsInSetup = definePlugin({
  name: 'counts-in-setup',
  version: '1.0.0',
  setup(ctx) {
    ctx.metrics.counter({ name: 'setup_plain_total', help: 'Counted in setup' }).inc(3);
    ctx.metrics.counter({ name: 'setup_jobs_total', help: 'Counted in setup, labelled', labelNames: ['kind'] }).inc({ kind: 'a' }, 2);
    ctx.metrics.gauge({ name: 'setup_level', help: 'Set in setup' }).set(42);
    ctx.metrics.histogram({ name: 'setup_wait_seconds', help: 'Observed in setup', buckets: [1] }).observe(0.5);
  },
});

test('values recorded in setup by a plugin listed before metrics-prometheus all show on /metrics', async (t) => {
  // A plain kernel (no test backend in between): the facade alone must keep the values.
  const { createKernel } = await import('../../../kernel/createKernel.js');
  const kernel = await createKernel({ config: { plugins: [countsInSetup, 'http', { use: prometheus, options: { defaultMetrics: false } }] }, logger: pino({ level: 'silent' }) });
  t.after(() => kernel.stop('test over'));
  await kernel.start();
  const families = parseExposition((await request(`${kernel.resolve('http').url}/metrics`)).text);
  assert.equal(samples(families, 'mister_smith_setup_plain_total')[0]?.value, 3);
  assert.deepEqual(samples(families, 'mister_smith_setup_jobs_total').map((s) => [s.labels.kind, s.value]), [['a', 2]]);
  assert.equal(samples(families, 'mister_smith_setup_level')[0]?.value, 42);
  assert.equal(samples(families, 'mister_smith_setup_wait_seconds_count')[0]?.value, 1);
  assert.equal(samples(families, 'mister_smith_setup_wait_seconds_sum')[0]?.value, 0.5);
});

test('task completions are a counter read at scrape time', async (t) => {
  const kernel = await createTestKernel({ plugins: ['http', prometheus, 'tasks'], test: t });
  const tasks = kernel.resolve('tasks');
  await tasks.submit(async () => 'ok').result;
  await assert.rejects(tasks.submit(async () => Promise.reject(new Error('no'))).result);
  const families = parseExposition((await request(`${kernel.resolve('http').url}/metrics`)).text);
  assert.equal(families.get('mister_smith_task_completions_total')?.type, 'counter');
  const byStatus = Object.fromEntries(samples(families, 'mister_smith_task_completions_total').map((s) => [s.labels.status, s.value]));
  assert.equal(byStatus.succeeded, 1);
  assert.equal(byStatus.failed, 1);
  await tasks.submit(async () => 'again').result;
  const again = parseExposition((await request(`${kernel.resolve('http').url}/metrics`)).text);
  assert.equal(samples(again, 'mister_smith_task_completions_total').find((s) => s.labels.status === 'succeeded')?.value, 2);
});

test('Accept: application/openmetrics-text gets OpenMetrics, and later Prometheus scrapes stay intact', async (t) => {
  const kernel = await createTestKernel({ plugins: ['http', { use: prometheus, options: { defaultMetrics: false } }], test: t });
  kernel.metrics.counter({ name: 'om_events_total', help: 'Events' }).inc(3);
  const url = `${kernel.resolve('http').url}/metrics`;
  const om = await request(url, { headers: { accept: 'application/openmetrics-text; version=1.0.0,text/plain;q=0.5' } });
  assert.equal(om.status, 200);
  assert.match(String(om.headers['content-type']), /^application\/openmetrics-text; version=1\.0\.0/);
  const families = parseExposition(om.text, 'openmetrics');
  assert.equal(families.get('mister_smith_om_events')?.type, 'counter');
  assert.equal(samples(families, 'mister_smith_om_events_total')[0]?.value, 3);
  const again = parseExposition((await request(url)).text);
  assert.equal(again.get('mister_smith_om_events_total')?.type, 'counter', 'OpenMetrics rendering did not rename the counter');
  assert.equal(samples(again, 'mister_smith_om_events_total')[0]?.value, 3);
});

test('label sets beyond maxLabelSets fold into "other" with one warning per metric', async (t) => {
  const { logger, lines } = capturedLogger();
  const kernel = await createTestKernel({ plugins: ['http', { use: prometheus, options: { defaultMetrics: false, maxLabelSets: 3 } }], logger, test: t });
  const byUser = kernel.metrics.counter({ name: 'requests_by_user_total', help: 'Unbounded label', labelNames: ['user', 'verb'] });
  const depth = kernel.metrics.gauge({ name: 'depth_by_queue', help: 'Another one', labelNames: ['queue'] });
  for (let i = 0; i < 10; i++) byUser.inc({ user: `u${i}`, verb: 'get' });
  byUser.inc({ verb: 'get', user: 'u1' }, 5);
  for (let i = 0; i < 5; i++) depth.set({ queue: `q${i}` }, i);
  const families = parseExposition((await request(`${kernel.resolve('http').url}/metrics`)).text);
  const series = samples(families, 'mister_smith_requests_by_user_total').map((s) => [s.labels.user, s.labels.verb, s.value]);
  assert.deepEqual(series, [
    ['u0', 'get', 1],
    ['u1', 'get', 6],
    ['u2', 'get', 1],
    ['other', 'other', 7],
  ]);
  assert.deepEqual(
    samples(families, 'mister_smith_depth_by_queue').map((s) => s.labels.queue),
    ['q0', 'q1', 'q2', 'other'],
  );
  const warnings = lines.filter((l) => l.code === 'PROMETHEUS_LABEL_CAP_REACHED' && String(l.metric).includes('_by_'));
  assert.deepEqual(warnings.map((w) => w.metric).sort(), ['mister_smith_depth_by_queue', 'mister_smith_requests_by_user_total']);
});

test('gauges with collect are read on each scrape; a throwing collect keeps the last value', async (t) => {
  const { logger, lines } = capturedLogger();
  const kernel = await createTestKernel({ plugins: [{ use: prometheus, options: { defaultMetrics: false } }], logger, test: t });
  let depth = 7;
  let collects = 0;
  const queue = kernel.metrics.gauge({ name: 'queue_depth', help: 'Read on scrape', collect: () => ((collects += 1), queue.set(depth)) });
  let fail = false;
  const flaky = kernel.metrics.gauge({
    name: 'flaky',
    help: 'Collect may throw',
    collect: () => {
      if (fail) throw new Error('sensor offline');
      flaky.set(1);
    },
  });
  const service = kernel.resolve('prometheus');
  assert.equal(samples(parseExposition(await service.metrics()), 'mister_smith_queue_depth')[0]?.value, 7);
  depth = 9;
  fail = true;
  const families = parseExposition(await service.metrics());
  assert.equal(samples(families, 'mister_smith_queue_depth')[0]?.value, 9);
  assert.equal(samples(families, 'mister_smith_flaky')[0]?.value, 1);
  assert.equal(collects, 2);
  assert.equal(lines.filter((l) => l.code === 'PROMETHEUS_COLLECT_FAILED').length, 1);
});

test('bad labels and rejected metrics never throw into the caller', async (t) => {
  const { logger, lines } = capturedLogger();
  const kernel = await createTestKernel({ plugins: [prometheus], logger, test: t });
  const c = kernel.metrics.counter({ name: 'typed_total', help: 'Declares one label', labelNames: ['a'] });
  c.inc({ b: 'undeclared' });
  c.inc({ b: 'undeclared' });
  c.inc({ a: 'ok' });
  // Prefixed, this collides with prom-client's default process metric of the same name.
  const clash = kernel.metrics.counter({ name: 'process_cpu_seconds_total', help: 'Clashes with a default metric' });
  clash.inc();
  const families = parseExposition(await kernel.resolve('prometheus').metrics());
  assert.deepEqual(samples(families, 'mister_smith_typed_total').map((s) => s.labels.a), ['ok']);
  assert.equal(lines.filter((l) => l.code === 'PROMETHEUS_INVALID_LABELS').length, 1);
  assert.equal(lines.filter((l) => l.code === 'PROMETHEUS_METRIC_REJECTED').length, 1);
  assert.match(String(families.get('mister_smith_process_cpu_seconds_total')?.help), /CPU/);
});

test('each kernel has its own registry; the path is configurable; /metrics honours http auth', async (t) => {
  const a = await createTestKernel({ plugins: [{ use: 'http', options: { auth: { token: 't' } } }, { use: prometheus, options: { path: '/prom', defaultMetrics: false } }], test: t });
  const b = await createTestKernel({ plugins: [{ use: prometheus, options: { defaultMetrics: false } }], test: t });
  a.metrics.counter({ name: 'only_in_a_total', help: 'a' }).inc();
  assert.notEqual(a.resolve('prometheus').registry, b.resolve('prometheus').registry);
  assert.doesNotMatch(await b.resolve('prometheus').metrics(), /only_in_a/);
  const url = a.resolve('http').url!;
  assert.equal((await request(`${url}/prom`)).status, 401);
  const ok = await request(`${url}/prom`, { headers: { authorization: 'Bearer t' } });
  assert.equal(ok.status, 200);
  assert.match(ok.text, /^mister_smith_only_in_a_total 1$/m);
  assert.equal((await request(`${url}/metrics`, { headers: { authorization: 'Bearer t' } })).status, 404);
});

test('LabelSetLimiter keys by declared label order', () => {
  let warned = 0;
  const limiter = new LabelSetLimiter(['a', 'b'], 1, () => (warned += 1));
  assert.deepEqual(limiter.admit({ a: 1, b: 2 }), { a: 1, b: 2 });
  assert.deepEqual(limiter.admit({ b: 2, a: 1 }), { b: 2, a: 1 });
  assert.deepEqual(limiter.admit({ a: 3, b: 2 }), { a: 'other', b: 'other' });
  limiter.admit({ a: 4, b: 2 });
  assert.equal(warned, 1);
  assert.equal(limiter.size, 1);
});

test('options: {} validates with the documented defaults', () => {
  assert.deepEqual(PrometheusOptionsSchema.parse({}), { path: '/metrics', defaultMetrics: true, maxLabelSets: 1000 });
  assert.equal(PrometheusOptionsSchema.safeParse({ path: 'metrics' }).success, false);
  assert.equal(PrometheusOptionsSchema.safeParse({ maxLabelSets: 0 }).success, false);
});

test('metrics-prometheus passes the plugin conformance check, alone and with http', async () => {
  await checkPluginConformance(prometheus);
  await checkPluginConformance(prometheus, {
    with: ['http'],
    exercise: async (kernel) => {
      const res = await request(`${kernel.resolve('http').url}/metrics`);
      assert.equal(res.status, 200);
      parseExposition(res.text);
    },
  });
});

test('the Grafana dashboard is valid JSON and charts the built-in metrics', async () => {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../../../plugins/metrics-prometheus/grafana-dashboard.json', import.meta.url), 'utf8');
  const dashboard = JSON.parse(text) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr).join('\n');
  for (const name of [
    'mister_smith_supervisor_restarts_total',
    'mister_smith_messages_sent_total',
    'mister_smith_message_queue_depth',
    'mister_smith_actor_dead_letters_total',
    'mister_smith_events_published_total',
    'mister_smith_tool_calls_total',
    'mister_smith_task_completions_total',
    'mister_smith_task_queue_depth',
    'mister_smith_circuit_breaker_state',
    'mister_smith_kernel_phase_duration_seconds',
    'mister_smith_process_cpu_seconds_total',
    'mister_smith_nodejs_heap_size_used_bytes',
    'mister_smith_health_check_status',
    'mister_smith_http_requests_total',
  ]) {
    assert.ok(exprs.includes(name), `dashboard charts ${name}`);
  }
});
