import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelWithSupervision, until, worker } from './helpers.js';

test('1,000 children under one supervisor all restart correctly after crashing', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const workers = Array.from({ length: 1000 }, (_, i) => worker(`w${i}`));
  const sup = await supervision.start({ id: 'big', intensity: 10_000, children: workers.map((w) => w.spec) });
  assert.equal(sup.countChildren().active, 1000);
  for (const w of workers) w.current.crash();
  await until(() => workers.every((w) => w.incarnations.length === 2) && sup.countChildren().active === 1000, 'all restarted');
  // Every second one crashes again: only those restart.
  workers.forEach((w, i) => i % 2 === 0 && w.current.crash());
  await until(() => sup.countChildren().active === 1000 && workers[998]!.incarnations.length === 3, 'half restarted');
  const info = sup.whichChildren();
  assert.equal(info.length, 1000);
  info.forEach((c, i) => {
    assert.equal(c.id, `w${i}`, 'start order kept across restarts');
    assert.equal(c.state, 'running');
    assert.equal(c.restartCount, i % 2 === 0 ? 2 : 1);
  });
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total', { supervisor: 'big' }), 1500);
  await sup.stop();
  assert.ok(workers.every((w) => w.current.stopCalls === 1));
});

test('1,000 children under rest-for-one: a crash of the first restarts all of them in order', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const log: string[] = [];
  const workers = Array.from({ length: 1000 }, (_, i) => worker(`w${i}`, { log }));
  const sup = await supervision.start({ id: 'rest', strategy: 'rest-for-one', children: workers.map((w) => w.spec) });
  log.length = 0;
  workers[0]!.current.crash();
  await until(() => workers[999]!.incarnations.length === 2, 'all restarted');
  const starts = log.filter((l) => l.startsWith('start:'));
  assert.deepEqual(starts, workers.map((w) => `start:${w.spec.id}`));
  const stops = log.filter((l) => l.startsWith('stop:'));
  assert.deepEqual(stops, workers.slice(1).reverse().map((w) => `stop:${w.spec.id}`));
  await sup.stop();
});
