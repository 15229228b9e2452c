import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChildSpec } from '../../../plugins/supervision/index.js';
import { kernelWithSupervision, until, worker } from './helpers.js';

test('startChild adds a child; a duplicate id is a typed error and leaves the first child alone', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'dyn' });
  const a = worker('a');
  await sup.startChild(a.spec);
  await assert.rejects(sup.startChild(worker('a').spec), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'SUPERVISION_DUPLICATE_CHILD');
    assert.match(error.message, /already has a child 'a'/);
    return true;
  });
  assert.deepEqual(sup.whichChildren(), [{ id: 'a', state: 'running', restartCount: 0, type: 'worker' }]);
  assert.deepEqual(sup.countChildren(), { specs: 1, active: 1, supervisors: 0, workers: 1 });
  await sup.stop();
});

test('startChild rejects invalid specs with SUPERVISION_INVALID_CHILD_SPEC', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'inv' });
  const base = worker('x').spec;
  const bad: Array<[unknown, RegExp]> = [
    [{ ...base, id: '' }, /non-empty string/],
    [{ id: 'nostart' }, /start must be a function/],
    [{ ...base, restart: 'sometimes' }, /restart must be/],
    [{ ...base, shutdown: -1 }, /shutdown must be/],
    [{ ...base, type: 'daemon' }, /type must be/],
    [{ ...base, backoff: { factor: 0.5 } }, /backoff.factor/],
    [{ ...base, startTimeoutMs: 0 }, /startTimeoutMs/],
  ];
  for (const [spec, message] of bad) {
    await assert.rejects(sup.startChild(spec as ChildSpec), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SUPERVISION_INVALID_CHILD_SPEC');
      assert.match(error.message, message);
      return true;
    });
  }
  assert.equal(sup.countChildren().specs, 0);
  await sup.stop();
});

test('supervision.start rejects invalid supervisor specs and duplicate root ids', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  await assert.rejects(supervision.start({ id: 's', strategy: 'all-for-none' as never }), { code: 'SUPERVISION_INVALID_SPEC' });
  await assert.rejects(supervision.start({ id: 's', intensity: -1 }), { code: 'SUPERVISION_INVALID_SPEC' });
  await assert.rejects(supervision.start({ id: 's', periodMs: 0 }), { code: 'SUPERVISION_INVALID_SPEC' });
  await assert.rejects(supervision.start({ id: 's', children: [worker('a').spec, worker('a').spec] }), { code: 'SUPERVISION_DUPLICATE_CHILD' });
  const s = await supervision.start({ id: 's' });
  await assert.rejects(supervision.start({ id: 's' }), { code: 'SUPERVISION_DUPLICATE_SUPERVISOR' });
  assert.deepEqual(supervision.roots().map((r) => r.id), ['s']);
  await s.stop();
  const again = await supervision.start({ id: 's' });
  assert.equal(again.state, 'running', 'a stopped root id can be reused');
  await again.stop();
});

test('a startChild whose start throws, times out, or returns no handle rejects and keeps nothing', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'fail' });
  await assert.rejects(sup.startChild(worker('throws', { failStart: () => true }).spec), (error: Error & { code?: string; cause?: Error }) => {
    assert.equal(error.code, 'SUPERVISION_START_FAILED');
    assert.match(error.cause!.message, /throws start 0 failed/);
    return true;
  });
  let signal: AbortSignal | undefined;
  await assert.rejects(
    sup.startChild({ id: 'slow', startTimeoutMs: 10, start: (ctx) => ((signal = ctx.signal), new Promise(() => {})) }),
    { code: 'SUPERVISION_START_TIMEOUT' },
  );
  assert.equal(signal?.aborted, true, 'the abandoned start is told through its signal');
  await assert.rejects(sup.startChild({ id: 'nohandle', start: () => ({}) as never }), { code: 'SUPERVISION_INVALID_HANDLE' });
  await assert.rejects(sup.startChild({ id: 'rejects', start: () => Promise.reject(new Error('nope')) }), { code: 'SUPERVISION_START_FAILED' });
  assert.deepEqual(sup.whichChildren(), []);
  await sup.stop();
});

test('a late handle from a timed-out start is stopped when it arrives', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'late' });
  const w = worker('late');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await assert.rejects(
    sup.startChild({ id: 'late', startTimeoutMs: 5, start: async (ctx) => (await gate, w.spec.start(ctx)) }),
    { code: 'SUPERVISION_START_TIMEOUT' },
  );
  release();
  await until(() => w.incarnations[0]?.stopCalls === 1, 'late handle stopped');
  await sup.stop();
});

test('terminateChild, restartChild and deleteChild follow the child lifecycle', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const a = worker('a');
  const b = worker('b');
  const sup = await supervision.start({ id: 'life', children: [a.spec, b.spec] });

  await sup.terminateChild('a');
  assert.equal(a.current.stopCalls, 1);
  assert.deepEqual(sup.whichChildren()[0], { id: 'a', state: 'stopped', restartCount: 0, type: 'worker' });
  assert.deepEqual(sup.countChildren(), { specs: 2, active: 1, supervisors: 0, workers: 2 });

  await sup.restartChild('a');
  assert.equal(a.incarnations.length, 2);
  assert.equal(a.current.ctx.restartCount, 1);
  assert.equal(sup.whichChildren()[0]!.state, 'running');

  await sup.restartChild('b'); // a running child is stopped, then started again
  assert.equal(b.incarnations[0]!.stopCalls, 1);
  assert.equal(b.incarnations.length, 2);
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total', { supervisor: 'life' }), 2);

  await assert.rejects(sup.deleteChild('b'), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'SUPERVISION_CHILD_RUNNING');
    assert.match(error.message, /terminateChild\('b'\)/);
    return true;
  });
  await sup.terminateChild('b');
  await sup.deleteChild('b');
  assert.deepEqual(sup.whichChildren().map((c) => c.id), ['a']);

  for (const op of ['terminateChild', 'restartChild', 'deleteChild'] as const) {
    await assert.rejects(sup[op]('ghost'), { code: 'SUPERVISION_CHILD_NOT_FOUND' });
  }
  await sup.stop();
  await assert.rejects(sup.startChild(worker('c').spec), { code: 'SUPERVISION_NOT_RUNNING' });
  await assert.rejects(sup.terminateChild('a'), { code: 'SUPERVISION_NOT_RUNNING' });
  await assert.rejects(sup.restartChild('a'), { code: 'SUPERVISION_NOT_RUNNING' });
});

test('restartChild of a child whose start now fails rejects and leaves it failed', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const a = worker('a', { failStart: (n) => n > 0 });
  const sup = await supervision.start({ id: 'rf', children: [a.spec] });
  await assert.rejects(sup.restartChild('a'), { code: 'SUPERVISION_START_FAILED' });
  assert.equal(sup.whichChildren()[0]!.state, 'failed');
  await sup.stop();
});

test('terminating a temporary child deletes its spec (OTP)', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'tmp', children: [worker('t', { restart: 'temporary' }).spec] });
  await sup.terminateChild('t');
  assert.deepEqual(sup.whichChildren(), []);
  await sup.stop();
});

test('async starts are awaited; whichChildren shows them starting', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'async' });
  const w = worker('w', { asyncStart: true });
  const started = sup.startChild(w.spec);
  assert.equal(sup.whichChildren()[0]!.state, 'starting');
  await started;
  assert.equal(sup.whichChildren()[0]!.state, 'running');
  w.current.crash();
  await until(() => w.incarnations.length === 2 && sup.whichChildren()[0]!.state === 'running', 'async restart');
  await sup.stop();
});

test('a handle with watch() is told through its listener and its exited is never read while it runs', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  let exitedReads = 0;
  const listeners: Array<{ exited(value?: unknown): void; crashed(error: unknown): void }> = [];
  const spec: ChildSpec = {
    id: 'lean',
    backoff: { initialMs: 0 },
    start: () => ({
      get exited() {
        exitedReads++;
        return new Promise(() => {});
      },
      stop: async () => listeners[listeners.length - 1]!.exited(),
      watch: (listener) => void listeners.push(listener),
    }),
  };
  const sup = await supervision.start({ id: 'watch', children: [spec] });
  listeners[0]!.crashed(new Error('boom'));
  assert.equal(listeners.length, 2, 'restarted synchronously from the listener call');
  assert.equal(sup.whichChildren()[0]!.restartCount, 1);
  listeners[0]!.crashed(new Error('late duplicate from the old incarnation'));
  assert.equal(listeners.length, 2, 'a stale listener call is ignored');
  listeners[1]!.exited();
  assert.equal(listeners.length, 3, 'permanent: a normal exit restarts too');
  assert.equal(exitedReads, 0);
  await sup.stop();
});

test('a watch() that reports a crash at once is restarted without recursion, bounded by intensity', async (t) => {
  const { supervision } = await kernelWithSupervision(t, { recovery: { supervision: 'ignore' } });
  let starts = 0;
  const spec: ChildSpec = {
    id: 'doomed',
    backoff: { initialMs: 0 },
    start: () => {
      starts++;
      return { exited: new Promise(() => {}), stop: async () => {}, watch: (listener) => listener.crashed(new Error('dead on arrival')) };
    },
  };
  const sup = await supervision.start({ id: 'doa', intensity: 3, children: [spec] });
  await sup.stopped;
  assert.equal(sup.state, 'failed');
  assert.equal(starts, 4, 'the first start and 3 restarts');
});

test('a root tree stopped on purpose leaves roots(); a failed one stays until its id is reused', async (t) => {
  const { supervision } = await kernelWithSupervision(t, { recovery: { supervision: 'ignore' } });
  const a = await supervision.start({ id: 'a' });
  const w = worker('w');
  const b = await supervision.start({ id: 'b', intensity: 0, children: [w.spec] });
  assert.deepEqual(supervision.roots().map((r) => r.id), ['a', 'b']);
  await a.stop();
  w.current.crash();
  await b.stopped;
  assert.deepEqual(supervision.roots().map((r) => [r.id, r.state]), [['b', 'failed']]);
  const b2 = await supervision.start({ id: 'b' });
  assert.deepEqual(supervision.roots(), [b2]);
  await b2.stop();
});

test('50 dynamic children that come and go leave one metric series per supervisor and reason, none per child', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'pool' });
  const workers = Array.from({ length: 50 }, (_, i) => worker(`actor-${i}`, { restart: 'temporary' }));
  for (const w of workers) await sup.startChild(w.spec);
  for (const w of workers) w.current.exit();
  await until(() => sup.countChildren().active === 0, 'every child exited');
  const series = kernel.recordedMetrics.series('supervisor_child_exits_total');
  assert.deepEqual(series, [{ supervisor: 'pool', reason: 'normal' }]);
  assert.equal(kernel.recordedMetrics.value('supervisor_child_exits_total', { supervisor: 'pool', reason: 'normal' }), 50);
  await sup.stop();
});
