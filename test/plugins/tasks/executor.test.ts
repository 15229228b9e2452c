import assert from 'node:assert/strict';
import { setImmediate as immediate } from 'node:timers/promises';
import { afterEach, describe, mock, test } from 'node:test';
import { TaskError } from '../../../sdk/index.js';
import { TaskExecutor, tasksOptionsSchema, type TaskContext, type TasksOptionsInput } from '../../../plugins/tasks/index.js';

function executor(options: TasksOptionsInput = {}): TaskExecutor {
  return new TaskExecutor(tasksOptionsSchema.parse(options));
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await immediate();
}

describe('task executor', () => {
  afterEach(() => mock.timers.reset());

  test('runs a function and resolves its value; the function gets { signal, attempt }', async () => {
    const ex = executor();
    let seen: TaskContext | undefined;
    const handle = ex.submit((ctx) => {
      seen = ctx;
      return 42;
    });
    assert.match(handle.id, /^task-\d+$/);
    assert.equal(await handle.result, 42);
    assert.equal(handle.status, 'succeeded');
    assert.equal(seen?.attempt, 1);
    assert.equal(seen?.signal.aborted, false);
    assert.equal(ex.submit({ run: async () => 'x', id: 'mine' }).id, 'mine');
    await ex.shutdown();
  });

  test('submit never runs the task on the caller stack', async () => {
    const ex = executor();
    let ran = false;
    const handle = ex.submit(() => {
      ran = true;
    });
    assert.equal(ran, false);
    await handle.result;
    assert.equal(ran, true);
    await ex.shutdown();
  });

  test('a failing task rejects its result with its own error; an ignored failure is not an unhandled rejection', async () => {
    const ex = executor();
    const boom = new Error('boom');
    const handle = ex.submit(() => {
      throw boom;
    });
    await assert.rejects(handle.result, (e) => e === boom);
    assert.equal(handle.status, 'failed');
    ex.submit(async () => {
      throw new Error('nobody listens');
    });
    await flush();
    assert.equal(ex.stats().failed, 2);
    await ex.shutdown();
  });

  test('priority order under saturation: strictly highest first, FIFO within a priority', async () => {
    const ex = executor({ maxConcurrent: 1 });
    const blocker = gate();
    const order: string[] = [];
    const first = ex.submit(() => blocker.promise);
    const handles = (
      [
        ['low-1', 'low'],
        ['normal-1', 'normal'],
        ['high-1', 'high'],
        ['critical-1', 'critical'],
        ['normal-2', 'normal'],
        ['critical-2', 'critical'],
        ['low-2', 'low'],
        ['high-2', 'high'],
      ] as const
    ).map(([id, priority]) => ex.submit({ id, priority, run: () => void order.push(id) }));
    assert.deepEqual(ex.stats().queuedByPriority, { critical: 2, high: 2, normal: 2, low: 2 });
    blocker.open();
    await first.result;
    await Promise.all(handles.map((h) => h.result));
    assert.deepEqual(order, ['critical-1', 'critical-2', 'high-1', 'high-2', 'normal-1', 'normal-2', 'low-1', 'low-2']);
    await ex.shutdown();
  });

  test('never runs more than maxConcurrent at once', async () => {
    const ex = executor({ maxConcurrent: 3 });
    let now = 0;
    let peak = 0;
    const handles = Array.from({ length: 20 }, () =>
      ex.submit(async () => {
        peak = Math.max(peak, ++now);
        await immediate();
        now--;
      }),
    );
    await Promise.all(handles.map((h) => h.result));
    assert.equal(peak, 3);
    await ex.shutdown();
  });

  test('a full queue refuses at once with TASK_QUEUE_FULL', async () => {
    const ex = executor({ maxConcurrent: 1, queueCapacity: 2 });
    const blocker = gate();
    const running = ex.submit(() => blocker.promise);
    const queued = [ex.submit(() => 1), ex.submit(() => 2)];
    const refused = ex.submit({ id: 'extra', run: () => 3 });
    assert.equal(refused.status, 'rejected', 'refused before anything finished');
    await assert.rejects(refused.result, (e: TaskError) => {
      assert.ok(e instanceof TaskError);
      assert.equal(e.code, 'TASK_QUEUE_FULL');
      assert.deepEqual(e.context, { capacity: 2, task: 'extra' });
      return true;
    });
    blocker.open();
    await running.result;
    assert.deepEqual(await Promise.all(queued.map((h) => h.result)), [1, 2]);
    assert.equal(ex.stats().rejected, 1);
    await ex.shutdown();
  });

  test('the per-task timeout aborts the signal, rejects with TASK_TIMEOUT and frees the slot', async () => {
    mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 0 });
    const ex = executor({ maxConcurrent: 1, timeoutMs: 1_000 });
    let signal: AbortSignal | undefined;
    const slow = ex.submit((ctx) => {
      signal = ctx.signal;
      return new Promise<never>(() => {});
    });
    const next = ex.submit(() => 'next');
    await flush();
    mock.timers.tick(900);
    await flush();
    assert.equal(slow.status, 'running');
    mock.timers.tick(200);
    await flush();
    await assert.rejects(slow.result, (e: TaskError) => e.code === 'TASK_TIMEOUT' && e.context.timeoutMs === 1_000);
    assert.equal(slow.status, 'timed-out');
    assert.equal(signal?.aborted, true);
    assert.equal(await next.result, 'next');
    await ex.shutdown();
  });

  test('a short per-task timeout is exact (its own timer, not the coarse wheel)', async () => {
    mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 0 });
    const ex = executor();
    const handle = ex.submit({ run: () => new Promise<never>(() => {}), timeoutMs: 25 });
    await flush();
    mock.timers.tick(24);
    await flush();
    assert.equal(handle.status, 'running');
    mock.timers.tick(1);
    await flush();
    await assert.rejects(handle.result, { code: 'TASK_TIMEOUT' });
    await ex.shutdown();
  });

  test('cancel(): a queued task never runs; a running one is aborted; a finished one is left alone', async () => {
    const ex = executor({ maxConcurrent: 1 });
    let signal: AbortSignal | undefined;
    const running = ex.submit((ctx) => {
      signal = ctx.signal;
      return new Promise<never>(() => {});
    });
    let queuedRan = false;
    const queued = ex.submit(() => {
      queuedRan = true;
    });
    const after = ex.submit(() => 'after');
    assert.equal(queued.cancel('not needed'), true);
    await assert.rejects(queued.result, (e: TaskError) => e.code === 'TASK_CANCELLED' && /not needed/.test(e.message));
    await flush();
    assert.equal(running.cancel(), true);
    await assert.rejects(running.result, { code: 'TASK_CANCELLED' });
    assert.equal(signal?.aborted, true);
    assert.equal(await after.result, 'after');
    assert.equal(after.cancel(), false);
    assert.equal(queuedRan, false);
    assert.equal(ex.stats().cancelled, 2);
    await ex.shutdown();
  });

  test('shutdown drains: queued tasks are rejected, running ones finish, stragglers are aborted at the deadline', async () => {
    const ex = executor({ maxConcurrent: 2 });
    // Released by the test once the drain has begun: no race between a sleep and the drain deadline.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const quick = ex.submit(async () => {
      await gate;
      return 'finished';
    });
    let stuckSignal: AbortSignal | undefined;
    const stuck = ex.submit((ctx) => {
      stuckSignal = ctx.signal;
      return new Promise<never>(() => {});
    });
    const queued = [ex.submit(() => 'q1'), ex.submit({ run: () => 'q2', priority: 'critical' })];
    await flush();
    const done = ex.shutdown({ timeoutMs: 1_000 });
    assert.equal(ex.accepting, false);
    for (const handle of queued) {
      await assert.rejects(handle.result, (e: TaskError) => e.code === 'TASK_EXECUTOR_SHUTDOWN' && e.context.phase === 'queued');
    }
    const late = ex.submit(() => 'late');
    await assert.rejects(late.result, (e: TaskError) => e.code === 'TASK_EXECUTOR_SHUTDOWN' && e.context.phase === 'refused');
    assert.equal(stuck.status, 'running', 'a running task keeps its time until the drain deadline');
    release();
    assert.equal(await quick.result, 'finished');
    await done;
    await assert.rejects(stuck.result, (e: TaskError) => e.code === 'TASK_EXECUTOR_SHUTDOWN' && e.context.phase === 'aborted');
    assert.equal(stuckSignal?.aborted, true);
    assert.equal(ex.shutdown(), done, 'idempotent');
    const s = ex.stats();
    assert.equal(s.succeeded + s.failed + s.timedOut + s.cancelled + s.rejected, s.submitted, 'no task vanished');
  });

  test('shutdown returns as soon as running tasks finish', async () => {
    const ex = executor();
    let release!: () => void;
    let signal!: AbortSignal;
    const task = ex.submit((ctx) => {
      signal = ctx.signal;
      return new Promise<string>((resolve) => (release = () => resolve('done')));
    });
    await flush();
    const done = ex.shutdown({ timeoutMs: 60_000 });
    release();
    await done;
    // Had the drain waited for its deadline, the task would have been aborted there.
    assert.equal(await task.result, 'done');
    assert.equal(signal.aborted, false);
    assert.equal(ex.stats().succeeded, 1);
  });

  test('bad submissions are programming errors (TypeError)', async () => {
    const ex = executor();
    assert.throws(() => ex.submit({} as never), TypeError);
    assert.throws(() => ex.submit({ run: () => 1, priority: 'urgent' as never }), /unknown task priority 'urgent'/);
    await ex.shutdown();
  });
});
