import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { ResilienceError } from '../../../sdk/index.js';
import { createPolicy } from '../../../plugins/resilience/index.js';
import { deferred, flush, settle } from './helpers.js';

const fail = (): Promise<never> => Promise.reject(new Error('dependency down'));
const ok = (): Promise<string> => Promise.resolve('ok');

describe('circuit breaker state machine', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  test('5 consecutive failures open it; it fails fast with the time until half-open', async () => {
    const transitions: string[] = [];
    const policy = createPolicy({ name: 'db', circuitBreaker: {}, observer: { onTransition: (_p, from, to) => transitions.push(`${from}→${to}`) } });
    for (let i = 0; i < 4; i++) await assert.rejects(policy.execute(fail), /dependency down/);
    assert.equal(policy.circuit?.state, 'closed');
    assert.equal(policy.circuit?.consecutiveFailures, 4);
    await assert.rejects(policy.execute(fail), /dependency down/);
    assert.equal(policy.circuit?.state, 'open');
    assert.deepEqual(transitions, ['closed→open']);

    let called = false;
    await assert.rejects(
      policy.execute(() => {
        called = true;
        return ok();
      }),
      (error: unknown) => {
        assert.ok(error instanceof ResilienceError);
        assert.equal(error.code, 'RESILIENCE_CIRCUIT_OPEN');
        assert.equal(error.retryAfterMs, 30_000);
        assert.equal(error.context.retryAfterMs, 30_000);
        return true;
      },
    );
    assert.equal(called, false, 'an open breaker does not call the function');
    mock.timers.tick(10_000);
    await assert.rejects(policy.execute(ok), (e: ResilienceError) => e.retryAfterMs === 20_000);
    assert.equal(policy.circuit?.retryAfterMs, 20_000);
    assert.equal(policy.stats().circuitRejections, 2);
  });

  test('a success while closed resets the consecutive-failure count', async () => {
    const policy = createPolicy({ circuitBreaker: { failureThreshold: 3 } });
    await assert.rejects(policy.execute(fail));
    await assert.rejects(policy.execute(fail));
    await policy.execute(ok);
    await assert.rejects(policy.execute(fail));
    await assert.rejects(policy.execute(fail));
    assert.equal(policy.circuit?.state, 'closed');
    await assert.rejects(policy.execute(fail));
    assert.equal(policy.circuit?.state, 'open');
  });

  test('after resetMs the next call goes half-open; at most halfOpenMax trials; 2 successes close it', async () => {
    const transitions: string[] = [];
    const policy = createPolicy({ name: 'api', circuitBreaker: {}, observer: { onTransition: (_p, from, to) => transitions.push(`${from}→${to}`) } });
    for (let i = 0; i < 5; i++) await assert.rejects(policy.execute(fail));
    mock.timers.tick(30_000);
    assert.equal(policy.circuit?.state, 'open', 'the transition happens on the next call, not on a timer');

    const trials = [deferred<string>(), deferred<string>(), deferred<string>()];
    const running = trials.map((d) => settle(policy.execute(() => d.promise)));
    assert.equal(policy.circuit?.state, 'half-open');
    await assert.rejects(policy.execute(ok), (e: ResilienceError) => e.code === 'RESILIENCE_CIRCUIT_OPEN' && e.context.state === 'half-open');

    trials[0]!.resolve('a');
    await flush();
    assert.equal(policy.circuit?.state, 'half-open', 'one success is not enough');
    trials[1]!.resolve('b');
    await flush();
    assert.equal(policy.circuit?.state, 'closed');
    trials[2]!.resolve('c');
    await flush();
    assert.deepEqual(running.map((r) => r.value), ['a', 'b', 'c']);
    assert.deepEqual(transitions, ['closed→open', 'open→half-open', 'half-open→closed']);
    assert.equal(await policy.execute(ok), 'ok');
  });

  test('any trial failure reopens it for another resetMs', async () => {
    const transitions: string[] = [];
    const policy = createPolicy({ circuitBreaker: { resetMs: 1_000 }, observer: { onTransition: (_p, from, to) => transitions.push(`${from}→${to}`) } });
    for (let i = 0; i < 5; i++) await assert.rejects(policy.execute(fail));
    mock.timers.tick(1_000);
    await policy.execute(ok);
    assert.equal(policy.circuit?.state, 'half-open');
    await assert.rejects(policy.execute(fail), /dependency down/);
    assert.equal(policy.circuit?.state, 'open');
    await assert.rejects(policy.execute(ok), (e: ResilienceError) => e.code === 'RESILIENCE_CIRCUIT_OPEN' && e.retryAfterMs === 1_000);
    mock.timers.tick(1_000);
    await policy.execute(ok);
    await policy.execute(ok);
    assert.equal(policy.circuit?.state, 'closed');
    assert.deepEqual(transitions, ['closed→open', 'open→half-open', 'half-open→open', 'open→half-open', 'half-open→closed']);
  });

  test('a cancelled trial frees its slot without counting', async () => {
    const policy = createPolicy({ circuitBreaker: { failureThreshold: 1, resetMs: 10, halfOpenMax: 1, successThreshold: 1 } });
    await assert.rejects(policy.execute(fail));
    mock.timers.tick(10);
    const ac = new AbortController();
    const trial = policy.execute(() => new Promise<never>(() => {}), { signal: ac.signal });
    await assert.rejects(policy.execute(ok), /half-open/);
    ac.abort();
    await assert.rejects(trial, (e: Error & { code?: string }) => e.code === 'CANCELLED');
    assert.equal(policy.circuit?.state, 'half-open');
    assert.equal(await policy.execute(ok), 'ok');
    assert.equal(policy.circuit?.state, 'closed');
  });

  test('reset() closes it by hand', async () => {
    const policy = createPolicy({ circuitBreaker: { failureThreshold: 1 } });
    await assert.rejects(policy.execute(fail));
    assert.equal(policy.circuit?.state, 'open');
    policy.circuit?.reset();
    assert.equal(policy.circuit?.state, 'closed');
    assert.equal(await policy.execute(ok), 'ok');
  });

  test('the breaker counts a retried execution once, after its retries', async () => {
    const policy = createPolicy({
      circuitBreaker: { failureThreshold: 2 },
      retry: { maxAttempts: 3, backoff: { initialMs: 1, jitter: 0 } },
    });
    let attempts = 0;
    const flaky = () => {
      attempts++;
      return Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    };
    const first = settle(policy.execute(flaky));
    for (let i = 0; i < 3; i++) {
      await flush();
      mock.timers.tick(2);
    }
    await flush();
    assert.equal((first.error as ResilienceError).code, 'RESILIENCE_RETRIES_EXHAUSTED');
    assert.equal(attempts, 3);
    assert.equal(policy.circuit?.state, 'closed', 'three failed attempts are one failed execution');
    assert.equal(policy.circuit?.consecutiveFailures, 1);
  });
});

describe('with fake timers but a real Date', () => {
  afterEach(() => mock.timers.reset());

  test('the breaker still goes half-open once resetMs of timer time has passed', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const policy = createPolicy({ circuitBreaker: { failureThreshold: 1, resetMs: 30_000, successThreshold: 1 } });
    await assert.rejects(policy.execute(fail));
    await assert.rejects(policy.execute(ok), { code: 'RESILIENCE_CIRCUIT_OPEN' });
    mock.timers.tick(30_000);
    assert.equal(policy.circuit?.retryAfterMs, 0);
    assert.equal(await policy.execute(ok), 'ok');
    assert.equal(policy.circuit?.state, 'closed');
  });

  test('timeouts still fire on interval time', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const policy = createPolicy({ timeoutMs: 100 });
    const run = settle(policy.execute(() => new Promise<never>(() => {})));
    mock.timers.tick(90);
    await flush();
    assert.equal(run.done, false);
    mock.timers.tick(10);
    await flush();
    assert.equal((run.error as ResilienceError).code, 'RESILIENCE_TIMEOUT');
  });
});
