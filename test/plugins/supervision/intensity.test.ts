import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin } from '../../../sdk/index.js';
import type { EventBus, EventInput, StoredEvent } from '../../../plugins/events/types.js';
import type { HealthCheck, HealthService } from '../../../plugins/health/types.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import supervisionPlugin from '../../../plugins/supervision/index.js';
import { createTestKernel } from '../../../testing/index.js';
import { kernelWithSupervision, until, worker } from './helpers.js';

function fakeEvents(published: EventInput[]) {
  let sequence = 0;
  return definePlugin({
    name: 'events',
    version: '0.0.0',
    setup(ctx) {
      ctx.provide('events', {
        publish: async (input: EventInput) => {
          published.push(input);
          return { ...input, id: String(++sequence), time: new Date().toISOString(), sequence, data: input.data } as StoredEvent<never>;
        },
        subscribe: () => ({ unsubscribe: async () => {} }),
      } as unknown as EventBus);
    },
  });
}

function fakeHealth(checks: Map<string, HealthCheck>) {
  return definePlugin({
    name: 'health',
    version: '0.0.0',
    setup(ctx) {
      ctx.provide('health', {
        register: (name: string, check: HealthCheck) => {
          checks.set(name, check);
          return () => void checks.delete(name);
        },
      } as unknown as HealthService);
    },
  });
}

test('exceeding intensity stops the nested supervisor and its children, and the parent restarts the subtree', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const w = worker('w');
  const sibling = worker('sibling');
  const inner = supervision.supervisorChild({ id: 'inner', intensity: 2, periodMs: 60_000, children: [w.spec, sibling.spec] });
  const root = await supervision.start({ id: 'root', intensity: 5, children: [inner] });

  for (let i = 0; i < 3; i++) {
    const before = w.incarnations.length;
    w.current.crash();
    if (i < 2) await until(() => w.incarnations.length === before + 1, `restart ${i + 1}`);
  }
  // The third crash exceeded 2 restarts: inner stopped everything and escalated; root restarted inner.
  await until(() => root.whichChildren()[0]?.restartCount === 1 && root.whichChildren()[0]?.state === 'running', 'subtree restart');
  assert.equal(sibling.incarnations[0]!.stopCalls, 1, 'the healthy sibling was stopped with its supervisor');
  assert.equal(sibling.incarnations.length, 2, 'and started again in the new subtree');
  assert.equal(w.current.ctx.restartCount, 0, 'a new subtree starts its children afresh');
  assert.equal(root.state, 'running');
  assert.equal(kernel.recordedMetrics.value('supervisor_escalations_total', { supervisor: 'inner' }), 1);
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total', { supervisor: 'root' }), 1);
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total', { supervisor: 'inner' }), 2);
  assert.equal(kernel.state, 'running');
  await root.stop();
});

test('a root tree exceeding its intensity becomes a kernel fault, and the kernel stops with exit code 1', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t);
  const faults: Array<{ source: string; code: string; severity: string }> = [];
  kernel.hooks.fault.tap({ name: 'observer', stage: -1 }, (fault) => void faults.push({ source: fault.source, code: fault.code, severity: fault.severity }));
  const w = worker('w');
  const root = await supervision.start({ id: 'root', intensity: 1, children: [w.spec] });
  w.current.crash();
  await until(() => w.incarnations.length === 2, 'first restart');
  w.current.crash();
  await root.stopped;
  assert.equal(root.state, 'failed');
  await until(() => kernel.state === 'stopped', 'kernel stopped');
  assert.equal(kernel.exitCode, 1);
  assert.deepEqual(faults, [{ source: 'supervisor:root', code: 'SUPERVISION_INTENSITY_EXCEEDED', severity: 'high' }]);
  assert.equal(w.incarnations.length, 2, 'nothing restarted after giving up');
});

test('recovery options can make the kernel ignore a root escalation; the tree stays failed', async (t) => {
  const { supervision, kernel } = await kernelWithSupervision(t, { recovery: { supervision: 'ignore' } });
  const w = worker('w');
  const root = await supervision.start({ id: 'root', intensity: 0, children: [w.spec] });
  w.current.crash();
  await root.stopped;
  assert.equal(root.state, 'failed');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(kernel.state, 'running');
  assert.equal(kernel.exitCode, 0);
  await assert.rejects(root.startChild(worker('late').spec), { code: 'SUPERVISION_NOT_RUNNING' });
});

test('escalation, exits and restarts are published as events with correlation ids', async (t) => {
  const published: EventInput[] = [];
  const { supervision } = await kernelWithSupervision(t, { recovery: { supervision: 'ignore' } }, [fakeEvents(published)]);
  const w = worker('w');
  const root = await supervision.start({ id: 'ev', intensity: 1, children: [w.spec] });
  w.current.crash();
  await until(() => w.incarnations.length === 2, 'restart');
  w.current.crash();
  await root.stopped;
  const types = published.map((e) => e.type);
  assert.deepEqual(types, [
    'supervision.child.started',
    'supervision.child.exited',
    'supervision.child.restarted',
    'supervision.child.started',
    'supervision.child.exited',
    'supervision.escalated',
  ]);
  assert.equal(published[1]!.correlationId, published[2]!.correlationId, 'exit and the restart it caused share a correlation id');
  assert.equal(published[0]!.source, 'supervisor:ev');
  assert.deepEqual(published[1]!.data, { supervisor: 'ev', child: 'w', reason: 'crash', restartCount: 0, error: 'w crashed' });
});

test('a root tree registers a health check: healthy, degraded past half its intensity, unhealthy when failed', async (t) => {
  const checks = new Map<string, HealthCheck>();
  const { supervision } = await kernelWithSupervision(t, { recovery: { supervision: 'ignore' } }, [fakeHealth(checks)]);
  const w = worker('w');
  const root = await supervision.start({ id: 'h', intensity: 4, children: [w.spec] });
  const check = checks.get('supervisor:h');
  assert.ok(check, 'check registered');
  const status = async () => (await check(new AbortController().signal)).status;
  assert.equal(await status(), 'healthy');
  for (let i = 0; i < 3; i++) {
    w.current.crash();
    await until(() => w.incarnations.length === i + 2, 'restart');
  }
  assert.equal(await status(), 'degraded');
  w.current.crash();
  await until(() => w.incarnations.length === 5, "restart");
  w.current.crash();
  await root.stopped;
  assert.equal(await status(), 'unhealthy');
});

test('events and health are optional: a publish that fails is logged, never breaks supervision', async (t) => {
  const failing = definePlugin({
    name: 'events',
    version: '0.0.0',
    setup(ctx) {
      ctx.provide('events', {
        publish: () => Promise.reject(new Error('store down')),
        subscribe: () => ({ unsubscribe: async () => {} }),
      } as unknown as EventBus);
    },
  });
  const lines: Array<{ level: number; msg: string; err?: { message?: string }; type?: string }> = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
  const kernel = await createTestKernel(t, { plugins: [failing, supervisionPlugin], logger });
  const supervision = kernel.resolve('supervision');
  const w = worker('w');
  const root = await supervision.start({ id: 'f', children: [w.spec] });
  w.current.crash();
  await until(() => w.incarnations.length === 2, 'restart despite failing publish');
  await until(() => lines.some((l) => l.msg === 'publishing a supervision event failed'), 'the failed publish logged');
  const logged = lines.find((l) => l.msg === 'publishing a supervision event failed')!;
  assert.equal(logged.level, 40, 'a warning');
  assert.equal(logged.err?.message, 'store down');
  assert.match(String(logged.type), /^supervision\./);
  await root.stop();
});
