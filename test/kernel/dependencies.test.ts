/** A forgotten `dependsOn`: what start says at run time and what `check`'s dry run of setups finds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupProblems } from '../../kernel/setupProblems.js';
import { createKernel, definePlugin, KernelError, type Plugin } from '../../index.js';
import { silent } from './fixtures/util.js';

const resolver = (name: string, service: string, extra: { dependsOn?: string[] } = {}): Plugin =>
  definePlugin({
    name,
    version: '1.0.0',
    ...extra,
    setup(ctx) {
      ctx.resolve(service);
      ctx.provide(`${name}-svc`, {});
    },
  });
const provider = (name: string, service = name): Plugin =>
  definePlugin({ name, version: '1.0.0', setup: (ctx) => void ctx.provide(service, {}) });

test('resolving in setup a service of a loaded plugin that starts later names the plugin and the fix', async () => {
  // `tools` is loaded, but `a` does not depend on it, so config order puts `a` first.
  const kernel = await createKernel({ config: { plugins: [resolver('a', 'tools'), 'tools'] }, logger: silent() });
  await assert.rejects(kernel.start(), (error: unknown) => {
    assert.ok(error instanceof KernelError && error.code === 'KERNEL_START_FAILED');
    const cause = error.cause as KernelError;
    assert.equal(cause.code, 'KERNEL_UNDECLARED_DEPENDENCY');
    assert.match(cause.message, /plugin 'a' asked for service 'tools', which plugin 'tools' provides, but 'tools' starts after 'a': add 'tools' to the dependsOn of 'a'/);
    assert.doesNotMatch(cause.message, /which no loaded plugin provides/);
    return true;
  });
});

test('with dependsOn declared the same config starts', async () => {
  const kernel = await createKernel({ config: { plugins: [resolver('a', 'tools', { dependsOn: ['tools'] }), 'tools'] }, logger: silent() });
  await kernel.start();
  await kernel.stop();
});

test('a service named unlike its plugin: the error lists the plugins not set up yet', async () => {
  const kernel = await createKernel({ config: { plugins: [resolver('a', 'clock'), provider('time-source', 'clock')] }, logger: silent() });
  await assert.rejects(kernel.start(), (error: unknown) => {
    const cause = (error as KernelError).cause as KernelError;
    assert.equal(cause.code, 'KERNEL_SERVICE_NOT_FOUND');
    assert.match(cause.message, /'a' asked for service 'clock', which no plugin set up so far provides .*not set up yet: time-source \(if one of them provides it, add it to the dependsOn of 'a'/);
    return true;
  });
});

test('a dry run of the setups finds the provider whatever its name, and the kernel is left stopped', async () => {
  const disposed: string[] = [];
  const tracked = definePlugin({
    name: 'tracked',
    version: '1.0.0',
    setup: (ctx) => void ctx.provide('tracked', {}, { dispose: () => void disposed.push('tracked') }),
  });
  const kernel = await createKernel({ config: { plugins: [tracked, resolver('a', 'clock'), provider('time-source', 'clock')] }, logger: silent() });
  const { outcomes, providers } = await kernel.dryRunSetups();
  assert.deepEqual(outcomes.map((o) => [o.plugin, o.error?.constructor.name]), [['tracked', undefined], ['a', 'KernelError'], ['time-source', undefined]]);
  assert.deepEqual(setupProblems(outcomes, providers), [
    "plugin 'a' resolves service 'clock' in setup, which plugin 'time-source' provides, but 'time-source' starts after 'a': add 'time-source' to the dependsOn of 'a'",
  ]);
  assert.deepEqual(disposed, ['tracked']);
  assert.equal(kernel.state, 'stopped');
  await assert.rejects(kernel.start(), /cannot start a kernel in state 'stopped'/);
});

test('a dry run reports one plugin loaded twice under two names providing one service, and setups that throw', async () => {
  const twice = provider('store', 'store');
  const broken = definePlugin({
    name: 'broken',
    version: '1.0.0',
    setup() {
      throw new Error('no API key');
    },
  });
  const kernel = await createKernel({ config: { plugins: [twice, { use: twice, name: 'store-2' }, broken, resolver('needs-broken', 'broken')] }, logger: silent() });
  const { outcomes, providers } = await kernel.dryRunSetups();
  assert.deepEqual(setupProblems(outcomes, providers), [
    "plugin 'store-2' provides service 'store', which plugin 'store' already provides; a plugin loaded twice under two `name`s must provide its services under ctx.name (or load it once)",
    "plugin 'broken' fails in setup: no API key",
    "plugin 'needs-broken' resolves service 'broken' in setup, which plugin 'broken' would provide, but its setup failed (see its problem)",
  ]);
});

test('a service nobody provides is said to be provided by no plugin of the config', async () => {
  const kernel = await createKernel({ config: { plugins: [resolver('a', 'ghost')] }, logger: silent() });
  const { outcomes, providers } = await kernel.dryRunSetups();
  assert.deepEqual(setupProblems(outcomes, providers), ["plugin 'a' resolves service 'ghost' in setup, which no plugin of this config provides"]);
});
