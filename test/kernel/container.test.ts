import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin, KernelError, type Disposer, type PluginContext } from '../../index.js';
import { kernelOf } from './fixtures/util.js';

/** A plugin that hands its context out, for driving the container from the test. */
function grab(name: string, into: Map<string, PluginContext>) {
  return definePlugin({ name, version: '1.0.0', setup: (ctx) => void into.set(name, ctx as PluginContext) });
}

test('services are disposed in reverse registration order across plugins', async () => {
  const disposed: string[] = [];
  const provider = (name: string, services: string[]) =>
    definePlugin({
      name,
      version: '1.0.0',
      setup(ctx) {
        for (const s of services) ctx.provide(s, s, { dispose: async (v) => void disposed.push(v) });
      },
    });
  const kernel = await kernelOf({ plugins: [provider('a', ['a1', 'a2']), provider('b', ['b1']), provider('c', ['c1', 'c2'])] });
  await kernel.start();
  await kernel.stop();
  assert.deepEqual(disposed, ['c2', 'c1', 'b1', 'a2', 'a1']);
});

test('disposal runs after every onStop handler', async () => {
  const log: string[] = [];
  const p = definePlugin({
    name: 'p',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('svc', 1, { dispose: () => void log.push('dispose') });
      ctx.onStop(() => void log.push('stop'));
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  await kernel.stop();
  assert.deepEqual(log, ['stop', 'dispose']);
});

test('provide returns a disposer that unregisters and disposes once', async () => {
  const ctxs = new Map<string, PluginContext>();
  const kernel = await kernelOf({ plugins: [grab('p', ctxs)] });
  await kernel.start();
  const ctx = ctxs.get('p')!;
  let disposals = 0;
  const dispose: Disposer = ctx.provide('temp', { v: 1 }, { dispose: () => void disposals++ });
  assert.deepEqual(ctx.resolve('temp'), { v: 1 });
  await dispose();
  await dispose();
  assert.equal(disposals, 1);
  assert.equal(ctx.tryResolve('temp'), undefined);
  assert.throws(() => kernel.resolve('temp'), /no loaded plugin provides/);
  // The name is free again.
  ctx.provide('temp', { v: 2 });
  assert.deepEqual(kernel.resolve('temp'), { v: 2 });
  await kernel.stop();
  assert.equal(disposals, 1, 'a disposed service is not disposed again at stop');
});

test('a second provider for a name is refused, naming both plugins', async () => {
  const first = definePlugin({ name: 'first', version: '1.0.0', setup: (ctx) => void ctx.provide('clock', 1) });
  const second = definePlugin({ name: 'second', version: '1.0.0', setup: (ctx) => void ctx.provide('clock', 2) });
  const kernel = await kernelOf({ plugins: [first, second] });
  await assert.rejects(kernel.start(), (error: KernelError) => {
    assert.match(error.message, /plugin 'second' failed to setup/);
    const cause = error.cause as KernelError;
    assert.equal(cause.code, 'KERNEL_SERVICE_CONFLICT');
    assert.match(cause.message, /service 'clock' is already provided by 'first'; 'second' cannot provide it too/);
    return true;
  });
});

test('resolving a missing service names the requester and what is provided', async () => {
  const ctxs = new Map<string, PluginContext>();
  const provider = definePlugin({
    name: 'provider',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('alpha', 1);
      ctx.provide('beta', 2);
    },
  });
  const kernel = await kernelOf({ plugins: [provider, grab('asker', ctxs)] });
  await kernel.start();
  assert.throws(
    () => ctxs.get('asker')!.resolve('gamma'),
    (error: KernelError) =>
      error.code === 'KERNEL_SERVICE_NOT_FOUND' &&
      error.message === "'asker' asked for service 'gamma', which no loaded plugin provides (provided: alpha, beta)" &&
      (error.context as { requester: string }).requester === 'asker',
  );
  assert.throws(() => kernel.resolve('gamma'), /'kernel' asked for service 'gamma'/);
  assert.equal(ctxs.get('asker')!.tryResolve('gamma'), undefined);
  assert.equal(kernel.tryResolve('alpha'), 1);
  await kernel.stop();
  const empty = await kernelOf({});
  assert.throws(() => empty.resolve('x'), /\(provided: none\)/);
});

test('a failing disposer is collected; the others still run', async () => {
  const disposed: string[] = [];
  const p = definePlugin({
    name: 'p',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('one', 1, { dispose: () => void disposed.push('one') });
      ctx.provide('two', 2, {
        dispose: () => {
          throw new Error('two will not go');
        },
      });
      ctx.provide('three', 3, { dispose: () => void disposed.push('three') });
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  const report = await kernel.stop();
  assert.deepEqual(disposed, ['three', 'one']);
  assert.deepEqual(report.errors.map((e) => e.message), ['two will not go']);
});

test('the container lists services with their owners, in registration order', async () => {
  const p = definePlugin({
    name: 'p',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('x', 1);
      ctx.provide('y', 2);
    },
  });
  const kernel = await kernelOf({ plugins: [p] });
  await kernel.start();
  assert.deepEqual(kernel.container.list(), [
    { name: 'x', owner: 'p' },
    { name: 'y', owner: 'p' },
  ]);
  assert.equal(kernel.container.awilix.resolve('x'), 1);
  await kernel.stop();
});

test('each kernel has its own container', async () => {
  const p = definePlugin({ name: 'p', version: '1.0.0', setup: (ctx) => void ctx.provide('only-here', 1) });
  const a = await kernelOf({ plugins: [p] });
  const b = await kernelOf({});
  await a.start();
  await b.start();
  assert.equal(a.resolve('only-here'), 1);
  assert.equal(b.tryResolve('only-here'), undefined);
  await Promise.all([a.stop(), b.stop()]);
});
