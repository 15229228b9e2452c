import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { CancelledError, TimeoutError } from '../../index.js';
import { anySignal, backoffDelay, DEFAULT_BACKOFF, drainBudget, sleep, withDeadline } from '../../sdk/util/index.js';

test('sleep resolves after its delay and rejects at once when its signal aborts', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let done = false;
    const p = sleep(1000).then(() => (done = true));
    mock.timers.tick(999);
    await Promise.resolve();
    assert.equal(done, false);
    mock.timers.tick(1);
    await p;
    assert.equal(done, true);
    const controller = new AbortController();
    const aborted = sleep(1000, controller.signal);
    controller.abort(new Error('go away'));
    await assert.rejects(aborted, /go away/);
    await assert.rejects(sleep(1, AbortSignal.abort()), (e: CancelledError) => e instanceof CancelledError);
  } finally {
    mock.timers.reset();
  }
});

test('withDeadline resolves with the work, or rejects at the deadline and aborts the work', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    assert.equal(await withDeadline(async () => 7, { timeoutMs: 100 }), 7);
    let workSignal!: AbortSignal;
    const slow = withDeadline((signal) => ((workSignal = signal), new Promise(() => {})), { timeoutMs: 100 });
    mock.timers.tick(100);
    await assert.rejects(slow, (e: TimeoutError) => e instanceof TimeoutError && e.code === 'TIMEOUT' && /100 ms/.test(e.message));
    assert.equal(workSignal.aborted, true);
    const custom = withDeadline(() => new Promise(() => {}), { timeoutMs: 5, timeoutError: () => new Error('custom') });
    mock.timers.tick(5);
    await assert.rejects(custom, /custom/);
  } finally {
    mock.timers.reset();
  }
});

test('withDeadline: a caller signal ends the wait; sync throws and rejections pass through; no deadline when 0', async () => {
  const controller = new AbortController();
  const waiting = withDeadline(() => new Promise(() => {}), { signal: controller.signal });
  controller.abort(new Error('caller gave up'));
  await assert.rejects(waiting, /caller gave up/);
  await assert.rejects(withDeadline(() => new Promise(() => {}), { signal: AbortSignal.abort() }), (e) => e instanceof CancelledError);
  await assert.rejects(
    withDeadline(() => {
      throw new Error('sync');
    }),
    /sync/,
  );
  await assert.rejects(withDeadline(() => Promise.reject(new Error('async'))), /async/);
  assert.equal(await withDeadline(() => 'v', { timeoutMs: 0 }), 'v');
  assert.equal(await withDeadline(() => 'v', { timeoutMs: Infinity }), 'v');
});

test('backoffDelay grows by factor, caps at maxMs and spreads by jitter', () => {
  const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
  assert.deepEqual([0, 1, 2, 3].map((a) => backoffDelay(noJitter, a)), [100, 200, 400, 800]);
  assert.equal(backoffDelay(noJitter, 30), 30_000);
  assert.equal(backoffDelay(DEFAULT_BACKOFF, 0, () => 0), 90);
  assert.equal(backoffDelay(DEFAULT_BACKOFF, 0, () => 1), 110);
  assert.equal(backoffDelay(DEFAULT_BACKOFF, 0, () => 0.5), 100);
  assert.equal(backoffDelay({ initialMs: 100, factor: 2, maxMs: 150, jitter: 0.5 }, 3, () => 1), 150);
});

test('anySignal aborts when any of its signals does', () => {
  const a = new AbortController();
  const b = new AbortController();
  const any = anySignal([a.signal, undefined, b.signal]);
  assert.equal(any.aborted, false);
  b.abort('b');
  assert.equal(any.aborted, true);
  assert.equal(anySignal([a.signal]), a.signal);
});

test('drainBudget ends a drain a little before the deadline, within its cap, never negative', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  assert.equal(drainBudget(1_000_000 + 10_000), 9_900, 'holds back 100 ms of a long budget');
  assert.equal(drainBudget(1_000_000 + 500), 450, 'holds back a tenth of a short one');
  assert.equal(drainBudget(1_000_000 + 10_000, 2_000), 2_000, 'capped');
  assert.equal(drainBudget(1_000_000 - 50), 0, 'a passed deadline leaves nothing');
  assert.equal(drainBudget(Infinity, 3_000), 3_000, 'no deadline: the cap');
});
