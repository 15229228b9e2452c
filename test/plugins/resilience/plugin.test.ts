import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin, NetworkError, type Services } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import resilience from '../../../plugins/resilience/index.js';
import type { EventBus, EventInput, StoredEvent } from '../../../plugins/events/types.js';
import type { CheckResult, HealthCheck, HealthService } from '../../../plugins/health/types.js';

/** Stand-ins for the events and health plugins: they record what resilience hands them. */
function fakes() {
  const published: EventInput[] = [];
  const checks = new Map<string, HealthCheck>();
  const events = definePlugin({
    name: 'events',
    version: '0.0.0',
    setup(ctx) {
      // Only publish matters here; cast so the stand-in survives additions to the events contract.
      const bus = {
        async publish<D>(input: EventInput<D>) {
          published.push(input);
          return { ...input, id: String(published.length), time: new Date().toISOString(), sequence: published.length, data: input.data as D } as StoredEvent<D>;
        },
      } as unknown as EventBus;
      ctx.provide('events', bus);
    },
  });
  const health = definePlugin({
    name: 'health',
    version: '0.0.0',
    setup(ctx) {
      const service = {
        register(name: string, check: HealthCheck) {
          checks.set(name, check);
          return () => void checks.delete(name);
        },
      } as unknown as HealthService;
      ctx.provide('health', service);
    },
  });
  return { events, health, published, checks };
}

const options = {
  policies: {
    flaky: { retry: { maxAttempts: 2, backoff: { initialMs: 1, jitter: 0 } }, circuitBreaker: { failureThreshold: 1, resetMs: 60_000 } },
    plain: {},
  },
};

test('the service applies named policies; an unknown name is a typed error', async (t) => {
  const kernel = await createTestKernel({ plugins: [{ use: resilience, options }], test: t });
  const service: Services['resilience'] = kernel.resolve('resilience');
  assert.equal(service.has('flaky'), true);
  assert.deepEqual(service.names().sort(), ['flaky', 'plain']);
  assert.equal(await service.policy('plain').execute(({ attempt }) => `attempt ${attempt}`), 'attempt 1');
  assert.throws(() => service.policy('nope'), (e: Error & { code?: string }) => e.code === 'RESILIENCE_UNKNOWN_POLICY' && /flaky, plain/.test(e.message));
});

test('retries and breaker transitions are counted, published as events and shown in health', async (t) => {
  const f = fakes();
  const kernel = await createTestKernel({ plugins: [f.events, f.health, { use: resilience, options }], test: t });
  const policy = kernel.resolve('resilience').policy('flaky');
  assert.equal((await f.checks.get('resilience.flaky')!(AbortSignal.timeout(1000))).status, 'healthy');
  assert.equal(f.checks.has('resilience.plain'), false, 'only policies with a breaker get a check');

  await assert.rejects(policy.execute(() => Promise.reject(new NetworkError('NET_DOWN', 'down'))), { code: 'RESILIENCE_RETRIES_EXHAUSTED' });
  assert.equal(policy.circuit?.state, 'open');

  const metrics = kernel.recordedMetrics;
  assert.equal(metrics.value('resilience_retries_total', { policy: 'flaky' }), 1);
  assert.equal(metrics.value('circuit_breaker_transitions_total', { policy: 'flaky', to: 'open' }), 1);
  assert.equal(metrics.value('circuit_breaker_state', { policy: 'flaky' }), 2);

  await assert.rejects(policy.execute(async () => 1), { code: 'RESILIENCE_CIRCUIT_OPEN' });
  assert.equal(metrics.value('resilience_rejections_total', { policy: 'flaky', reason: 'circuit-open' }), 1);

  const types = f.published.map((e) => e.type);
  assert.deepEqual(types, ['resilience.retry', 'resilience.circuit.opened']);
  assert.equal(f.published[0]!.subject, 'flaky');
  assert.deepEqual(
    { ...(f.published[0]!.data as object) },
    { policy: 'flaky', attempt: 1, delayMs: 1, code: 'NET_DOWN', message: 'down' },
  );
  const check: CheckResult = await f.checks.get('resilience.flaky')!(AbortSignal.timeout(1000));
  assert.equal(check.status, 'degraded');
  assert.equal(check.details?.state, 'open');

  policy.circuit?.reset();
  assert.equal(f.published.at(-1)!.type, 'resilience.circuit.closed');
  assert.equal(metrics.value('circuit_breaker_state', { policy: 'flaky' }), 0);
});

test('stopping the kernel aborts calls in flight under a policy deadline', async () => {
  const kernel = await createTestKernel({ plugins: [{ use: resilience, options: { policies: { slow: { timeoutMs: 60_000 } } } }] });
  const run = kernel.resolve('resilience').policy('slow').execute(() => new Promise<never>(() => {}));
  await kernel.stop();
  await assert.rejects(run, { code: 'RESILIENCE_POLICY_DISPOSED' });
});

test('options: {} validates and bad values name their path', () => {
  assert.deepEqual(resilience.options!.parse({}), { policies: {} });
  const parsed = resilience.options!.parse({ policies: { p: { retry: {}, circuitBreaker: {}, bulkhead: {} } } }) as {
    policies: { p: Record<string, unknown> };
  };
  assert.deepEqual(parsed.policies.p, {
    retry: { maxAttempts: 3, backoff: { initialMs: 100, factor: 2, maxMs: 30_000, jitter: 0.1 }, retryOn: 'retryable' },
    circuitBreaker: { failureThreshold: 5, resetMs: 30_000, halfOpenMax: 3, successThreshold: 2 },
    bulkhead: { maxConcurrent: 10, maxQueue: 0 },
  });
  const bad = resilience.options!.safeParse({ policies: { p: { retry: { maxAttempts: 'x' } } } });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error!.issues[0]!.path, ['policies', 'p', 'retry', 'maxAttempts']);
});

test('resilience passes plugin conformance with defaults', async () => {
  await checkPluginConformance(resilience);
});

test('resilience passes plugin conformance after exercising every part of a policy', async () => {
  const f = fakes();
  await checkPluginConformance(resilience, {
    with: [f.events, f.health],
    options: { policies: { all: { retry: { backoff: { initialMs: 1 } }, timeoutMs: 20, circuitBreaker: {}, bulkhead: { maxConcurrent: 2, maxQueue: 2 } } } },
    async exercise(kernel) {
      const policy = kernel.resolve<Services['resilience']>('resilience').policy('all');
      await Promise.allSettled([
        policy.execute(async () => 1),
        policy.execute(() => new Promise<never>(() => {})),
        policy.execute(() => Promise.reject(new NetworkError('N', 'n'))),
      ]);
    },
  });
});
