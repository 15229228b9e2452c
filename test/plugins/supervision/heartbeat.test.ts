import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { FailureDetector, phi, PHI_CAP } from '../../../plugins/supervision/index.js';
import { kernelWithSupervision, worker } from './helpers.js';

test('phi follows −log10(1 − Φ((elapsed − mean) / sd)), capped at 16, with the zero-variance rule', () => {
  assert.ok(Math.abs(phi(100, 100, 10) - Math.log10(2)) < 1e-6, 'at the mean φ = −log10(0.5)');
  assert.ok(phi(50, 100, 10) < 0.01);
  assert.ok(Math.abs(phi(130, 100, 10) - -Math.log10(0.0013499)) < 1e-3, '3 sd above the mean');
  assert.equal(phi(10_000, 100, 10), PHI_CAP);
  assert.equal(phi(200, 100, 0), 0, 'zero variance: not beyond 2 × mean');
  assert.equal(phi(201, 100, 0), 10, 'zero variance: beyond 2 × mean');
});

test('the detector reports a silent subject once per healthy → failed transition, using one timer (mock timers)', (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  const failures: Array<[string, number]> = [];
  const detector = new FailureDetector<string>((subject, level) => failures.push([subject, level]), { checkIntervalMs: 50 });
  for (let i = 0; i <= 5; i++) {
    detector.heartbeat('a');
    detector.heartbeat('b');
    t.mock.timers.tick(100);
  }
  detector.heartbeat('b');
  assert.equal(failures.length, 0);
  t.mock.timers.tick(150); // 'a': 250 ms of silence > 2 × 100
  assert.deepEqual(failures.map(([s]) => s), ['a']);
  assert.ok(failures[0]![1] >= 10);
  t.mock.timers.tick(500);
  assert.deepEqual(failures.map(([s]) => s), ['a', 'b'], "'a' is not reported twice");
  detector.heartbeat('a'); // healthy again
  t.mock.timers.tick(10);
  assert.ok(detector.phi('a') < 1, 'a heartbeat makes it healthy again');
  detector.remove('a');
  detector.remove('b');
  assert.equal(detector.size, 0);
  detector.stop();
});

test('a heartbeating child that falls silent is treated as crashed and restarted (mock timers)', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t, { failureDetector: { checkIntervalMs: 100 } });
  const w = worker('hb');
  const sup = await supervision.start({ id: 'hbsup', children: [w.spec] });
  t.mock.timers.enable({ apis: ['setInterval', 'Date', 'setTimeout'], now: Date.now() });
  const first = w.current;
  for (let i = 0; i < 5; i++) {
    first.ctx.heartbeat();
    t.mock.timers.tick(100);
  }
  first.ctx.heartbeat();
  assert.equal(w.incarnations.length, 1);
  t.mock.timers.tick(300); // 300 ms silence > 2 × 100 ms mean
  await turn();
  assert.equal(w.incarnations.length, 2, 'restarted');
  assert.equal(first.ctx.signal.aborted, true);
  assert.equal((first.ctx.signal.reason as { code?: string }).code, 'SUPERVISION_HEARTBEAT_TIMEOUT');
  assert.equal(first.stopCalls, 1, 'the silent incarnation was asked to stop');
  assert.equal(kernel.recordedMetrics.value('supervisor_child_exits_total', { supervisor: 'hbsup', reason: 'heartbeat-timeout' }), 1);
  // Late heartbeats from the abandoned incarnation are ignored; the new one is not watched until it beats.
  first.ctx.heartbeat();
  t.mock.timers.tick(10_000);
  await turn();
  assert.equal(w.incarnations.length, 2);
  assert.equal(sup.whichChildren()[0]!.restartCount, 1);
  await sup.stop();
});
