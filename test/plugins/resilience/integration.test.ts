import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetworkError } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import type {} from '../../../plugins/events/types.js';
import type {} from '../../../plugins/health/types.js';
import type {} from '../../../plugins/tasks/types.js';
import type {} from '../../../plugins/resilience/types.js';

test('with the real events and health plugins: transitions and retries are stored events, an open breaker is degraded', async (t) => {
  const kernel = await createTestKernel({
    test: t,
    plugins: [
      'events',
      'health',
      {
        use: 'resilience',
        options: { policies: { api: { retry: { maxAttempts: 2, backoff: { initialMs: 1, jitter: 0 } }, circuitBreaker: { failureThreshold: 1, resetMs: 60_000 } } } },
      },
      'tasks',
    ],
  });
  const health = kernel.resolve('health');
  assert.equal((await health.run('resilience.api')).status, 'healthy');
  const outcome = kernel.resolve('tasks').submit({ policy: 'api', run: () => Promise.reject(new NetworkError('NET_DOWN', 'down')) });
  await assert.rejects(outcome.result, { code: 'RESILIENCE_RETRIES_EXHAUSTED' });
  assert.equal((await health.run('resilience.api')).status, 'degraded');
  const types: string[] = [];
  for await (const event of kernel.resolve('events').replay()) if (event.source === 'resilience') types.push(event.type);
  assert.deepEqual(types, ['resilience.retry', 'resilience.circuit.opened']);
  assert.equal((await health.run('tasks')).status, 'healthy');
  let drained: unknown;
  kernel.resolve('events').subscribe('tasks.executor.drained', (event) => {
    drained = event.data;
  });
  await kernel.stop();
  assert.deepEqual(drained, { queuedRejected: 0, runningAtStop: 0, abortedAtDeadline: 0, submitted: 1 });
});
