import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Supervisor } from '../../../plugins/supervision/index.js';
import { kernelWithSupervision, until, worker } from './helpers.js';

test('startSupervisor starts a nested supervisor as a dynamic child and resolves to it; whichChildren shows it as a supervisor', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const root = await supervision.start({ id: 'root' });
  const first = worker('first');
  await root.startChild(first.spec);
  const initial = worker('initial');
  const nested = await root.startSupervisor({ id: 'nested', strategy: 'one-for-all', children: [initial.spec] });
  assert.equal(nested.id, 'nested');
  assert.equal(nested.state, 'running');
  assert.deepEqual(root.whichChildren(), [
    { id: 'first', state: 'running', restartCount: 0, type: 'worker' },
    { id: 'nested', state: 'running', restartCount: 0, type: 'supervisor' },
  ]);
  assert.deepEqual(root.countChildren(), { specs: 2, active: 2, supervisors: 1, workers: 1 });
  const later = worker('later');
  await nested.startChild(later.spec);
  assert.deepEqual(nested.whichChildren().map((c) => c.id), ['initial', 'later']);
  assert.deepEqual(supervision.roots().map((r) => r.id), ['root'], 'a nested supervisor is not a root tree');
  await root.stop();
});

test('startSupervisor rejects a bad spec, a duplicate id and a stopped parent with typed errors', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const root = await supervision.start({ id: 'root' });
  await assert.rejects(root.startSupervisor({ id: '' }), { code: 'SUPERVISION_INVALID_SPEC' });
  await root.startSupervisor({ id: 'nested' });
  await assert.rejects(root.startSupervisor({ id: 'nested' }), { code: 'SUPERVISION_DUPLICATE_CHILD' });
  await assert.rejects(root.startSupervisor({ id: 'broken', children: [worker('w', { failStart: () => true }).spec] }), { code: 'SUPERVISION_START_FAILED' });
  assert.deepEqual(root.whichChildren().map((c) => c.id), ['nested'], 'a nested supervisor that could not start is not kept');
  await root.stop();
  await assert.rejects(root.startSupervisor({ id: 'late' }), { code: 'SUPERVISION_NOT_RUNNING' });
});

test('a nested supervisor that exceeds its intensity escalates to its parent, which restarts the subtree; onStart sees each incarnation', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const root = await supervision.start({ id: 'root', intensity: 5 });
  const w = worker('w');
  const sibling = worker('sibling');
  const incarnations: Supervisor[] = [];
  const nested = await root.startSupervisor(
    { id: 'inner', intensity: 1, periodMs: 60_000, children: [w.spec, sibling.spec] },
    { backoff: { initialMs: 0, jitter: 0 }, onStart: (s) => incarnations.push(s) },
  );
  assert.deepEqual(incarnations, [nested]);
  const dynamic = worker('dynamic');
  await nested.startChild(dynamic.spec);

  w.current.crash();
  await until(() => w.incarnations.length === 2, 'first restart inside the nested supervisor');
  w.current.crash();
  await nested.stopped;
  assert.equal(nested.state, 'failed', 'the second crash exceeded intensity 1: the nested supervisor gave up');
  assert.equal(dynamic.incarnations[0]!.stopCalls, 1, 'its dynamic child was stopped with it');
  assert.equal(sibling.incarnations[0]!.stopCalls, 1, 'and so was the healthy sibling');

  await until(() => incarnations.length === 2 && root.whichChildren()[0]?.state === 'running', 'the parent restarted the subtree');
  assert.deepEqual(root.whichChildren(), [{ id: 'inner', state: 'running', restartCount: 1, type: 'supervisor' }]);
  const renewed = incarnations[1]!;
  assert.notEqual(renewed, nested, 'a restart is a new Supervisor');
  assert.deepEqual(renewed.whichChildren().map((c) => c.id), ['w', 'sibling'], 'initial children only; dynamic ones are not carried over');
  assert.equal(dynamic.incarnations.length, 1);
  assert.equal(root.state, 'running');
  assert.equal(kernel.state, 'running', 'the failure stayed inside the tree');
  assert.equal(kernel.recordedMetrics.value('supervisor_escalations_total', { supervisor: 'inner' }), 1);
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total', { supervisor: 'root' }), 1);
  await root.stop();
});

test("a 'temporary' nested supervisor that gives up is forgotten by its parent, whose intensity it does not use", async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const root = await supervision.start({ id: 'root', intensity: 0 });
  const w = worker('w');
  const nested = await root.startSupervisor({ id: 'inner', intensity: 0, children: [w.spec] }, { restart: 'temporary' });
  w.current.crash();
  await nested.stopped;
  assert.equal(nested.state, 'failed');
  await until(() => root.whichChildren().length === 0, 'the parent forgot it');
  assert.equal(root.state, 'running', 'intensity 0 and still running: a temporary child is never restarted, so never counted');
  assert.equal(kernel.state, 'running');
  // Its id is free again.
  await root.startSupervisor({ id: 'inner' }, { restart: 'temporary' });
  await root.stop();
});

test('stop order: a nested supervisor stops with its parent in reverse start order, its own children first', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const log: string[] = [];
  const root = await supervision.start({ id: 'root' });
  await root.startChild(worker('older', { log }).spec);
  const nested = await root.startSupervisor({ id: 'nested', children: [worker('a', { log }).spec] });
  await nested.startChild(worker('b', { log }).spec);
  await root.startChild(worker('younger', { log }).spec);
  log.length = 0;
  await root.stop();
  assert.deepEqual(log, ['stop:younger', 'stop:b', 'stop:a', 'stop:older']);
  assert.equal(nested.state, 'stopped');
});

test('terminateChild of a nested supervisor stops its subtree and keeps the spec; restartChild starts a new one', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const root = await supervision.start({ id: 'root' });
  const a = worker('a');
  const seen: Supervisor[] = [];
  const nested = await root.startSupervisor({ id: 'nested', children: [a.spec] }, { onStart: (s) => seen.push(s) });
  await root.terminateChild('nested');
  assert.equal(nested.state, 'stopped');
  assert.equal(a.incarnations[0]!.stopCalls, 1);
  assert.deepEqual(root.whichChildren(), [{ id: 'nested', state: 'stopped', restartCount: 0, type: 'supervisor' }]);
  await root.restartChild('nested');
  assert.equal(seen.length, 2);
  assert.equal(seen[1]!.state, 'running');
  assert.equal(a.incarnations.length, 2);
  await root.stop();
});

test("a nested supervisor with a finite or 'brutal' shutdown kills its own children when its parent gives up on it", async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const root = await supervision.start({ id: 'root' });
  const stuckA = worker('stuck-a', { ignoreStop: true, shutdown: 60_000 });
  const stuckB = worker('stuck-b', { ignoreStop: true, shutdown: 60_000 });
  await root.startSupervisor({ id: 'finite', children: [stuckA.spec] }, { shutdown: 30 });
  await root.startSupervisor({ id: 'brutal', children: [stuckB.spec] }, { shutdown: 'brutal' });
  const began = performance.now();
  await root.stop();
  assert.ok(performance.now() - began < 2000, 'the parent did not wait for the 60 s children');
  await until(() => stuckA.current.ctx.signal.aborted && stuckB.current.ctx.signal.aborted, 'both stuck children killed');
});
