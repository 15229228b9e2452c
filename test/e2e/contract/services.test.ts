/**
 * http, health, metrics-prometheus, resilience and tasks used through their public services.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { definePlugin, MisterSmithError } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import { rejectsWithCode } from './helpers.js';

describe('§4 http, health, metrics-prometheus', () => {
  test('http.route + http.url on 127.0.0.1:ephemeral; /livez /readyz /healthz; /metrics with mister_smith_', async (t) => {
    const kernel = await createTestKernel({ plugins: ['http', 'health', 'metrics-prometheus'], test: t });
    const http = kernel.resolve('http');
    http.route('GET', '/hello/:who', (req) => ({ status: 200, body: { hello: req.params.who } }));
    const url = http.url!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+/);
    assert.notEqual(new URL(url).port, '0');
    http.route('get' as 'GET', '/lower', () => ({ body: 'any case' }));
    assert.match(await (await fetch(new URL('/lower', url))).text(), /any case/);
    http.route('GET', '/raw', (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('raw'));
    assert.equal(await (await fetch(new URL('/raw', url))).text(), 'raw');
    const hello = await fetch(new URL('/hello/ada', url));
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), { hello: 'ada' });

    const health = kernel.resolve('health');
    assert.equal((await fetch(new URL('/livez', url))).status, 200);
    assert.equal((await fetch(new URL('/readyz', url))).status, 200);
    let status: 'healthy' | 'unhealthy' = 'unhealthy';
    health.register('db', () => ({ status }), { timeoutMs: 5000, critical: true, kind: 'ready' });
    health.register('slow', () => new Promise(() => {}), { timeoutMs: 20, kind: 'ready' });
    await health.run();
    assert.equal((await fetch(new URL('/readyz', url))).status, 503, 'a critical ready check that is unhealthy → 503');
    const detail = (await (await fetch(new URL('/healthz', url))).json()) as { checks: Record<string, { status: string }> };
    assert.equal(detail.checks.db?.status, 'unhealthy');
    assert.ok(['unhealthy', 'unknown', 'degraded'].includes(detail.checks.slow!.status), 'a check past its timeout is not healthy');
    assert.equal((await fetch(new URL('/livez', url))).status, 200, 'a ready check does not fail liveness');
    status = 'healthy';
    await health.run();
    assert.equal((await fetch(new URL('/readyz', url))).status, 200);

    const metrics = await fetch(new URL('/metrics', url));
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^# HELP mister_smith_/m);
    assert.match(text, /mister_smith_process_/, 'default process metrics');
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      assert.match(line, /^mister_smith_/, line);
    }
  });

  test('http: optional bearer token; body limit', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'http', options: { auth: { token: 's3cret' }, bodyLimitBytes: 16 } }], test: t });
    const http = kernel.resolve('http');
    http.route('POST', '/echo', (req) => ({ body: { got: req.body } }));
    const url = new URL('/echo', http.url!);
    const post = (body: string, token?: string) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    assert.equal((await post('{}')).status, 401);
    assert.equal((await post('{}', 'wrong')).status, 401);
    const ok = await post('{"a":1}', 's3cret');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { got: { a: 1 } });
    assert.equal((await post(JSON.stringify({ much: 'x'.repeat(100) }), 's3cret')).status, 413);
  });

  test('a facade metric defined before the prometheus plugin loads is exported', async (t) => {
    const early = definePlugin({
      name: 'early',
      version: '1.0.0',
      setup(ctx) {
        const things = ctx.metrics.counter({ name: 'early_things_total', help: 'things', labelNames: ['k'] });
        ctx.onStart(() => things.inc({ k: 'v' }, 3));
      },
    });
    const kernel = await createTestKernel({ plugins: [early, 'metrics-prometheus'], test: t });
    assert.deepEqual(kernel.timeline().filter((r) => r.phase === 'setup').map((r) => r.plugin), ['early', 'metrics-prometheus']);
    const text = await kernel.resolve('prometheus').metrics();
    assert.match(text, /mister_smith_early_things_total\{k="v"\} 3/);
  });
});

describe('§4 resilience and tasks', () => {
  test('resilience.policy(name).execute(({ signal, attempt }) => …, { signal }) from options.policies.<name>', async (t) => {
    const kernel = await createTestKernel({
      plugins: [
        {
          use: 'resilience',
          options: {
            policies: {
              flaky: { retry: { maxAttempts: 3, backoff: { initialMs: 1, maxMs: 2 } }, timeoutMs: 1000 },
              quick: { timeoutMs: 20 },
              breaker: { circuitBreaker: { failureThreshold: 1, resetMs: 60_000 } },
              narrow: { bulkhead: { maxConcurrent: 1, maxQueue: 0 } },
            },
          },
        },
      ],
      test: t,
    });
    const resilience = kernel.resolve('resilience');
    const attempts: number[] = [];
    const value = await resilience.policy('flaky').execute(({ signal, attempt }) => {
      assert.ok(signal instanceof AbortSignal);
      attempts.push(attempt);
      if (attempts.length < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'ok';
    }, { signal: new AbortController().signal });
    assert.equal(value, 'ok');
    assert.deepEqual(attempts, [1, 2, 3]);

    let aborted = false;
    await assert.rejects(
      resilience.policy('quick').execute(({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => ((aborted = true), resolve(0))))),
      (e: unknown) => e instanceof MisterSmithError,
    );
    assert.ok(aborted, 'the timeout aborts the attempt signal');

    await assert.rejects(resilience.policy('breaker').execute(() => Promise.reject(new Error('down'))));
    await assert.rejects(resilience.policy('breaker').execute(() => 'never runs'), (e: unknown) => e instanceof MisterSmithError);

    let release!: () => void;
    const busy = resilience.policy('narrow').execute(() => new Promise<void>((r) => (release = r)));
    await assert.rejects(resilience.policy('narrow').execute(() => 1), (e: unknown) => e instanceof MisterSmithError);
    release();
    await busy;

    const caller = new AbortController();
    const cancelled = resilience.policy('flaky').execute(({ signal }) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))), { signal: caller.signal });
    caller.abort();
    await assert.rejects(cancelled);
  });

  test('tasks: options maxConcurrent (100) / queueCapacity (1000) / timeoutMs (30000) and submit', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'tasks', options: { maxConcurrent: 1, queueCapacity: 1, timeoutMs: 30 } }], test: t });
    const tasks = kernel.resolve('tasks');
    assert.equal(await tasks.submit(({ signal, attempt }) => (signal instanceof AbortSignal ? attempt : -1)).result, 1);
    let release!: () => void;
    const running = tasks.submit({ run: () => new Promise<void>((r) => (release = r)), priority: 'high', timeoutMs: 5_000 });
    const queued = tasks.submit(() => 'queued');
    const refused = tasks.submit(() => 'refused');
    await rejectsWithCode(refused.result, 'TASK_QUEUE_FULL');
    release();
    await running.result;
    assert.equal(await queued.result, 'queued');
    // a priority executor: with the one slot busy, queued tasks run by priority, not arrival
    const prio = (await createTestKernel({ plugins: [{ use: 'tasks', options: { maxConcurrent: 1, queueCapacity: 10 } }], test: t })).resolve('tasks');
    let hold!: () => void;
    const blocker = prio.submit(() => new Promise<void>((r) => (hold = r)));
    const order: string[] = [];
    const queuedByPriority = (['low', 'normal', 'high', 'critical'] as const).map((priority) => prio.submit({ run: () => void order.push(priority), priority }));
    for (let i = 0; i < 200 && typeof hold !== 'function'; i++) await delay(5);
    hold();
    await blocker.result;
    await Promise.all(queuedByPriority.map((h) => h.result));
    assert.deepEqual(order, ['critical', 'high', 'normal', 'low']);
    const late = tasks.submit(({ signal }) => delay(10_000, undefined, { signal }));
    await assert.rejects(late.result, (e: unknown) => e instanceof MisterSmithError && /TIMEOUT/.test(e.code));

    // streams: source → stages → sink, with backpressure
    const out: number[] = [];
    const stats = await tasks.stream([1, 2, 3], [(x: number) => x * 2, { name: 'inc', process: (x: number) => x + 1 }], (x: number) => void out.push(x));
    assert.deepEqual(out, [3, 5, 7]);
    assert.equal(stats.processed, 3);

    const defaults = await createTestKernel({ plugins: ['tasks'], test: t });
    const ts = defaults.resolve('tasks');
    let concurrent = 0;
    let peak = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const handles = Array.from({ length: 150 }, () =>
      ts.submit(async () => {
        concurrent++;
        peak = Math.max(peak, concurrent);
        await gate;
        concurrent--;
      }),
    );
    await delay(20);
    assert.equal(peak, 100, 'maxConcurrent defaults to 100');
    assert.equal(ts.stats().queued, 50);
    open();
    await Promise.all(handles.map((h) => h.result));
  });
});

// ---------------------------------------------------------------------------------------------
// §1/§2 package exports and the CLI, as a consumer runs them
// ---------------------------------------------------------------------------------------------
