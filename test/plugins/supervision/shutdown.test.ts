import assert from 'node:assert/strict';
import { test } from 'node:test';
import supervisionPlugin from '../../../plugins/supervision/index.js';
import { createTestKernel } from '../../../testing/index.js';
import { kernelWithSupervision, until, worker } from './helpers.js';

test('children stop in reverse start order, dynamic children included', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const log: string[] = [];
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => worker(id, { log }));
  const sup = await supervision.start({ id: 'order', children: [a!.spec, b!.spec, c!.spec] });
  await sup.startChild(d!.spec);
  log.length = 0;
  await sup.stop('test');
  assert.deepEqual(log, ['stop:d', 'stop:c', 'stop:b', 'stop:a']);
  assert.ok(sup.whichChildren().every((ch) => ch.state === 'stopped'));
  assert.equal(sup.state, 'stopped');
  await sup.stopped;
  assert.equal(await sup.stop(), undefined, 'stop is idempotent');
});

test('a child that ignores its stop request is killed at its shutdown deadline (mock timers)', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const stubborn = worker('stubborn', { ignoreStop: true, shutdown: 1000 });
  const polite = worker('polite');
  const sup = await supervision.start({ id: 'kill', children: [polite.spec, stubborn.spec] });
  const signal = stubborn.current.ctx.signal;
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let done = false;
  const stopping = sup.stop().then(() => (done = true));
  await until(() => stubborn.current.stopCalls === 1, 'stop requested');
  t.mock.timers.tick(999);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'still waiting before the deadline');
  assert.equal(signal.aborted, false);
  t.mock.timers.tick(1);
  await stopping;
  assert.equal(signal.aborted, true, "the killed child's signal is aborted");
  assert.equal((signal.reason as { code?: string }).code, 'SUPERVISION_CHILD_KILLED');
  assert.equal(polite.current.stopCalls, 1, 'the next child (older) is stopped after the kill');
  assert.equal(kernel.recordedMetrics.value('supervisor_forced_kills_total', { supervisor: 'kill' }), 1);
  assert.equal(kernel.recordedMetrics.value('supervisor_child_exits_total', { supervisor: 'kill', reason: 'killed' }), 1);
  assert.equal(kernel.recordedMetrics.value('supervisor_child_exits_total', { supervisor: 'kill', reason: 'shutdown' }), 1);
});

test("'brutal' aborts the child's signal at once without asking it to stop", async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const w = worker('w', { shutdown: 'brutal', ignoreStop: true });
  const sup = await supervision.start({ id: 'brutal', children: [w.spec] });
  await sup.stop();
  assert.equal(w.current.ctx.signal.aborted, true);
  assert.equal(w.current.stopCalls, 0);
  assert.equal(kernel.recordedMetrics.value('supervisor_forced_kills_total', { supervisor: 'brutal' }), 1);
});

test("'infinity' shutdown is rejected for workers with a typed error, accepted for supervisors", async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'inf' });
  await assert.rejects(sup.startChild({ ...worker('w').spec, shutdown: 'infinity' }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'SUPERVISION_INVALID_CHILD_SPEC');
    assert.match(error.message, /'infinity' is only allowed for supervisors/);
    return true;
  });
  await assert.rejects(supervision.start({ id: 'bad', children: [{ ...worker('w').spec, shutdown: 'infinity' }] }), { code: 'SUPERVISION_INVALID_CHILD_SPEC' });
  const inner = worker('inner-w');
  await sup.startChild(supervision.supervisorChild({ id: 'nested', children: [inner.spec] }));
  assert.deepEqual(sup.whichChildren(), [{ id: 'nested', state: 'running', restartCount: 0, type: 'supervisor' }]);
  await sup.stop();
  assert.equal(inner.current.stopCalls, 1, 'the nested tree stopped its own children');
});

test('a crash during shutdown restarts nothing', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const victim = worker('victim');
  let crashSibling = (): void => {};
  const trigger = {
    id: 'trigger',
    start: () => {
      let resolve!: () => void;
      const exited = new Promise<void>((r) => (resolve = r));
      return {
        exited,
        stop: async () => {
          crashSibling();
          await new Promise((r) => setImmediate(r));
          resolve();
        },
      };
    },
  };
  const sup = await supervision.start({ id: 'crashy', children: [victim.spec, trigger] });
  crashSibling = () => victim.current.crash(new Error('crashed while the tree stops'));
  await sup.stop();
  assert.equal(victim.incarnations.length, 1, 'not restarted');
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total'), 0);
  assert.equal(sup.whichChildren().find((c) => c.id === 'victim')!.state, 'failed');
});

test('the kernel stopping stops every root tree, newest first', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const log: string[] = [];
  const first = await supervision.start({ id: 'first', children: [worker('f1', { log }).spec, worker('f2', { log }).spec] });
  const second = await supervision.start({ id: 'second', children: [worker('s1', { log }).spec] });
  log.length = 0;
  await kernel.stop('test');
  assert.deepEqual(log, ['stop:s1', 'stop:f2', 'stop:f1']);
  assert.equal(first.state, 'stopped');
  assert.equal(second.state, 'stopped');
  await assert.rejects(supervision.start({ id: 'late' }), { code: 'SUPERVISION_NOT_RUNNING' });
});

test("the plugin's stop deadline kills what still waits, even under an 'infinity' supervisor", async (t) => {
  const kernel = await createTestKernel({ plugins: [supervisionPlugin], config: { shutdownTimeoutMs: 150 }, test: t });
  const supervision = kernel.resolve('supervision');
  const stuck = worker('stuck', { ignoreStop: true, shutdown: 60_000 });
  await supervision.start({ id: 'outer', children: [supervision.supervisorChild({ id: 'inner', children: [stuck.spec] })] });
  const began = performance.now();
  await kernel.stop('deadline test');
  assert.ok(performance.now() - began < 2000, 'stop did not wait for the 60 s child');
  assert.equal(kernel.state, 'stopped');
  await until(() => stuck.current.ctx.signal.aborted, 'stuck child killed');
});
