import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { definePlugin, z } from '../../index.js';
import { checkPluginConformance, ConformanceError, createTestKernel, MemoryMetricsBackend } from '../../testing/index.js';

test('a clean plugin passes and gets a report', async () => {
  const clean = definePlugin({
    name: 'clean',
    version: '1.0.0',
    options: z.object({ everyMs: z.number().default(1000) }),
    setup(ctx) {
      let timer: NodeJS.Timeout | undefined;
      ctx.onStart(() => void (timer = setInterval(() => {}, ctx.options.everyMs)));
      ctx.onStop(() => clearInterval(timer));
    },
  });
  const report = await checkPluginConformance(clean);
  assert.equal(report.plugin, 'clean');
  assert.deepEqual(report.problems, []);
  assert.ok(report.startMs >= 0 && report.stopMs >= 0);
});

test('a plugin that leaks a timer fails the check', async () => {
  let leaked: NodeJS.Timeout | undefined;
  const leaky = definePlugin({
    name: 'leaks-timer',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStart(() => void (leaked = setInterval(() => {}, 60_000)));
    },
  });
  try {
    await assert.rejects(checkPluginConformance(leaky, { settleMs: 30 }), (error: ConformanceError) => {
      assert.ok(error instanceof ConformanceError);
      assert.equal(error.code, 'PLUGIN_NOT_CONFORMANT');
      assert.deepEqual(error.problems, ['left handles behind after stop: 1 × Timeout']);
      assert.match(error.message, /plugin 'leaks-timer' is not conformant/);
      return true;
    });
  } finally {
    clearInterval(leaked);
  }
});

test('a plugin that leaks a listening socket fails the check', async () => {
  let server: net.Server | undefined;
  const leaky = definePlugin({
    name: 'leaks-socket',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStart(
        () =>
          new Promise<void>((resolve, reject) => {
            server = net.createServer();
            server.once('error', reject);
            server.listen(0, '127.0.0.1', resolve);
          }),
      );
    },
  });
  try {
    await assert.rejects(checkPluginConformance(leaky, { settleMs: 30 }), (error: ConformanceError) => {
      assert.equal(error.problems.length, 1);
      assert.match(error.problems[0]!, /left handles behind after stop: 1 × TCPServerWrap/);
      return true;
    });
  } finally {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
});

test('a plugin that closes its socket on stop passes', async () => {
  const tidy = definePlugin({
    name: 'tidy-socket',
    version: '1.0.0',
    setup(ctx) {
      const server = net.createServer();
      ctx.onStart(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
      ctx.onStop(() => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))));
    },
  });
  await checkPluginConformance(tidy);
});

test('a plugin that hangs on stop misses its deadline and fails the check', async () => {
  const hangs = definePlugin({
    name: 'hangs-on-stop',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStop(() => new Promise<void>(() => {}));
    },
  });
  const began = performance.now();
  await assert.rejects(checkPluginConformance(hangs, { shutdownTimeoutMs: 100 }), (error: ConformanceError) => {
    assert.equal(error.problems.length, 1);
    assert.match(error.problems[0]!, /^missed its stop deadline: plugin 'hangs-on-stop' did not stop within 100 ms/);
    return true;
  });
  assert.ok(performance.now() - began < 2000);
});

test('a plugin whose default options do not validate fails before it runs', async () => {
  let ran = false;
  const invalid = definePlugin({
    name: 'invalid-defaults',
    version: '1.0.0',
    options: z.object({ port: z.number(), host: z.string().default('127.0.0.1') }),
    setup() {
      ran = true;
    },
  });
  await assert.rejects(checkPluginConformance(invalid), (error: ConformanceError) => {
    assert.equal(error.problems.length, 1);
    assert.match(error.problems[0]!, /^options \(defaults\) do not validate: port: /);
    return true;
  });
  assert.equal(ran, false);
  // With options that validate, the same plugin passes.
  await checkPluginConformance(invalid, { options: { port: 1 } });
  assert.equal(ran, true);
});

test('a plugin that fails to start or whose stop throws fails the check', async () => {
  const failsStart = definePlugin({ name: 'fails-start', version: '1.0.0', setup: (ctx) => ctx.onStart(() => Promise.reject(new Error('no port'))) });
  await assert.rejects(checkPluginConformance(failsStart), (e: ConformanceError) => /^start failed: .*no port/.test(e.problems[0]!));
  const failsStop = definePlugin({ name: 'fails-stop', version: '1.0.0', setup: (ctx) => ctx.onStop(() => Promise.reject(new Error('stuck'))) });
  await assert.rejects(checkPluginConformance(failsStop), (e: ConformanceError) => e.problems[0] === 'stop failed: stuck');
});

test('exercise runs between start and stop; its failure is a problem', async () => {
  const p = definePlugin({ name: 'svc', version: '1.0.0', setup: (ctx) => void ctx.provide('svc-value', 41) });
  let seen: unknown;
  await checkPluginConformance(p, { exercise: (kernel) => void (seen = kernel.resolve('svc-value')) });
  assert.equal(seen, 41);
  await assert.rejects(
    checkPluginConformance(p, { exercise: () => Promise.reject(new Error('wrong answer')) }),
    (e: ConformanceError) => e.problems[0] === 'exercise failed: wrong answer',
  );
});

test('the plugin under test may need other plugins (`with`)', async () => {
  const base = definePlugin({ name: 'base', version: '1.0.0', setup: (ctx) => void ctx.provide('base', 'b') });
  const user = definePlugin({ name: 'user', version: '1.0.0', dependsOn: ['base'], setup: (ctx) => void ctx.resolve('base') });
  await checkPluginConformance(user, { with: [base] });
});

test('createTestKernel starts the kernel, records metrics and stops it after the test', async (t) => {
  let stopped = false;
  const p = definePlugin({
    name: 'counted',
    version: '1.0.0',
    setup(ctx) {
      const c = ctx.metrics.counter({ name: 'things_total', help: 'x' });
      ctx.onStart(() => c.inc(3));
      ctx.onStop(() => void (stopped = true));
    },
  });
  let kernelRef: { state: string } | undefined;
  await t.test('inner test that owns the kernel', async (inner) => {
    const kernel = await createTestKernel({ plugins: [p], test: inner });
    kernelRef = kernel;
    assert.equal(kernel.state, 'running');
    assert.ok(kernel.recordedMetrics instanceof MemoryMetricsBackend);
    assert.equal(kernel.recordedMetrics.value('things_total'), 3);
  });
  assert.equal(stopped, true);
  assert.equal(kernelRef!.state, 'stopped');
});

test('createTestKernel: start: false, config overrides, and await using', async () => {
  const p = definePlugin({ name: 'p', version: '1.0.0', setup() {} });
  const kernel = await createTestKernel({ plugins: [p], start: false, config: { name: 'custom', shutdownTimeoutMs: 123 } });
  assert.equal(kernel.state, 'created');
  assert.equal(kernel.config.name, 'custom');
  assert.equal(kernel.config.shutdownTimeoutMs, 123);
  await kernel.start();
  await kernel[Symbol.asyncDispose]();
  assert.equal(kernel.state, 'stopped');
});

test('a plugin that leaves a connection open fails the check', async () => {
  const server = net.createServer((socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let client: net.Socket | undefined;
  const leaky = definePlugin({
    name: 'leaks-connection',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStart(() => new Promise<void>((resolve) => (client = net.connect(port, '127.0.0.1', resolve))));
    },
  });
  try {
    await assert.rejects(checkPluginConformance(leaky, { settleMs: 30 }), (error: ConformanceError) => {
      // Both ends of the connection live in this process: the plugin's client and the accepted socket.
      assert.deepEqual(error.problems, ['left handles behind after stop: 2 × TCPSocketWrap']);
      return true;
    });
  } finally {
    client?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('a plugin whose tracked work rejects fails the check', async () => {
  const p = definePlugin({
    name: 'careless',
    version: '1.0.0',
    setup(ctx) {
      ctx.onStart(() => void ctx.track(Promise.reject(new Error('background job broke')), 'job'));
    },
  });
  await assert.rejects(checkPluginConformance(p), (e: ConformanceError) => {
    assert.equal(e.code, 'PLUGIN_NOT_CONFORMANT');
    assert.ok(e.problems.some((problem) => /1 piece\(s\) of tracked work \(ctx\.track\) rejected/.test(problem)), e.problems.join('\n'));
    return true;
  });
});

test('createTestKernel(t, options) stops the kernel when the test ends', async (t) => {
  let kernelRef: { state: string } | undefined;
  await t.test('inner', async (inner) => {
    const kernel = await createTestKernel(inner, { plugins: [definePlugin({ name: 'p', version: '1.0.0', setup() {} })] });
    kernelRef = kernel;
    assert.equal(kernel.state, 'running');
  });
  assert.equal(kernelRef?.state, 'stopped');
});

test('await using stops a test kernel at the end of its block; without a context nothing else stops it', async () => {
  let outside: { state: string; stop(): Promise<unknown> } | undefined;
  {
    await using kernel = await createTestKernel({ plugins: [definePlugin({ name: 'p', version: '1.0.0', setup() {} })] });
    outside = kernel;
    assert.equal(kernel.state, 'running');
  }
  assert.equal(outside.state, 'stopped');
  const manual = await createTestKernel({ plugins: [definePlugin({ name: 'q', version: '1.0.0', setup() {} })] });
  assert.equal(manual.state, 'running', 'not stopped behind the caller’s back');
  await manual.stop();
  await assert.rejects(createTestKernel({} as never), TypeError);
});
