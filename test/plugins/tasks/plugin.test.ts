import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { definePlugin, NetworkError, type Services } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import resilience from '../../../plugins/resilience/index.js';
import tasks from '../../../plugins/tasks/index.js';
import type { HealthCheck, HealthService } from '../../../plugins/health/types.js';

function fakeHealth() {
  const checks = new Map<string, HealthCheck>();
  const plugin = definePlugin({
    name: 'health',
    version: '0.0.0',
    setup(ctx) {
      // Only register matters here; cast so the stand-in survives additions to the health contract.
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

test('tasks retry through a named resilience policy', async (t) => {
  const kernel = await createTestKernel({
    plugins: [{ use: resilience, options: { policies: { net: { retry: { maxAttempts: 3, backoff: { initialMs: 1, jitter: 0 } } } } } }, tasks],
    test: t,
  });
  const service: Services['tasks'] = kernel.resolve('tasks');
  const attempts: number[] = [];
  const handle = service.submit({
    policy: 'net',
    run: ({ attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new NetworkError('NET_RESET', 'reset');
      return 'third time lucky';
    },
  });
  assert.equal(await handle.result, 'third time lucky');
  assert.deepEqual(attempts, [1, 2, 3]);
  await assert.rejects(service.submit({ policy: 'nope', run: () => 1 }).result, { code: 'RESILIENCE_UNKNOWN_POLICY' });
});

test('a policy name without the resilience plugin is a typed error', async (t) => {
  const kernel = await createTestKernel({ plugins: [tasks], test: t });
  await assert.rejects(kernel.resolve('tasks').submit({ policy: 'net', run: () => 1 }).result, { code: 'TASK_POLICY_UNAVAILABLE' });
});

test('stopping the kernel drains: queued rejected, running finish, stragglers aborted within the deadline', async () => {
  const kernel = await createTestKernel({ plugins: [{ use: tasks, options: { maxConcurrent: 2, drainTimeoutMs: 1000 } }] });
  const service = kernel.resolve('tasks');
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const finishing = service.submit(async () => {
    await gate;
    return 'done';
  });
  const straggler = service.submit(() => new Promise<never>(() => {}));
  const queued = service.submit(() => 'never');
  assert.equal(service.stats().running, 2);
  const stopping = kernel.stop();
  release(); // finishes during the drain, well before its deadline
  const report = await stopping;
  assert.deepEqual(report.errors, []);
  assert.equal(await finishing.result, 'done');
  await assert.rejects(straggler.result, { code: 'TASK_EXECUTOR_SHUTDOWN' });
  await assert.rejects(queued.result, { code: 'TASK_EXECUTOR_SHUTDOWN' });
  await assert.rejects(service.submit(() => 1).result, { code: 'TASK_EXECUTOR_SHUTDOWN' });
});

test('metrics: completions by status, queue depth by priority, running, durations', async (t) => {
  const kernel = await createTestKernel({ plugins: [{ use: tasks, options: { maxConcurrent: 1 } }], test: t });
  const service = kernel.resolve('tasks');
  let release!: () => void;
  const running = service.submit(() => new Promise<void>((r) => (release = r)));
  const queued = [service.submit({ run: () => 1, priority: 'high' }), service.submit({ run: () => 2, priority: 'low' })];
  await delay(1);
  const m = kernel.recordedMetrics;
  assert.equal(m.value('tasks_running'), 1);
  assert.equal(m.value('task_queue_depth', { priority: 'high' }), 1);
  assert.equal(m.value('task_queue_depth', { priority: 'low' }), 1);
  release();
  await running.result;
  await Promise.all(queued.map((h) => h.result));
  await assert.rejects(service.submit(() => Promise.reject(new Error('x'))).result);
  assert.equal(m.value('task_completions_total', { status: 'succeeded' }), 3);
  assert.equal(m.value('task_completions_total', { status: 'failed' }), 1);
  assert.equal(m.value('task_submissions_total'), 4);
  assert.equal(m.observations('task_duration_seconds').length, 4);
  assert.equal(m.value('tasks_running'), 0);
});

test('health: queue above 80 % is degraded', async (t) => {
  const health = fakeHealth();
  const kernel = await createTestKernel({ plugins: [health.plugin, { use: tasks, options: { maxConcurrent: 1, queueCapacity: 10 } }], test: t });
  const service = kernel.resolve('tasks');
  const check = (): Promise<{ status: string }> => Promise.resolve(health.checks.get('tasks')!(AbortSignal.timeout(1_000)));
  assert.equal((await check()).status, 'healthy');
  let release!: () => void;
  const blocker = service.submit(() => new Promise<void>((r) => (release = r)));
  const queued = Array.from({ length: 9 }, () => service.submit(() => 1));
  assert.equal((await check()).status, 'degraded');
  release();
  await blocker.result;
  await Promise.all(queued.map((h) => h.result));
  assert.equal((await check()).status, 'healthy');
});

test('options: {} validates to the seed defaults', () => {
  assert.deepEqual(tasks.options!.parse({}), { maxConcurrent: 100, queueCapacity: 1000, timeoutMs: 30_000, drainTimeoutMs: 10_000, degradedQueueRatio: 0.8 });
  const bad = tasks.options!.safeParse({ maxConcurrent: 0 });
  assert.equal(bad.success, false);
});

test('tasks passes plugin conformance with defaults', async () => {
  await checkPluginConformance(tasks);
});

test('tasks passes plugin conformance after running, timing out and streaming work', async () => {
  await checkPluginConformance(tasks, {
    with: [{ use: resilience, options: { policies: { p: { retry: {}, timeoutMs: 50 } } } }],
    options: { timeoutMs: 20 },
    async exercise(kernel) {
      const service = kernel.resolve<Services['tasks']>('tasks');
      await Promise.allSettled([
        service.submit(() => 1).result,
        service.submit(() => new Promise<never>(() => {})).result,
        service.submit({ policy: 'p', run: () => 2 }).result,
        service.stream([1, 2, 3], [(x: number) => x * 2], () => {}),
      ]);
      service.submit(() => new Promise<never>(() => {}));
      service.submit({ run: () => delay(5), timeoutMs: 0 });
    },
  });
});
