import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { MetricsFacade } from '../../../kernel/MetricsFacade.js';
import type { EventBus, EventInput, StoredEvent } from '../../../plugins/events/types.js';
import health, { EventLoopDelayCheck, HealthMonitor, HealthOptionsSchema, heapUsageCheck } from '../../../plugins/health/index.js';
import type { CheckResult, CheckState, HealthReport, HealthService, HealthStatus } from '../../../plugins/health/index.js';
import { definePlugin, type KernelState, type MisterSmithError } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import { deferred, request } from '../http/helpers.js';

const QUIET = { eventLoop: { enabled: false }, heap: { enabled: false } };

function monitor(overrides: { kernelState?: () => KernelState; onChange?: (c: unknown) => void } = {}) {
  return new HealthMonitor({
    intervalMs: 30_000,
    timeoutMs: 5_000,
    version: 'test',
    logger: pino({ level: 'silent' }),
    metrics: new MetricsFacade(),
    kernelState: overrides.kernelState ?? (() => 'running'),
    ...(overrides.onChange ? { onChange: overrides.onChange } : {}),
  });
}

/** A plugin that registers checks with the health service during setup. */
function checks(register: (h: HealthService) => void) {
  return definePlugin({ name: 'checks', version: '1.0.0', dependsOn: ['health'], setup: (ctx) => register(ctx.resolve('health')) });
}

test('a check that throws is unhealthy with its message; invalid results are unhealthy too', async () => {
  const m = monitor();
  m.register('ok', () => ({ status: 'healthy' }));
  m.register('slow-ok', async () => ({ status: 'degraded', message: 'slow', details: { ms: 3 } }));
  m.register('throws', () => {
    throw new Error('database is gone');
  });
  m.register('rejects', () => Promise.reject(new Error('nope')));
  m.register('garbage', () => 'fine' as unknown as CheckResult);
  m.register('bad-status', () => ({ status: 'great' }) as unknown as CheckResult);
  const report = await m.run();
  assert.equal(report.checks.ok!.status, 'healthy');
  assert.deepEqual({ ...report.checks['slow-ok'] }.details, { ms: 3 });
  assert.equal(report.checks['slow-ok']!.message, 'slow');
  assert.deepEqual([report.checks.throws!.status, report.checks.throws!.message], ['unhealthy', 'database is gone']);
  assert.equal(report.checks.rejects!.message, 'nope');
  assert.equal(report.checks.garbage!.status, 'unhealthy');
  assert.match(report.checks['bad-status']!.message!, /"great"/);
  assert.equal(report.status, 'degraded', 'non-critical failures degrade the overall status');
  assert.ok(report.checks.ok!.latencyMs! >= 0);
  assert.ok(!Number.isNaN(Date.parse(report.checks.ok!.lastRun!)));
});

test('a check that outlives its timeout is unhealthy "timed out after N ms" and its signal aborts', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const m = monitor();
  let aborted = false;
  m.register('hangs', (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))));
  m.register('quick', () => ({ status: 'healthy' }), { timeoutMs: 10 });
  const running = m.run('hangs');
  t.mock.timers.tick(4_999);
  await Promise.resolve();
  assert.equal(m.report().checks.hangs!.status, 'unknown');
  t.mock.timers.tick(1);
  const state = await running;
  assert.equal(state.status, 'unhealthy');
  assert.equal(state.message, 'timed out after 5000 ms');
  assert.ok(aborted);
});

test('checks run on their own intervals with cached results, never overlapping, until stop', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const m = monitor();
  const runs = { fast: 0, slow: 0 };
  m.register('fast', () => ((runs.fast += 1), { status: 'healthy' }), { intervalMs: 1_000 });
  m.register('slow', () => ((runs.slow += 1), { status: 'healthy' }));
  await m.start();
  assert.deepEqual(runs, { fast: 1, slow: 1 });
  const flush = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  for (let i = 0; i < 3; i++) {
    t.mock.timers.tick(1_000);
    await flush();
  }
  assert.deepEqual(runs, { fast: 4, slow: 1 });
  m.report();
  m.report();
  assert.equal(runs.fast, 4, 'reports read the cache');
  t.mock.timers.tick(26_000);
  await flush();
  assert.equal(runs.slow, 1);
  t.mock.timers.tick(1_000);
  await flush();
  assert.equal(runs.slow, 2, 'the default interval is 30 s');
  m.stop();
  const before = { ...runs };
  t.mock.timers.tick(120_000);
  await flush();
  assert.deepEqual(runs, before, 'no timer survives stop');
});

test('a check registered after start runs at once; unregistering stops it; names and options are validated', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const m = monitor();
  await m.start();
  let runs = 0;
  const remove = m.register('late', () => ((runs += 1), { status: 'healthy' }), { intervalMs: 100 });
  await Promise.resolve();
  assert.equal(runs, 1);
  assert.throws(() => m.register('late', () => ({ status: 'healthy' })), (e: MisterSmithError) => e.code === 'HEALTH_CHECK_CONFLICT');
  assert.throws(() => m.register('x', () => ({ status: 'healthy' }), { timeoutMs: 0 }), (e: MisterSmithError) => e.code === 'HEALTH_INVALID_OPTIONS');
  assert.throws(() => m.register('y', () => ({ status: 'healthy' }), { intervalMs: -1 }), (e: MisterSmithError) => e.code === 'HEALTH_INVALID_OPTIONS');
  assert.throws(() => m.register('z', () => ({ status: 'healthy' }), { kind: 'sometimes' as 'live' }), (e: MisterSmithError) => e.code === 'HEALTH_INVALID_OPTIONS');
  assert.throws(() => m.register('', () => ({ status: 'healthy' })), (e: MisterSmithError) => e.code === 'HEALTH_INVALID_OPTIONS');
  await assert.rejects(m.run('nope'), (e: MisterSmithError) => e.code === 'HEALTH_CHECK_NOT_FOUND' && /late/.test(e.message));
  await remove(); // a Disposer: resolves once the check is gone
  await remove();
  t.mock.timers.tick(1_000);
  await Promise.resolve();
  assert.equal(runs, 1);
  assert.equal(m.report().checks.late, undefined);
  m.stop();
});

test('overall status, liveness and readiness follow criticality and kind; degraded stays ready', async () => {
  let state: KernelState = 'running';
  const m = monitor({ kernelState: () => state });
  const statuses: Record<string, HealthStatus> = { live: 'healthy', ready: 'healthy', extra: 'healthy' };
  m.register('live', () => ({ status: statuses.live! }), { kind: 'live', critical: true });
  m.register('ready', () => ({ status: statuses.ready! }), { critical: true });
  m.register('extra', () => ({ status: statuses.extra! }));
  const expect = async (status: HealthStatus, live: boolean, ready: boolean) => {
    const r: HealthReport = await m.run();
    assert.deepEqual([r.status, r.live, r.ready], [status, live, ready], JSON.stringify(statuses));
  };
  assert.equal(m.report().status, 'unknown');
  await expect('healthy', true, true);
  statuses.ready = 'degraded';
  await expect('degraded', true, true);
  statuses.ready = 'healthy';
  statuses.extra = 'unhealthy';
  await expect('degraded', true, true);
  statuses.extra = 'unknown';
  await expect('unknown', true, true);
  statuses.ready = 'unhealthy';
  await expect('unhealthy', true, false);
  statuses.ready = 'healthy';
  statuses.live = 'unhealthy';
  await expect('unhealthy', false, true);
  statuses.live = 'healthy';
  state = 'starting';
  await expect('unknown', true, false);
  state = 'stopping';
  assert.equal(m.report().ready, false);
});

test('a status change publishes health.changed once when events are loaded; unchanged runs publish nothing', async (t) => {
  const published: EventInput[] = [];
  const events = definePlugin({
    name: 'events',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('events', {
        publish: async (input: EventInput) => (published.push(input), { ...input, id: '1', time: '', sequence: 1 } as StoredEvent),
        subscribe: () => ({ unsubscribe: async () => {} }),
      } as unknown as EventBus);
    },
  });
  let status: HealthStatus = 'healthy';
  const kernel = await createTestKernel({
    plugins: [events, { use: health, options: QUIET }, checks((h) => h.register('db', () => ({ status, message: status })))],
    test: t,
  });
  const service = kernel.resolve('health');
  await service.run('db');
  await service.run('db');
  status = 'unhealthy';
  await service.run('db');
  await service.run('db');
  assert.deepEqual(
    published.map((e) => [e.type, e.source, e.subject, (e.data as { from: string }).from, (e.data as { to: string }).to]),
    [
      ['health.changed', 'health', 'db', 'unknown', 'healthy'],
      ['health.changed', 'health', 'db', 'healthy', 'unhealthy'],
    ],
  );
  assert.equal((published[1]!.data as { message: string }).message, 'unhealthy');
  assert.equal(kernel.recordedMetrics.value('health_check_status', { check: 'db' }), 0);
});

test('/livez, /readyz and /healthz over real HTTP; a slow check times out and fails readiness', async (t) => {
  let dbStatus: HealthStatus = 'healthy';
  const kernel = await createTestKernel({
    plugins: [
      'http',
      { use: health, options: { version: '9.9.9' } },
      checks((h) => {
        h.register('db', () => ({ status: dbStatus, message: `db ${dbStatus}` }), { critical: true });
        h.register('cache', () => new Promise(() => {}), { timeoutMs: 50 });
        h.register('heart', () => ({ status: 'healthy' }), { kind: 'live', critical: true });
      }),
    ],
    test: t,
  });
  const url = kernel.resolve('http').url!;
  const healthz = await request(`${url}/healthz`);
  assert.equal(healthz.status, 200);
  const body = healthz.json<HealthReport>();
  assert.equal(body.status, 'degraded');
  assert.equal(body.version, '9.9.9');
  assert.equal(typeof body.uptimeSeconds, 'number');
  assert.deepEqual(Object.keys(body.checks).sort(), ['cache', 'db', 'event-loop', 'heap', 'heart']);
  const cache: CheckState = body.checks.cache!;
  assert.deepEqual([cache.status, cache.message], ['unhealthy', 'timed out after 50 ms']);
  assert.ok(cache.latencyMs! >= 45);
  assert.equal(typeof body.checks.db!.lastRun, 'string');
  assert.equal(body.checks.db!.message, 'db healthy');
  assert.equal((await request(`${url}/livez`)).status, 200);
  assert.equal((await request(`${url}/readyz`)).status, 200, 'a non-critical unhealthy check does not fail readiness');

  dbStatus = 'degraded';
  await kernel.resolve('health').run('db');
  assert.equal((await request(`${url}/readyz`)).status, 200, 'degraded is ready');

  dbStatus = 'unhealthy';
  await kernel.resolve('health').run('db');
  const notReady = await request(`${url}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(notReady.json().failing, ['db']);
  const unhealthy = await request(`${url}/healthz`);
  assert.equal(unhealthy.status, 503);
  assert.equal(unhealthy.json().status, 'unhealthy');
  assert.equal((await request(`${url}/livez`)).status, 200, 'a ready check does not fail liveness');
});

test('/livez is 503 when a critical live check is unhealthy', async (t) => {
  const kernel = await createTestKernel({
    plugins: ['http', { use: health, options: QUIET }, checks((h) => h.register('deadlock', () => ({ status: 'unhealthy' }), { kind: 'live', critical: true }))],
    test: t,
  });
  const res = await request(`${kernel.resolve('http').url}/livez`);
  assert.equal(res.status, 503);
  assert.deepEqual(res.json(), { status: 'not-alive', failing: ['deadlock'] });
});

test('probes skip bearer auth by default while /healthz requires it; publicProbes: false protects them too', async (t) => {
  const open = await createTestKernel({ plugins: [{ use: 'http', options: { auth: { token: 'tok' } } }, { use: health, options: QUIET }], test: t });
  const url = open.resolve('http').url!;
  assert.equal((await request(`${url}/livez`)).status, 200);
  assert.equal((await request(`${url}/readyz`)).status, 200);
  assert.equal((await request(`${url}/healthz`)).status, 401);
  assert.equal((await request(`${url}/healthz`, { headers: { authorization: 'Bearer tok' } })).status, 200);
  await open.stop();
  const closed = await createTestKernel({
    plugins: [{ use: 'http', options: { auth: { token: 'tok' } } }, { use: health, options: { ...QUIET, publicProbes: false } }],
    test: t,
  });
  assert.equal((await request(`${closed.resolve('http').url}/readyz`)).status, 401);
});

test('/readyz is 503 while the kernel is starting and while it is stopping', async (t) => {
  const startGate = deferred();
  const stopGate = deferred();
  const gate = definePlugin({
    name: 'gate',
    version: '1.0.0',
    dependsOn: ['http', 'health'],
    setup(ctx) {
      ctx.onStart(() => startGate.promise);
      ctx.onStop(() => stopGate.promise);
    },
  });
  const kernel = await createTestKernel({ plugins: ['http', { use: health, options: QUIET }, gate], start: false, test: t });
  const starting = kernel.start();
  const service = kernel.resolve('http');
  while (service.url === undefined) await delay(5);
  const url = service.url;
  const duringStart = await request(`${url}/readyz`);
  assert.equal(duringStart.status, 503);
  assert.equal(duringStart.json().kernel, 'starting');
  assert.match(String(duringStart.json().reason), /starting/);
  assert.equal((await request(`${url}/livez`)).status, 200, 'starting is alive');
  startGate.resolve();
  await starting;
  assert.equal((await request(`${url}/readyz`)).status, 200);

  const stopping = kernel.stop('test');
  while (kernel.state !== 'stopping') await delay(5);
  const duringStop = await request(`${url}/readyz`);
  assert.equal(duringStop.status, 503);
  assert.equal(duringStop.json().kernel, 'stopping');
  assert.equal((await request(`${url}/livez`)).status, 200, 'a graceful stop is not a liveness failure');
  stopGate.resolve();
  assert.deepEqual((await stopping).errors, []);
});

test('the first run waits for every plugin to start: a check of a later plugin sees it started', async (t) => {
  let started = false;
  const late = definePlugin({
    name: 'late',
    version: '1.0.0',
    dependsOn: ['health'],
    setup(ctx) {
      ctx.resolve('health').register('late', () => ({ status: started ? 'healthy' : 'unhealthy' }), { critical: true });
      ctx.onStart(async () => {
        await delay(10);
        started = true;
      });
    },
  });
  const kernel = await createTestKernel({ plugins: [{ use: health, options: QUIET }, late], test: t });
  assert.equal(kernel.resolve('health').report().checks.late!.status, 'healthy');
  assert.equal(kernel.resolve('health').report().ready, true);
});

test('the event-loop check reports a blocked loop and goes unknown when stopped', async () => {
  const check = new EventLoopDelayCheck({ degradedMs: 20, unhealthyMs: 10_000, resolutionMs: 10 });
  assert.equal((await check.check(new AbortController().signal)).status, 'unknown');
  check.start();
  await delay(30);
  const until = performance.now() + 80;
  while (performance.now() < until) {
    // block the loop on purpose
  }
  await delay(30);
  const blocked = await check.check(new AbortController().signal);
  assert.equal(blocked.status, 'degraded', JSON.stringify(blocked));
  assert.ok((blocked.details as { p99Ms: number }).p99Ms >= 20);
  check.stop();
  assert.equal((await check.check(new AbortController().signal)).status, 'unknown');
});

test('the heap check compares used heap with the limit', async () => {
  const signal = new AbortController().signal;
  const at = (used: number) => heapUsageCheck({ degradedRatio: 0.8, unhealthyRatio: 0.9, read: () => ({ used_heap_size: used, heap_size_limit: 100 }) })(signal) as CheckResult;
  assert.equal(at(50).status, 'healthy');
  assert.equal(at(85).status, 'degraded');
  assert.equal(at(95).status, 'unhealthy');
  assert.match(at(95).message!, /95%/);
  assert.equal((heapUsageCheck({ degradedRatio: 0.98, unhealthyRatio: 0.99 })(signal) as CheckResult).status, 'healthy');
});

test('options: {} validates with the documented defaults; inverted thresholds do not', () => {
  const o = HealthOptionsSchema.parse({});
  assert.equal(o.intervalMs, 30_000);
  assert.equal(o.timeoutMs, 5_000);
  assert.equal(o.eventLoop.degradedMs, 200);
  assert.equal(o.heap.unhealthyRatio, 0.95);
  assert.equal(HealthOptionsSchema.safeParse({ eventLoop: { degradedMs: 500, unhealthyMs: 100 } }).success, false);
  assert.equal(HealthOptionsSchema.safeParse({ heap: { degradedRatio: 0.99, unhealthyRatio: 0.9 } }).success, false);
});

test('health passes the plugin conformance check, alone and with http', async () => {
  await checkPluginConformance(health);
  await checkPluginConformance(health, {
    with: ['http'],
    exercise: async (kernel) => {
      assert.equal((await request(`${kernel.resolve('http').url}/readyz`)).status, 200);
    },
  });
});


test('with the real events plugin, status changes land in the log as health.changed', async (t) => {
  let status: HealthStatus = 'healthy';
  const kernel = await createTestKernel({
    plugins: ['events', { use: health, options: QUIET }, checks((h) => h.register('svc', () => ({ status })))],
    test: t,
  });
  const service = kernel.resolve('health');
  await service.run('svc');
  status = 'degraded';
  await service.run('svc');
  await service.run('svc');
  const seen: Array<[string | undefined, unknown]> = [];
  for await (const event of kernel.resolve('events').replay({ types: ['health.changed'] })) {
    const data = event.data as { check: string; to: string };
    if (data.check === 'svc') seen.push([event.subject, data.to]);
  }
  assert.deepEqual(seen, [
    ['svc', 'healthy'],
    ['svc', 'degraded'],
  ]);
});
