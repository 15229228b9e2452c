import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKernel, definePlugin, KernelError, type KernelState } from '../../index.js';
import { capturingLogger, forever, kernelOf, recorder } from './fixtures/util.js';

test('a kernel goes created → starting → running → stopping → stopped', async () => {
  const seen: KernelState[] = [];
  let kernelRef: { state: KernelState } | undefined;
  const probe = definePlugin({
    name: 'probe',
    version: '1.0.0',
    setup(ctx) {
      seen.push(ctx.kernelState());
      ctx.onStart(() => void seen.push(ctx.kernelState()));
      ctx.onStop(() => void seen.push(ctx.kernelState()));
    },
  });
  const kernel = await kernelOf({ plugins: [probe] });
  kernelRef = kernel;
  assert.equal(kernelRef.state, 'created');
  const starting = kernel.start();
  assert.equal(kernel.state, 'starting');
  await starting;
  assert.equal(kernel.state, 'running');
  const stopping = kernel.stop('done');
  assert.equal(kernel.state, 'stopping');
  const report = await stopping;
  assert.equal(kernel.state, 'stopped');
  assert.deepEqual(report, { reason: 'done', errors: [] });
  assert.deepEqual(seen, ['starting', 'starting', 'stopping']);
});

test('setup runs for every plugin before any onStart; stop runs in reverse start order', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({
    plugins: [recorder('c', log, { dependsOn: ['b'] }), recorder('a', log), recorder('b', log, { dependsOn: ['a'] })],
  });
  assert.deepEqual(kernel.plugins.map((p) => p.name), ['a', 'b', 'c']);
  await kernel.start();
  await kernel.stop();
  assert.deepEqual(log, ['setup:a', 'setup:b', 'setup:c', 'start:a', 'start:b', 'start:c', 'stop:c', 'stop:b', 'stop:a']);
});

test('an unconstrained config starts in the order it is written', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('z', log), recorder('y', log), recorder('x', log)] });
  await kernel.start();
  await kernel.stop();
  assert.deepEqual(log.filter((l) => l.startsWith('start:')), ['start:z', 'start:y', 'start:x']);
});

test('optionalDependsOn orders a plugin after a loaded one and is ignored when absent', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('user', log, { optionalDependsOn: ['health', 'absent'] }), recorder('health', log)] });
  assert.deepEqual(kernel.plugins.map((p) => p.name), ['health', 'user']);
  await kernel.start();
  await kernel.stop();
});

test('one plugin\'s handlers run in registration order at start and in reverse at stop', async () => {
  const log: string[] = [];
  const p = definePlugin({
    name: 'multi',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStart(() => void log.push('start1'));
      ctx.onStart(() => void log.push('start2'));
      ctx.onStop(() => void log.push('stop1'));
      ctx.onStop(() => void log.push('stop2'));
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  await kernel.stop();
  assert.deepEqual(log, ['start1', 'start2', 'stop2', 'stop1']);
});

test('an onStart that throws: earlier plugins stop in reverse order, start rejects naming the plugin and cause, state failed', async () => {
  const log: string[] = [];
  const disposed: string[] = [];
  const withService = (name: string) =>
    definePlugin({
      name,
      version: '1.0.0',
      setup(ctx) {
        ctx.provide(`${name}-svc`, name, { dispose: () => void disposed.push(name) });
        ctx.onStart(() => void log.push(`start:${name}`));
        ctx.onStop(() => void log.push(`stop:${name}`));
      },
    });
  const boom = recorder('boom', log, {
    onStart: () => {
      throw new Error('port in use');
    },
  });
  const kernel = await kernelOf({ plugins: [withService('a'), withService('b'), boom, withService('never')] });
  await assert.rejects(kernel.start(), (error: KernelError) => {
    assert.equal(error.code, 'KERNEL_START_FAILED');
    assert.match(error.message, /plugin 'boom'/);
    assert.match(error.message, /port in use/);
    assert.equal((error.cause as Error).message, 'port in use');
    assert.deepEqual(error.context, { plugin: 'boom', phase: 'start' });
    return true;
  });
  assert.equal(kernel.state, 'failed');
  assert.deepEqual(log, ['setup:boom', 'start:a', 'start:b', 'stop:b', 'stop:a']);
  // The container is disposed too, newest registration first.
  assert.deepEqual(disposed, ['never', 'b', 'a']);
  assert.equal(kernel.tryResolve('a-svc'), undefined);
});

test('an onStart that misses its deadline fails the start, its signal is aborted, earlier plugins stop', async () => {
  const log: string[] = [];
  let abortedWith: unknown;
  const slow = definePlugin({
    name: 'slow',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStart((signal) => {
        signal.addEventListener('abort', () => (abortedWith = signal.reason));
        return forever();
      });
    },
  });
  const kernel = await kernelOf({ startTimeoutMs: 50, plugins: [recorder('first', log), slow] });
  const began = performance.now();
  await assert.rejects(kernel.start(), (error: KernelError) => {
    assert.equal(error.code, 'KERNEL_START_FAILED');
    assert.match(error.message, /plugin 'slow' failed to start/);
    assert.match(error.message, /within 50 ms/);
    assert.equal((error.cause as KernelError).code, 'KERNEL_PHASE_TIMEOUT');
    return true;
  });
  assert.ok(performance.now() - began < 2000);
  assert.equal(kernel.state, 'failed');
  assert.deepEqual(log, ['setup:first', 'start:first', 'stop:first']);
  assert.equal((abortedWith as KernelError).code, 'KERNEL_PHASE_TIMEOUT');
});

test('a setup that throws fails the start before any onStart runs', async () => {
  const log: string[] = [];
  const bad = definePlugin({
    name: 'bad-setup',
    version: '1.0.0',
    setup() {
      throw new TypeError('cannot read options');
    },
  });
  const kernel = await kernelOf({ plugins: [recorder('a', log), bad, recorder('b', log)] });
  await assert.rejects(kernel.start(), /plugin 'bad-setup' failed to setup: cannot read options/);
  assert.equal(kernel.state, 'failed');
  assert.deepEqual(log, ['setup:a']);
});

test('an async setup that misses the start deadline fails the start', async () => {
  const slowSetup = definePlugin({ name: 'slow-setup', version: '1.0.0', setup: () => forever() });
  const kernel = await kernelOf({ startTimeoutMs: 30, plugins: [slowSetup] });
  await assert.rejects(kernel.start(), /plugin 'slow-setup' failed to setup: setup did not finish within 30 ms/);
  assert.equal(kernel.state, 'failed');
});

test('start() twice returns the same promise; start after stop or failure rejects', async () => {
  const kernel = await kernelOf({ plugins: [] });
  const first = kernel.start();
  assert.equal(kernel.start(), first);
  await first;
  await kernel.stop();
  await assert.rejects(kernel.start(), (error: KernelError) => error.code === 'KERNEL_INVALID_STATE' && /stopped/.test(error.message));

  const failing = await kernelOf({ plugins: [recorder('x', [], { onStart: () => Promise.reject(new Error('no')) })] });
  await assert.rejects(failing.start());
  assert.equal(failing.state, 'failed');
  // A failed start stays failed: asking again gives the same rejection, nothing runs twice.
  await assert.rejects(failing.start(), /plugin 'x' failed to start: no/);
});

test('stop() is idempotent: the second call returns the same promise and handlers run once', async () => {
  let stops = 0;
  const p = definePlugin({ name: 'p', version: '1.0.0', setup: (ctx) => ctx.onStop(() => void stops++) });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  const a = kernel.stop('first');
  const b = kernel.stop('second');
  assert.equal(a, b);
  const report = await a;
  assert.equal(report.reason, 'first');
  assert.equal(await kernel.stop('third'), report);
  assert.equal(stops, 1);
});

test('stop() of a kernel that never started resolves and leaves it stopped', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('a', log)] });
  const report = await kernel.stop('never started');
  assert.deepEqual(report.errors, []);
  assert.equal(kernel.state, 'stopped');
  assert.deepEqual(log, []);
});

test('stop() of a failed kernel resolves and keeps it failed', async () => {
  const kernel = await kernelOf({ plugins: [recorder('x', [], { onStart: () => Promise.reject(new Error('no')) })] });
  await assert.rejects(kernel.start());
  const report = await kernel.stop();
  assert.deepEqual(report.errors, []);
  assert.equal(kernel.state, 'failed');
});

test('stop() during start aborts the start and rolls back what started', async () => {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const waiting = definePlugin({
    name: 'waiting',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStart(async (signal) => {
        release();
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      });
    },
  });
  const kernel = await kernelOf({ plugins: [recorder('a', log), waiting] });
  const starting = kernel.start();
  await gate;
  const stopped = kernel.stop('shutdown requested');
  await assert.rejects(starting, /plugin 'waiting' failed to start/);
  await stopped;
  assert.equal(kernel.state, 'stopped');
  assert.deepEqual(log, ['setup:a', 'start:a', 'stop:a']);
});

test('onStop errors are collected and logged without skipping the rest', async () => {
  const log: string[] = [];
  const { logger, lines } = capturingLogger();
  const kernel = await kernelOf({
    plugins: [
      recorder('a', log),
      recorder('b', log, { onStop: () => { throw new Error('b broke'); } }),
      recorder('c', log, { onStop: () => Promise.reject(new Error('c broke')) }),
    ],
  }, logger);
  await kernel.start();
  const report = await kernel.stop();
  assert.deepEqual(log.filter((l) => l.startsWith('stop:')), ['stop:c', 'stop:b', 'stop:a']);
  assert.deepEqual(report.errors.map((e) => e.message), ['c broke', 'b broke']);
  const logged = lines.filter((l) => l.level === 50 && l.msg === 'onStop handler failed');
  assert.deepEqual(logged.map((l) => [l.plugin, (l.err as { message: string }).message]), [['c', 'c broke'], ['b', 'b broke']]);
  assert.equal(kernel.state, 'stopped');
});

test('a plugin that misses its stop deadline is abandoned; the others still stop', async () => {
  const log: string[] = [];
  let signalAborted = false;
  const kernel = await kernelOf({
    shutdownTimeoutMs: 200,
    plugins: [
      recorder('a', log),
      recorder('hangs', log, {
        onStop: (signal) => {
          signal.addEventListener('abort', () => (signalAborted = true));
          return forever();
        },
      }),
      recorder('c', log),
    ],
  });
  await kernel.start();
  const began = performance.now();
  const report = await kernel.stop();
  const took = performance.now() - began;
  assert.equal(report.errors.length, 1);
  assert.equal((report.errors[0] as KernelError).code, 'KERNEL_STOP_TIMEOUT');
  // Three plugins share 200 ms; 'c' stops at once, so 'hangs' gets half of what is left.
  assert.match(report.errors[0]!.message, /plugin 'hangs' did not stop within (9\d|100) ms/);
  assert.deepEqual(log.filter((l) => l.startsWith('stop:')), ['stop:c', 'stop:hangs', 'stop:a']);
  assert.ok(signalAborted, 'the stop handler signal aborts at the deadline');
  // Its share is part of the budget, not the whole of it: the whole stop stays within the budget.
  assert.ok(took < 1000, `stop took ${took} ms`);
  assert.equal(kernel.state, 'stopped');
});

test('the kernel signal and ctx.signal abort when stopping begins', async () => {
  let ctxSignal!: AbortSignal;
  let abortedBeforeOnStop: boolean | undefined;
  const p = definePlugin({
    name: 'p',
    version: '1.0.0',
    setup(ctx) {
      ctxSignal = ctx.signal;
      ctx.onStop(() => void (abortedBeforeOnStop = ctx.signal.aborted));
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  assert.equal(ctxSignal.aborted, false);
  assert.equal(kernel.signal, ctxSignal);
  await kernel.stop();
  assert.equal(abortedBeforeOnStop, true);
});

test('onStart may only be called during setup', async () => {
  let late: (() => void) | undefined;
  const p = definePlugin({
    name: 'p',
    version: '1.0.0',
    setup(ctx) {
      late = () => ctx.onStart(() => {});
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  assert.throws(late!, (error: KernelError) => error.code === 'KERNEL_INVALID_STATE' && /plugin 'p'/.test(error.message));
  await kernel.stop();
});

test('a kernel with no plugins starts and stops cleanly', async () => {
  const kernel = await kernelOf({});
  await kernel.start();
  assert.equal(kernel.state, 'running');
  assert.deepEqual(await kernel.stop(), { reason: 'requested', errors: [] });
});

test('several kernels in one process do not interfere', async () => {
  const logA: string[] = [];
  const logB: string[] = [];
  const make = (log: string[]) =>
    definePlugin({
      name: 'same-name',
      version: '1.0.0',
      setup(ctx) {
        ctx.provide('shared-name', log);
        ctx.metrics.counter({ name: 'same_counter_total', help: 'x' }).inc();
        ctx.hooks.started.tap('mark', () => void log.push('started'));
        ctx.onStop(() => void log.push('stop'));
      },
    });
  const a = await kernelOf({ plugins: [make(logA)] });
  const b = await kernelOf({ plugins: [make(logB)] });
  await Promise.all([a.start(), b.start()]);
  assert.equal(a.resolve('shared-name'), logA);
  assert.equal(b.resolve('shared-name'), logB);
  await a.stop();
  assert.equal(b.state, 'running');
  assert.equal(b.signal.aborted, false);
  assert.deepEqual(logA, ['started', 'stop']);
  assert.deepEqual(logB, ['started']);
  await b.stop();
  assert.deepEqual(logB, ['started', 'stop']);
});

test('without a logger option the kernel logs at config.log.level', async () => {
  const kernel = await createKernel({ config: { log: { level: 'silent', pretty: false } } });
  assert.equal(kernel.logger.level, 'silent');
  const pretty = await createKernel({ config: { log: { level: 'silent', pretty: true } } });
  assert.equal(pretty.logger.level, 'silent');
  await pretty.start();
  await pretty.stop();
});
