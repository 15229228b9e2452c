import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorError, definePlugin, KernelError, NetworkError, type Fault, type RecoveryDecision } from '../../index.js';
import { capturingLogger, forever, kernelOf, recorder } from './fixtures/util.js';

function collectFaults(kernel: { hooks: { fault: { tap(name: string, fn: (f: Fault) => RecoveryDecision | undefined): void } } }, decide?: (f: Fault) => RecoveryDecision | undefined): Fault[] {
  const faults: Fault[] = [];
  kernel.hooks.fault.tap('collector', (fault) => {
    faults.push(fault);
    return decide?.(fault);
  });
  return faults;
}

/** Lets queued microtasks and a timer turn run (the kernel reports some faults without awaiting them). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

test('an optional plugin that fails to start: the kernel runs on, the fault is reported with severity medium', async () => {
  const log: string[] = [];
  const disposed: string[] = [];
  const flaky = definePlugin({
    name: 'flaky',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('flaky-svc', 1, { dispose: () => void disposed.push('flaky-svc') });
      ctx.onStart(() => {
        throw new NetworkError('NET_DOWN', 'upstream unreachable');
      });
    },
  });
  const { logger, lines } = capturingLogger();
  const kernel = await kernelOf({ plugins: [recorder('a', log), { use: flaky, optional: true }, recorder('b', log)] }, logger);
  const faults = collectFaults(kernel);
  await kernel.start();
  await turn();
  assert.equal(kernel.state, 'running');
  assert.equal(kernel.exitCode, 0);
  assert.deepEqual(log, ['setup:a', 'setup:b', 'start:a', 'start:b']);
  assert.equal(kernel.tryResolve('flaky-svc'), undefined);
  assert.deepEqual(disposed, ['flaky-svc']);
  assert.equal(faults.length, 1);
  assert.equal(faults[0]!.source, 'flaky');
  assert.equal(faults[0]!.severity, 'medium');
  assert.equal(faults[0]!.message, 'upstream unreachable');
  assert.deepEqual(faults[0]!.context, { phase: 'start' });
  assert.ok(lines.some((l) => l.plugin === 'flaky' && /optional plugin 'flaky' failed to start/.test(String(l.msg))), 'the failure is logged');
  assert.ok(kernel.plugins.find((p) => p.name === 'flaky')!.optional);
  assert.deepEqual(kernel.timeline().filter((r) => r.plugin === 'flaky').map((r) => [r.phase, r.error]), [
    ['setup', undefined],
    ['start', 'upstream unreachable'],
  ]);
  await kernel.stop();
  assert.deepEqual(log.slice(4), ['stop:b', 'stop:a']);
});

test('an optional plugin that misses its start deadline or fails in setup is dropped too', async () => {
  const hang = definePlugin({ name: 'hang', version: '1.0.0', setup: (ctx) => ctx.onStart(() => forever()) });
  const badSetup = definePlugin({
    name: 'bad-setup',
    version: '1.0.0',
    setup() {
      throw new Error('nope');
    },
  });
  const kernel = await kernelOf({ startTimeoutMs: 30, plugins: [{ use: hang, optional: true }, { use: badSetup, optional: true }] });
  const faults = collectFaults(kernel);
  await kernel.start();
  await turn();
  assert.equal(kernel.state, 'running');
  assert.deepEqual(faults.map((f) => [f.source, f.severity, f.context.phase]).sort(), [
    ['bad-setup', 'medium', 'setup'],
    ['hang', 'medium', 'start'],
  ]);
  await kernel.stop();
});

test('a required plugin that fails still fails the start even when others are optional', async () => {
  const kernel = await kernelOf({ plugins: [{ use: recorder('opt', []), optional: true }, recorder('req', [], { onStart: () => Promise.reject(new Error('hard')) })] });
  await assert.rejects(kernel.start(), /plugin 'req' failed to start: hard/);
  assert.equal(kernel.state, 'failed');
});

test('a critical fault with no decision stops the kernel with exit code 1', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('a', log)] });
  const faults = collectFaults(kernel);
  await kernel.start();
  const decision = await kernel.reportFault({ error: new Error('heap corrupted'), severity: 'critical', source: 'watchdog' });
  assert.equal(decision, undefined);
  const report = await kernel.stop();
  assert.equal(kernel.state, 'stopped');
  assert.equal(kernel.exitCode, 1);
  assert.match(report.reason, /critical fault from watchdog: heap corrupted/);
  assert.deepEqual(log.slice(-1), ['stop:a']);
  assert.equal(faults[0]!.severity, 'critical');
});

test('a KernelError (kind runtime) is critical by default and stops the kernel', async () => {
  const kernel = await kernelOf({});
  await kernel.start();
  await kernel.reportFault(new KernelError('SOMETHING_BROKE', 'broken'));
  await kernel.stop();
  assert.equal(kernel.exitCode, 1);
});

test('a non-critical fault with no decision is logged and the kernel keeps running', async () => {
  const { logger, lines } = capturingLogger();
  const kernel = await kernelOf({}, logger);
  await kernel.start();
  await kernel.reportFault({ error: new ActorError('ACTOR_MAILBOX_FULL', 'mailbox full'), source: 'actors', context: { actor: 'x' } });
  await kernel.reportFault({ error: 'a plain string', severity: 'low' });
  assert.equal(kernel.state, 'running');
  assert.equal(kernel.exitCode, 0);
  const faultLines = lines.filter((l) => /^fault from/.test(String(l.msg)));
  assert.equal(faultLines.length, 2);
  assert.equal(faultLines[0]!.code, 'ACTOR_MAILBOX_FULL');
  assert.equal(faultLines[0]!.severity, 'medium');
  assert.equal(faultLines[0]!.level, 50);
  assert.equal(faultLines[1]!.source, 'kernel');
  assert.equal(faultLines[1]!.level, 40);
  await kernel.stop();
});

test('a decision of stop stops the kernel; ignore keeps even a critical fault from stopping it', async () => {
  const kernel = await kernelOf({});
  collectFaults(kernel, (f) => (f.source === 'stopper' ? 'stop' : 'ignore'));
  await kernel.start();
  assert.equal(await kernel.reportFault({ error: new Error('fatal'), severity: 'critical' }), 'ignore');
  assert.equal(kernel.state, 'running');
  assert.equal(kernel.exitCode, 0);
  assert.equal(await kernel.reportFault({ error: new Error('meh'), severity: 'low', source: 'stopper' }), 'stop');
  const report = await kernel.stop();
  assert.equal(kernel.exitCode, 1);
  assert.match(report.reason, /fault from stopper/);
});

test('the first tap with a decision wins; a throwing fault tap falls back to the default policy', async () => {
  const kernel = await kernelOf({});
  const order: string[] = [];
  kernel.hooks.fault.tap('observer', () => void order.push('observer'));
  kernel.hooks.fault.tap('policy', () => (order.push('policy'), 'restart'));
  kernel.hooks.fault.tap('never', () => (order.push('never'), 'stop'));
  await kernel.start();
  assert.equal(await kernel.reportFault(new Error('x')), 'restart');
  assert.deepEqual(order, ['observer', 'policy']);
  await kernel.stop();

  const k2 = await kernelOf({});
  k2.hooks.fault.tap('broken', () => {
    throw new Error('policy bug');
  });
  await k2.start();
  assert.equal(await k2.reportFault({ error: new Error('boom'), severity: 'critical' }), undefined);
  await k2.stop();
  assert.equal(k2.exitCode, 1);
});

test('ctx.reportFault names the plugin as the source; the fault carries the classification', async () => {
  let report!: (e: unknown) => Promise<unknown>;
  const p = definePlugin({ name: 'reporter', version: '1.0.0', setup: (ctx) => void (report = (e) => ctx.reportFault({ error: e, context: { n: 1 } })) });
  const kernel = await kernelOf({ plugins: [p] });
  const faults = collectFaults(kernel);
  await kernel.start();
  const econnreset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  await report(econnreset);
  const f = faults[0]!;
  assert.equal(f.source, 'reporter');
  assert.equal(f.error, econnreset);
  assert.equal(f.code, 'ECONNRESET');
  assert.equal(f.kind, 'network');
  assert.equal(f.severity, 'low');
  assert.equal(f.retryable, true);
  assert.ok(f.time instanceof Date);
  assert.deepEqual(f.context, { n: 1 });
  assert.ok(Object.isFrozen(f));
  await kernel.stop();
});

test('tracked work: settled() waits for it and counts rejections, which are reported as faults', async () => {
  let track!: <T>(p: Promise<T>, label?: string) => Promise<T>;
  const p = definePlugin({ name: 'worker', version: '1.0.0', setup: (ctx) => void (track = ctx.track.bind(ctx)) });
  const kernel = await kernelOf({ plugins: [p] });
  const faults = collectFaults(kernel, () => 'ignore');
  await kernel.start();
  assert.equal(await kernel.settled(), 0);
  const ok = track(new Promise((resolve) => setTimeout(() => resolve('done'), 10)), 'ok-job');
  const bad = track(new Promise((_, reject) => setTimeout(() => reject(new Error('job failed')), 5)), 'bad-job');
  bad.catch(() => undefined);
  assert.equal(await ok, 'done');
  assert.equal(await kernel.settled(), 1);
  await turn();
  assert.equal(faults.length, 1);
  assert.equal(faults[0]!.source, 'worker');
  assert.deepEqual(faults[0]!.context, { work: 'bad-job' });
  assert.equal(kernel.exitCode, 1);
  await kernel.stop();
});

test('settled() includes work tracked while waiting, and honours its timeout', async () => {
  let track!: <T>(p: Promise<T>) => Promise<T>;
  const p = definePlugin({ name: 'w', version: '1.0.0', setup: (ctx) => void (track = ctx.track.bind(ctx)) });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  let second = false;
  track(new Promise<void>((resolve) => setTimeout(() => {
    track(new Promise<void>((r) => setTimeout(() => ((second = true), r()), 10)));
    resolve();
  }, 5)));
  await kernel.settled();
  assert.equal(second, true);
  let release!: () => void;
  track(new Promise<void>((resolve) => (release = resolve)));
  await assert.rejects(kernel.settled({ timeoutMs: 20 }), (e: KernelError) => e.code === 'KERNEL_SETTLE_TIMEOUT');
  release();
  await kernel.settled();
  await kernel.stop();
});
