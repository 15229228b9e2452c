import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import builtinTools from '../../../plugins/builtin-tools/index.js';
import tools from '../../../plugins/tools/index.js';

test('echo returns its input; clock.now gives ISO time and epoch ms', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2030, 0, 2, 3, 4, 5) });
  const kernel = await createTestKernel({ test: t, plugins: [{ use: tools, options: { grants: { a: ['echo', 'clock.*'] } } }, builtinTools] });
  const bus = kernel.resolve('tools');
  assert.deepEqual(await bus.call('a', 'echo', { message: 'hi' }), { message: 'hi' });
  await assert.rejects(bus.call('a', 'echo', {}), { code: 'TOOL_INVALID_INPUT' });
  assert.deepEqual(await bus.call('a', 'clock.now', {}), { iso: '2030-01-02T03:04:05.000Z', epochMs: Date.UTC(2030, 0, 2, 3, 4, 5) });
});

test('options choose which built-ins are registered; {} registers all of them', async (t) => {
  const all = await createTestKernel({ test: t, plugins: [tools, builtinTools] });
  assert.deepEqual(all.resolve('tools').stats().map((s) => s.tool).sort(), ['clock.now', 'echo', 'fs.list', 'fs.read', 'fs.write', 'http.fetch']);
  const some = await createTestKernel({ test: t, plugins: [tools, { use: builtinTools, options: { echo: false, fs: { enabled: false }, http: { enabled: false } } }] });
  assert.deepEqual(some.resolve('tools').stats().map((s) => s.tool), ['clock.now']);
  const parsed = builtinTools.options!.parse({});
  assert.deepEqual(parsed, {
    echo: true,
    clock: true,
    fs: { enabled: true, root: '.', maxBytes: 1_048_576 },
    http: { enabled: true, allowHosts: [], timeoutMs: 10_000, maxBytes: 1_048_576 },
  });
});

test('the built-ins are unregistered when the kernel stops', async () => {
  const kernel = await createTestKernel({ plugins: [tools, builtinTools] });
  const bus = kernel.resolve('tools');
  assert.equal(bus.has('echo'), true);
  await kernel.stop();
  assert.equal(bus.has('echo'), false);
  assert.equal(bus.has('fs.read'), false);
});

test('builtin-tools depends on tools', async () => {
  await assert.rejects(createTestKernel({ plugins: [builtinTools] }), /tools/);
});

test('builtin-tools passes the conformance check, with an http.fetch made during the run', async () => {
  await checkPluginConformance(builtinTools, { with: ['tools'] });
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await checkPluginConformance(builtinTools, {
      with: [{ use: 'tools', options: { grants: { a: ['*'] } } }],
      options: { http: { allowHosts: [host] } },
      exercise: async (kernel) => {
        const res = (await kernel.resolve('tools').call('a', 'http.fetch', { url: `http://${host}/` })) as { body: string };
        assert.equal(res.body, 'ok');
      },
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
