import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { kernelWithSupervision, until, worker } from './helpers.js';

const backoff = { initialMs: 100, factor: 2, maxMs: 350, jitter: 0 };

test('restarts wait initialMs × factor^n, capped at maxMs (mock timers)', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const w = worker('w', { backoff });
  const sup = await supervision.start({ id: 'b', intensity: 100, children: [w.spec] });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  for (const expected of [100, 200, 350, 350]) {
    const before = w.incarnations.length;
    w.current.crash();
    await turn();
    assert.equal(sup.whichChildren()[0]!.state, 'restarting');
    t.mock.timers.tick(expected - 1);
    await turn();
    assert.equal(w.incarnations.length, before, `not restarted before ${expected} ms`);
    t.mock.timers.tick(1);
    assert.equal(w.incarnations.length, before + 1, `restarted at ${expected} ms`);
    assert.equal(w.current.ctx.restartCount, before);
  }
  await sup.stop();
});

test('a child that stayed up longer than periodMs has its backoff reset (mock timers and Date)', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const w = worker('w', { backoff });
  const sup = await supervision.start({ id: 'reset', intensity: 100, periodMs: 1000, children: [w.spec] });
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
  w.current.crash();
  await turn();
  t.mock.timers.tick(100);
  assert.equal(w.incarnations.length, 2);
  w.current.crash();
  await turn();
  t.mock.timers.tick(200);
  assert.equal(w.incarnations.length, 3, 'second restart waited 200 ms');
  t.mock.timers.tick(1500); // up for longer than periodMs
  w.current.crash();
  await turn();
  t.mock.timers.tick(99);
  await turn();
  assert.equal(w.incarnations.length, 3);
  t.mock.timers.tick(1);
  assert.equal(w.incarnations.length, 4, 'back to initialMs');
  assert.equal(w.current.ctx.restartCount, 3, 'the restart count itself is never reset');
  await sup.stop();
});

test('a pending backoff restart is cancelled by stop and by terminateChild (no leaked timers)', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const w = worker('w', { backoff: { initialMs: 10_000, jitter: 0 } });
  const v = worker('v', { backoff: { initialMs: 10_000, jitter: 0 } });
  const sup = await supervision.start({ id: 'cancel', children: [w.spec, v.spec] });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  w.current.crash();
  v.current.crash();
  await turn();
  await sup.terminateChild('v');
  assert.equal(sup.whichChildren()[1]!.state, 'stopped');
  await sup.stop();
  t.mock.timers.tick(60_000);
  await turn();
  assert.equal(w.incarnations.length, 1, 'no restart after stop');
  assert.equal(v.incarnations.length, 1, 'no restart after terminate');
});

test('with initialMs 0 a one-for-one restart happens without any timer', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const w = worker('w', { backoff: { initialMs: 0 } });
  const sup = await supervision.start({ id: 'zero', intensity: Infinity, children: [w.spec] });
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  // 1,100 restarts: past the point where 0 × 2^n overflows to NaN.
  for (let i = 1; i <= 1100; i++) {
    w.current.crash();
    // Only the microtasks of the exited reaction: timers are mocked and never ticked.
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(w.incarnations.length, i + 1);
  }
  await sup.stop();
});

test('one-for-all waits the failed child’s backoff before starting the group again (mock timers)', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const a = worker('a', { backoff });
  const b = worker('b', { backoff });
  const sup = await supervision.start({ id: 'group', strategy: 'one-for-all', children: [a.spec, b.spec] });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  b.current.crash();
  await until(() => a.incarnations[0]!.stopCalls === 1, 'a stopped');
  await turn();
  assert.equal(a.incarnations.length, 1);
  t.mock.timers.tick(100);
  await until(() => a.incarnations.length === 2 && b.incarnations.length === 2, 'group restarted');
  await sup.stop();
});

test('the default backoff is the SDK default (100 ms ±10 %)', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const w = worker('w');
  const spec = { ...w.spec };
  delete (spec as { backoff?: unknown }).backoff;
  const sup = await supervision.start({ id: 'dflt', children: [spec] });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  w.current.crash();
  await turn();
  t.mock.timers.tick(89);
  await turn();
  assert.equal(w.incarnations.length, 1);
  t.mock.timers.tick(22);
  assert.equal(w.incarnations.length, 2);
  await sup.stop();
});
