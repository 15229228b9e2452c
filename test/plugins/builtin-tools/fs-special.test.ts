/**
 * fs tools and files that are not regular files: a FIFO, a Unix socket. Opening a FIFO for reading
 * blocks until a writer comes; done on libuv's threadpool, four such opens would wedge every later
 * file operation and `kernel.stop`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createTestKernel } from '../../../testing/index.js';
import builtinTools from '../../../plugins/builtin-tools/index.js';
import tools from '../../../plugins/tools/index.js';

type Coded = Error & { code: string; context: Record<string, unknown> };

test('fs.read and fs.write refuse a FIFO and a socket at once (TOOL_WRONG_FILE_TYPE); other I/O and stop are not blocked', { timeout: 60_000 }, async (t) => {
  const base = await mkdtemp(path.join(tmpdir(), 'ms-fs-special-'));
  const root = path.join(base, 'root');
  await mkdir(root);
  await writeFile(path.join(root, 'plain.txt'), 'plain');
  const fifo = path.join(root, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const server = net.createServer();
  const socketPath = path.join(root, 'sock');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(async () => {
    // If an open() is stuck on the FIFO (the defect), a writer releases it so the process can exit.
    try {
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
    } catch {
      // already gone
    }
    await new Promise((r) => server.close(r));
    await rm(base, { recursive: true, force: true });
  });
  const kernel = await createTestKernel({
    configDir: base,
    plugins: [
      { use: tools, options: { grants: { agent: ['fs.*'] } } },
      { use: builtinTools, options: { fs: { root: 'root' }, http: { enabled: false } } },
    ],
  });
  const bus = kernel.resolve('tools');
  const wrongType = (type: string) => (e: Coded) => {
    assert.equal(e.code, 'TOOL_WRONG_FILE_TYPE', e.message);
    assert.equal(e.context.type, type);
    return true;
  };
  // More refused reads than libuv has threads (4 by default), each with a deadline.
  const reads = Array.from({ length: 8 }, () => bus.call('agent', 'fs.read', { path: 'pipe' }, { timeoutMs: 10_000 }));
  for (const r of await Promise.allSettled(reads)) {
    assert.equal(r.status, 'rejected');
    wrongType('fifo')((r as PromiseRejectedResult).reason as Coded);
  }
  await assert.rejects(bus.call('agent', 'fs.read', { path: 'sock' }, { timeoutMs: 10_000 }), wrongType('socket'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'pipe', content: 'x' }, { timeoutMs: 10_000 }), wrongType('fifo'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'sock', content: 'x' }, { timeoutMs: 10_000 }), wrongType('socket'));
  await assert.rejects(bus.call('agent', 'fs.list', { path: 'pipe' }, { timeoutMs: 10_000 }), (e: Coded) => e.code === 'TOOL_WRONG_FILE_TYPE' && e.context.expected === 'directory');
  await assert.rejects(bus.call('agent', 'fs.read', { path: '.' }, { timeoutMs: 10_000 }), wrongType('directory'));
  // The threadpool is free: unrelated file I/O and the fs tools still work, and the kernel stops.
  assert.equal(await readFile(path.join(root, 'plain.txt'), 'utf8'), 'plain');
  assert.equal(((await bus.call('agent', 'fs.read', { path: 'plain.txt' }, { timeoutMs: 10_000 })) as { content: string }).content, 'plain');
  await kernel.stop();
});

test('a character device inside the root is refused too (needs mknod: skipped without the privilege)', { timeout: 60_000 }, async (t) => {
  const base = await mkdtemp(path.join(tmpdir(), 'ms-fs-device-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  await mkdir(root);
  try {
    execFileSync('mknod', [path.join(root, 'zero'), 'c', '1', '5'], { stdio: 'ignore' });
  } catch {
    t.skip('mknod is not permitted here');
    return;
  }
  const kernel = await createTestKernel({
    test: t,
    configDir: base,
    plugins: [
      { use: tools, options: { grants: { agent: ['fs.*'] } } },
      { use: builtinTools, options: { fs: { root: 'root' }, http: { enabled: false } } },
    ],
  });
  const bus = kernel.resolve('tools');
  // /dev/zero never ends: a read that did not refuse it would run to maxBytes and fail differently.
  await assert.rejects(bus.call('agent', 'fs.read', { path: 'zero' }, { timeoutMs: 10_000 }), (e: Coded) => e.code === 'TOOL_WRONG_FILE_TYPE' && e.context.type === 'character-device');
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'zero', content: 'x' }, { timeoutMs: 10_000 }), (e: Coded) => e.code === 'TOOL_WRONG_FILE_TYPE' && e.context.type === 'character-device');
});
