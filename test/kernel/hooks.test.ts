import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin, KernelError, type LoadedPlugin } from '../../index.js';
import { kernelOf, recorder } from './fixtures/util.js';

test('hooks fire in lifecycle order around the plugins', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('a', log), recorder('b', log, { provide: 'b-value' })] });
  let loaded: readonly LoadedPlugin[] = [];
  kernel.hooks.loaded.tap('test', (plugins) => {
    loaded = plugins;
    log.push('hook:loaded');
  });
  kernel.hooks.beforeStart.tapPromise('test', async () => void log.push('hook:beforeStart'));
  kernel.hooks.started.tap('test', () => void log.push('hook:started'));
  kernel.hooks.beforeStop.tap('test', (info) => void log.push(`hook:beforeStop:${info.reason}`));
  kernel.hooks.stopped.tapAsync('test', (info, done) => {
    log.push(`hook:stopped:${info.reason}:${kernel.tryResolve('b') === undefined ? 'disposed' : 'live'}`);
    done();
  });
  await kernel.start();
  await kernel.stop('bye');
  assert.deepEqual(log, [
    'setup:a', 'setup:b', 'hook:loaded', 'hook:beforeStart', 'start:a', 'start:b', 'hook:started',
    'hook:beforeStop:bye', 'stop:b', 'stop:a', 'hook:stopped:bye:disposed',
  ]);
  assert.deepEqual(loaded.map((p) => ({ name: p.name, version: p.version, optional: p.optional, source: p.source })), [
    { name: 'a', version: '1.0.0', optional: false, source: 'inline' },
    { name: 'b', version: '1.0.0', optional: false, source: 'inline' },
  ]);
});

test('plugins tap kernel hooks through ctx.hooks', async () => {
  const log: string[] = [];
  const p = definePlugin({
    name: 'tapper',
    version: '1.0.0',
    setup(ctx) {
      ctx.hooks.started.tap('tapper', () => void log.push('started'));
      ctx.hooks.beforeStop.tap('tapper', () => void log.push('beforeStop'));
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  await kernel.stop();
  assert.deepEqual(log, ['started', 'beforeStop']);
});

function assertTapFailure(error: unknown, hook: string, tap: string, cause: string): true {
  assert.ok(error instanceof KernelError, String(error));
  assert.equal(error.code, 'KERNEL_START_FAILED');
  assert.ok(error.message.includes(`hook '${hook}': tap '${tap}' failed: ${cause}`), error.message);
  const inner = error.cause as KernelError;
  assert.equal(inner.code, 'KERNEL_HOOK_TAP_FAILED');
  assert.deepEqual(inner.context, { hook, tap });
  return true;
}

test('a throwing beforeStart tap fails the start naming the tap; nothing is left half-started', async () => {
  const log: string[] = [];
  const disposed: string[] = [];
  const p = definePlugin({
    name: 'p',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('svc', 1, { dispose: () => void disposed.push('svc') });
      ctx.onStart(() => void log.push('start:p'));
      ctx.onStop(() => void log.push('stop:p'));
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  kernel.hooks.beforeStart.tapPromise('guard', async () => {
    throw new Error('not today');
  });
  await assert.rejects(kernel.start(), (e) => assertTapFailure(e, 'beforeStart', 'guard', 'not today'));
  assert.equal(kernel.state, 'failed');
  assert.deepEqual(log, []);
  assert.deepEqual(disposed, ['svc']);
});

test('a throwing started tap rolls back every started plugin in reverse order', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('a', log), recorder('b', log)] });
  kernel.hooks.started.tap('announcer', () => {
    throw new Error('cannot announce');
  });
  await assert.rejects(kernel.start(), (e) => assertTapFailure(e, 'started', 'announcer', 'cannot announce'));
  assert.equal(kernel.state, 'failed');
  assert.deepEqual(log, ['setup:a', 'setup:b', 'start:a', 'start:b', 'stop:b', 'stop:a']);
});

test('a throwing loaded tap fails the start naming the tap', async () => {
  const log: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('a', log)] });
  kernel.hooks.loaded.tap('inspector', () => {
    throw new RangeError('too many plugins');
  });
  await assert.rejects(kernel.start(), (e) => assertTapFailure(e, 'loaded', 'inspector', 'too many plugins'));
  assert.equal(kernel.state, 'failed');
  assert.deepEqual(log, ['setup:a']);
});

test('a tapAsync tap that calls back with an error is attributed to the tap', async () => {
  const kernel = await kernelOf({ plugins: [] });
  kernel.hooks.beforeStart.tapAsync('callbacker', (done) => done(new Error('callback error')));
  await assert.rejects(kernel.start(), (e) => assertTapFailure(e, 'beforeStart', 'callbacker', 'callback error'));
});

test('a throwing beforeStop tap is reported by name and everything still stops', async () => {
  const log: string[] = [];
  const disposed: string[] = [];
  const kernel = await kernelOf({ plugins: [recorder('a', log), recorder('b', log)] });
  kernel.container.provide('test', 'x', 1, () => void disposed.push('x'));
  kernel.hooks.beforeStop.tap('flaky', () => {
    throw new Error('flaky stop');
  });
  let stoppedHookRan = false;
  kernel.hooks.stopped.tap('after', () => void (stoppedHookRan = true));
  await kernel.start();
  const report = await kernel.stop();
  assert.equal(kernel.state, 'stopped');
  assert.deepEqual(log.filter((l) => l.startsWith('stop:')), ['stop:b', 'stop:a']);
  assert.deepEqual(disposed, ['x']);
  assert.ok(stoppedHookRan);
  assert.equal(report.errors.length, 1);
  assert.equal((report.errors[0] as KernelError).code, 'KERNEL_HOOK_TAP_FAILED');
  assert.match(report.errors[0]!.message, /hook 'beforeStop': tap 'flaky' failed: flaky stop/);
});

test('a throwing stopped tap is reported by name; the kernel is stopped', async () => {
  const kernel = await kernelOf({ plugins: [] });
  kernel.hooks.stopped.tapPromise('late', () => Promise.reject(new Error('late failure')));
  await kernel.start();
  const report = await kernel.stop();
  assert.equal(kernel.state, 'stopped');
  assert.deepEqual(report.errors.map((e) => e.message), ["hook 'stopped': tap 'late' failed: late failure"]);
});

test('each kernel has its own hooks', async () => {
  const a = await kernelOf({});
  const b = await kernelOf({});
  assert.notEqual(a.hooks, b.hooks);
  let calls = 0;
  a.hooks.started.tap('count', () => void calls++);
  await b.start();
  await b.stop();
  assert.equal(calls, 0);
  assert.equal(b.hooks.started.isUsed(), false);
});
