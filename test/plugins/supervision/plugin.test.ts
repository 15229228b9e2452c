import assert from 'node:assert/strict';
import { test } from 'node:test';
import supervisionPlugin, { SupervisionOptionsSchema, type SupervisionService } from '../../../plugins/supervision/index.js';
import { CancelledError, NetworkError, ResourceError, SupervisionError, TaskError, KernelError } from '../../../sdk/index.js';
import { checkPluginConformance } from '../../../testing/index.js';
import { kernelWithSupervision, worker } from './helpers.js';

test('the supervision plugin passes checkPluginConformance', async () => {
  await checkPluginConformance(supervisionPlugin);
});

test('conformance holds with trees, a pending backoff restart and a heartbeating child left at stop', async () => {
  await checkPluginConformance(supervisionPlugin, {
    options: { failureDetector: { checkIntervalMs: 5 } },
    exercise: async (kernel) => {
      const supervision = kernel.resolve<SupervisionService>('supervision');
      const slow = worker('slow', { backoff: { initialMs: 60_000 } });
      const hb = worker('hb');
      const nested = supervision.supervisorChild({ id: 'nested', children: [worker('n1').spec] });
      await supervision.start({ id: 'tree', strategy: 'rest-for-one', children: [hb.spec, nested, slow.spec] });
      hb.current.ctx.heartbeat();
      hb.current.ctx.heartbeat();
      slow.current.crash();
      await new Promise((r) => setImmediate(r));
    },
  });
});

test('default options validate; bad recovery decisions do not', () => {
  assert.ok(SupervisionOptionsSchema.safeParse({}).success);
  const parsed = SupervisionOptionsSchema.parse({});
  assert.deepEqual(parsed.failureDetector, { threshold: 10, windowSize: 100, checkIntervalMs: 1000 });
  assert.equal(SupervisionOptionsSchema.safeParse({ recovery: { network: 'pray' } }).success, false);
});

test('the fault tap applies the seed recovery table, with overrides from the options', async (t) => {
  const { kernel } = await kernelWithSupervision(t, { recovery: { task: 'ignore' } });
  assert.equal(await kernel.reportFault(new SupervisionError('X', 'supervision trouble')), 'escalate');
  assert.equal(await kernel.reportFault(new KernelError('Y', 'runtime trouble', { severity: 'high' })), 'restart');
  assert.equal(await kernel.reportFault(new ResourceError('Z', 'pool exhausted')), 'retry');
  assert.equal(await kernel.reportFault(new NetworkError('N', 'reset')), 'retry');
  assert.equal(await kernel.reportFault(new CancelledError()), 'ignore');
  assert.equal(await kernel.reportFault(new TaskError('T', 'task failed')), 'ignore', 'overridden in options');
  assert.equal(kernel.state, 'running');
});

test('a critical fault whose decision is escalate stops the kernel (nothing above it)', async (t) => {
  const { kernel } = await kernelWithSupervision(t);
  assert.equal(await kernel.reportFault({ error: new Error('mystery'), severity: 'critical' }), 'stop');
  await kernel.stop();
  assert.equal(kernel.exitCode, 1);
});

test('a critical runtime fault stops the kernel although its row says restart; ignore still wins', async (t) => {
  const { kernel } = await kernelWithSupervision(t);
  assert.equal(await kernel.reportFault(new KernelError('REACTOR', 'the reactor melted')), 'stop');
  await kernel.stop();
  assert.equal(kernel.exitCode, 1);
  const { kernel: lenient } = await kernelWithSupervision(t, { recovery: { runtime: 'ignore' } });
  assert.equal(await lenient.reportFault(new KernelError('REACTOR', 'the reactor melted')), 'ignore');
  assert.equal(lenient.state, 'running');
});

test('metrics are registered through the facade without the prefix; the children gauge is read on scrape', async (t) => {
  const { kernel, supervision } = await kernelWithSupervision(t);
  const sup = await supervision.start({ id: 'm', children: [worker('a').spec, worker('b').spec] });
  const names = kernel.recordedMetrics.names();
  for (const name of ['supervisor_restarts_total', 'supervisor_child_exits_total', 'supervisor_escalations_total', 'supervisor_forced_kills_total', 'supervisor_children']) {
    assert.ok(names.includes(name), name);
  }
  assert.equal(kernel.recordedMetrics.value('supervisor_children', { supervisor: 'm' }), 2);
  await sup.terminateChild('a');
  assert.equal(kernel.recordedMetrics.value('supervisor_children', { supervisor: 'm' }), 1);
  await sup.stop();
  assert.equal(kernel.recordedMetrics.value('supervisor_children', { supervisor: 'm' }), 0);
});
