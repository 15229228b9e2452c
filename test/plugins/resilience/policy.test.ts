import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { CancelledError, MisterSmithError, NetworkError, ResilienceError, ToolError } from '../../../sdk/index.js';
import { createPolicy } from '../../../plugins/resilience/index.js';
import { deferred, flush, settle } from './helpers.js';

const transient = (msg = 'blip'): Error => new NetworkError('NET_BLIP', msg);

describe('retry', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 0 }));
  afterEach(() => mock.timers.reset());

  test('retries a retryable error maxAttempts times with exponential backoff, then fails with the last error as cause', async () => {
    const retries: Array<[number, number]> = [];
    const policy = createPolicy({
      name: 'net',
      retry: { maxAttempts: 3, backoff: { initialMs: 100, factor: 2, jitter: 0 } },
      observer: { onRetry: (_p, attempt, delayMs) => retries.push([attempt, delayMs]) },
    });
    const times: number[] = [];
    const seen: number[] = [];
    const outcome = settle(
      policy.execute(({ attempt }) => {
        times.push(Date.now());
        seen.push(attempt);
        return Promise.reject(transient(`blip ${attempt}`));
      }),
    );
    await flush();
    assert.deepEqual(seen, [1]);
    mock.timers.tick(99);
    await flush();
    assert.deepEqual(seen, [1], 'waits the whole first backoff');
    mock.timers.tick(1);
    await flush();
    assert.deepEqual(seen, [1, 2]);
    mock.timers.tick(200);
    await flush();
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(times, [0, 100, 300]);
    assert.deepEqual(retries, [[1, 100], [2, 200]]);
    assert.ok(outcome.done);
    const error = outcome.error as ResilienceError;
    assert.equal(error.code, 'RESILIENCE_RETRIES_EXHAUSTED');
    assert.equal((error.cause as Error).message, 'blip 3');
    assert.equal(error.context.attempts, 3);
    assert.equal(policy.stats().retries, 2);
  });

  test('succeeds on a later attempt and reports its value', async () => {
    const policy = createPolicy({ retry: { backoff: { initialMs: 10, jitter: 0 } } });
    const result = settle(policy.execute(({ attempt }) => (attempt < 3 ? Promise.reject(transient()) : Promise.resolve(attempt))));
    await flush();
    mock.timers.tick(10);
    await flush();
    mock.timers.tick(20);
    await flush();
    assert.equal(result.value, 3);
  });

  test('does not retry what classify calls non-retryable; the original error is rethrown', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 5 } });
    let attempts = 0;
    const denied = new ToolError('TOOL_ACCESS_DENIED', 'no');
    await assert.rejects(
      policy.execute(() => {
        attempts++;
        throw denied;
      }),
      (e) => e === denied,
    );
    assert.equal(attempts, 1);
  });

  test('retryOn lists the codes to retry instead of classify', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 2, backoff: { initialMs: 5, jitter: 0 }, retryOn: ['E_BUSY_SIGNAL'] } });
    let attempts = 0;
    const listed = settle(
      policy.execute(() => {
        attempts++;
        return Promise.reject(new MisterSmithError('E_BUSY_SIGNAL', 'busy', { retryable: false }));
      }),
    );
    await flush();
    mock.timers.tick(5);
    await flush();
    assert.equal(attempts, 2);
    assert.equal((listed.error as ResilienceError).code, 'RESILIENCE_RETRIES_EXHAUSTED');
    attempts = 0;
    await assert.rejects(
      policy.execute(() => {
        attempts++;
        return Promise.reject(transient());
      }),
      { code: 'NET_BLIP' },
    );
    assert.equal(attempts, 1, 'a retryable error that is not listed is not retried');
  });

  test('honours retryAfterMs when it is longer than the backoff', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 2, backoff: { initialMs: 100, jitter: 0 } } });
    let attempts = 0;
    const run = settle(
      policy.execute(() => {
        attempts++;
        if (attempts === 1) return Promise.reject(new NetworkError('RATE_LIMITED', 'slow down', { retryAfterMs: 5_000 }));
        return Promise.resolve('done');
      }),
    );
    await flush();
    mock.timers.tick(4_999);
    await flush();
    assert.equal(attempts, 1);
    mock.timers.tick(1);
    await flush();
    assert.equal(attempts, 2);
    assert.equal(run.value, 'done');
  });

  test('caller cancellation during a backoff sleep stops retrying at once', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 5, backoff: { initialMs: 10_000, jitter: 0 } } });
    const ac = new AbortController();
    let attempts = 0;
    const run = settle(
      policy.execute(
        () => {
          attempts++;
          return Promise.reject(transient());
        },
        { signal: ac.signal },
      ),
    );
    await flush();
    assert.equal(attempts, 1);
    ac.abort();
    await flush();
    assert.ok(run.done, 'rejected without waiting for the backoff');
    assert.ok(run.error instanceof CancelledError);
    mock.timers.tick(100_000);
    await flush();
    assert.equal(attempts, 1, 'no attempt after cancellation');
  });

  test('caller cancellation mid-attempt aborts the attempt signal and rejects at once', async () => {
    const policy = createPolicy({ retry: { maxAttempts: 3 } });
    const ac = new AbortController();
    let seen: AbortSignal | undefined;
    const run = settle(
      policy.execute(
        ({ signal }) => {
          seen = signal;
          return new Promise<never>(() => {});
        },
        { signal: ac.signal },
      ),
    );
    ac.abort(new Error('user left'));
    await flush();
    assert.equal((run.error as Error).message, 'user left');
    assert.equal(seen?.aborted, true);
  });

  test('an already-aborted signal rejects before anything runs', async () => {
    const policy = createPolicy({ retry: {} });
    let called = false;
    await assert.rejects(
      policy.execute(
        () => {
          called = true;
        },
        { signal: AbortSignal.abort() },
      ),
      CancelledError,
    );
    assert.equal(called, false);
  });
});

describe('timeout', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 0 }));
  afterEach(() => mock.timers.reset());

  test('aborts the attempt signal and rejects with RESILIENCE_TIMEOUT even when the callee ignores it', async () => {
    const timeouts: number[] = [];
    const policy = createPolicy({ name: 'slow', timeoutMs: 100, observer: { onTimeout: (_p, attempt) => timeouts.push(attempt) } });
    let signal: AbortSignal | undefined;
    const run = settle(
      policy.execute((ctx) => {
        signal = ctx.signal;
        return new Promise<never>(() => {});
      }),
    );
    mock.timers.tick(90);
    await flush();
    assert.equal(run.done, false);
    mock.timers.tick(20);
    await flush();
    const error = run.error as ResilienceError;
    assert.equal(error.code, 'RESILIENCE_TIMEOUT');
    assert.equal(error.context.timeoutMs, 100);
    assert.equal(signal?.aborted, true);
    assert.equal(signal?.reason, error);
    assert.deepEqual(timeouts, [1]);
  });

  test('a signal read after the deadline is already aborted (it is created lazily)', async () => {
    const policy = createPolicy({ timeoutMs: 50 });
    const gate = deferred();
    let late: AbortSignal | undefined;
    const run = settle(
      policy.execute(async (ctx) => {
        await gate.promise;
        late = ctx.signal;
      }),
    );
    mock.timers.tick(70);
    await flush();
    gate.resolve();
    await flush();
    assert.equal((run.error as ResilienceError).code, 'RESILIENCE_TIMEOUT');
    assert.equal(late?.aborted, true);
  });

  test('timeouts are retryable: each attempt gets its own deadline, then retries are exhausted', async () => {
    const policy = createPolicy({ timeoutMs: 100, retry: { maxAttempts: 2, backoff: { initialMs: 10, jitter: 0 } } });
    const attempts: number[] = [];
    const run = settle(
      policy.execute(({ attempt }) => {
        attempts.push(attempt);
        return new Promise<never>(() => {});
      }),
    );
    for (let i = 0; i < 30 && !run.done; i++) {
      mock.timers.tick(10);
      await flush();
    }
    assert.deepEqual(attempts, [1, 2]);
    const error = run.error as ResilienceError;
    assert.equal(error.code, 'RESILIENCE_RETRIES_EXHAUSTED');
    assert.equal((error.cause as ResilienceError).code, 'RESILIENCE_TIMEOUT');
    assert.equal(policy.stats().timeouts, 2);
  });

  test('a fast call is not affected and the wheel stops when idle', async () => {
    const policy = createPolicy({ timeoutMs: 1_000 });
    assert.equal(await policy.execute(async () => 7), 7);
    assert.equal(await policy.execute(() => 8), 8, 'sync functions work too');
  });
});

describe('bulkhead', () => {
  test('refuses at once when maxConcurrent run and maxQueue wait; queued calls run in order', async () => {
    const rejected: string[] = [];
    const policy = createPolicy({ name: 'pool', bulkhead: { maxConcurrent: 1, maxQueue: 1 }, observer: { onRejected: (_p, why) => rejected.push(why) } });
    const first = deferred<string>();
    const order: string[] = [];
    const a = policy.execute(async () => {
      order.push('a');
      return first.promise;
    });
    const b = policy.execute(async () => {
      order.push('b');
      return 'b';
    });
    await assert.rejects(policy.execute(async () => 'c'), (e: ResilienceError) => {
      assert.equal(e.code, 'RESILIENCE_BULKHEAD_FULL');
      assert.deepEqual(e.context, { policy: 'pool', maxConcurrent: 1, maxQueue: 1 });
      return true;
    });
    assert.deepEqual(rejected, ['bulkhead-full']);
    assert.equal(policy.stats().running, 1);
    assert.equal(policy.stats().queued, 1);
    first.resolve('a');
    assert.equal(await a, 'a');
    assert.equal(await b, 'b');
    assert.deepEqual(order, ['a', 'b']);
    assert.equal(policy.stats().running, 0);
  });

  test('a queued call leaves the queue when its caller cancels', async () => {
    const policy = createPolicy({ bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    const hold = deferred();
    const a = policy.execute(() => hold.promise);
    const ac = new AbortController();
    let ran = false;
    const b = policy.execute(
      () => {
        ran = true;
      },
      { signal: ac.signal },
    );
    ac.abort();
    await assert.rejects(b, CancelledError);
    assert.equal(policy.stats().queued, 0);
    const c = policy.execute(async () => 'c');
    hold.resolve();
    await a;
    assert.equal(await c, 'c');
    assert.equal(ran, false);
  });

  test('the slot is held through retries and released on failure', async () => {
    const policy = createPolicy({ bulkhead: { maxConcurrent: 1 }, retry: { maxAttempts: 2, backoff: { initialMs: 1, jitter: 0 } } });
    const run = policy.execute(() => Promise.reject(transient()));
    await assert.rejects(policy.execute(async () => 1), { code: 'RESILIENCE_BULKHEAD_FULL' });
    await assert.rejects(run, { code: 'RESILIENCE_RETRIES_EXHAUSTED' });
    assert.equal(await policy.execute(async () => 1), 1);
  });
});

describe('dispose', () => {
  test('aborts attempts under a deadline, refuses queued and new calls', async () => {
    const policy = createPolicy({ name: 'p', timeoutMs: 60_000, bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    const running = policy.execute(() => new Promise<never>(() => {}));
    const queued = policy.execute(async () => 1);
    policy.dispose();
    await assert.rejects(running, { code: 'RESILIENCE_POLICY_DISPOSED' });
    await assert.rejects(queued, { code: 'RESILIENCE_POLICY_DISPOSED' });
    await assert.rejects(policy.execute(async () => 1), { code: 'RESILIENCE_POLICY_DISPOSED' });
  });

  test('ends a backoff sleep', async () => {
    const policy = createPolicy({ retry: { backoff: { initialMs: 60_000, jitter: 0 } } });
    const run = policy.execute(() => Promise.reject(transient()));
    await flush();
    policy.dispose();
    await assert.rejects(run, { code: 'RESILIENCE_POLICY_DISPOSED' });
  });
});

test('createPolicy validates its options like the plugin config', () => {
  assert.throws(() => createPolicy({ retry: { maxAttempts: 0 } }));
  assert.throws(() => createPolicy({ timeoutMs: -1 }));
});

test('a call whose signal aborts while it waits for a bulkhead slot never runs', async () => {
  const policy = createPolicy({ bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
  let release!: () => void;
  const first = policy.execute(() => new Promise<void>((r) => (release = r)));
  const ac = new AbortController();
  let ran = false;
  const second = policy.execute(
    () => {
      ran = true;
    },
    { signal: ac.signal },
  );
  release();
  ac.abort();
  await first;
  await assert.rejects(second, CancelledError);
  assert.equal(ran, false);
});

test('without a timeout the attempt signal is the caller signal itself (no AbortController per call)', async () => {
  const policy = createPolicy({ retry: {} });
  const ac = new AbortController();
  let seen: AbortSignal | undefined;
  await policy.execute(
    async ({ signal }) => {
      seen = signal;
    },
    { signal: ac.signal },
  );
  assert.equal(seen, ac.signal);
});
