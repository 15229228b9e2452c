import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestKernel, type TestKernel } from '../../../testing/index.js';
import builtinTools from '../../../plugins/builtin-tools/index.js';
import tools from '../../../plugins/tools/index.js';
import type { ToolBus } from '../../../plugins/tools/types.js';

type Coded = Error & { code: string; context: Record<string, unknown> };

let base: string;
let root: string;
let outside: string;
let kernel: TestKernel;
let bus: ToolBus;

before(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'ms-fs-tools-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await mkdir(path.join(root, 'docs'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, 'hello.txt'), 'hello world');
  await writeFile(path.join(root, 'docs', 'a.md'), '# A');
  await writeFile(path.join(outside, 'secret.txt'), 'top secret');
  await symlink(path.join(outside, 'secret.txt'), path.join(root, 'link-out.txt'));
  await symlink(outside, path.join(root, 'dir-out'));
  await symlink(path.join(outside, 'missing.txt'), path.join(root, 'dangling.txt'));
  await symlink(path.join(root, 'hello.txt'), path.join(root, 'link-in.txt'));
  // The config file lives in `base`, so fs.root 'root' resolves to `base/root`.
  kernel = await createTestKernel({
    configDir: base,
    plugins: [
      { use: tools, options: { grants: { agent: ['fs.*'] } } },
      { use: builtinTools, options: { fs: { root: 'root', maxBytes: 64 }, http: { enabled: false } } },
    ],
  });
  bus = kernel.resolve('tools');
});

after(async () => {
  await kernel.stop();
  await rm(base, { recursive: true, force: true });
});

const refused = (code: string) => (e: Coded) => {
  assert.equal(e.code, code, e.message);
  return true;
};

test('fs.read reads a file below the root (root resolved relative to the config dir)', async () => {
  assert.deepEqual(await bus.call('agent', 'fs.read', { path: 'hello.txt' }), { path: 'hello.txt', content: 'hello world', bytes: 11 });
  assert.deepEqual(await bus.call('agent', 'fs.read', { path: 'docs/a.md', encoding: 'base64' }), {
    path: 'docs/a.md',
    content: Buffer.from('# A').toString('base64'),
    bytes: 3,
  });
  assert.deepEqual(await bus.call('agent', 'fs.read', { path: './docs/./a.md' }), { path: 'docs/a.md', content: '# A', bytes: 3 });
});

test('a symlink that stays inside the root is followed', async () => {
  assert.equal(((await bus.call('agent', 'fs.read', { path: 'link-in.txt' })) as { content: string }).content, 'hello world');
});

test('../ traversal is refused with TOOL_PATH_OUTSIDE_ROOT', async () => {
  for (const p of ['../outside/secret.txt', 'docs/../../outside/secret.txt', '..', 'docs/../hello.txt', '..\\outside\\secret.txt']) {
    await assert.rejects(bus.call('agent', 'fs.read', { path: p }), refused('TOOL_PATH_OUTSIDE_ROOT'), p);
  }
  await assert.rejects(bus.call('agent', 'fs.write', { path: '../outside/new.txt', content: 'x' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.list', { path: '../' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
});

test('absolute paths are refused, even ones inside the root', async () => {
  for (const p of [path.join(outside, 'secret.txt'), path.join(root, 'hello.txt'), '/etc/passwd', 'C:\\Windows\\win.ini']) {
    await assert.rejects(bus.call('agent', 'fs.read', { path: p }), refused('TOOL_PATH_OUTSIDE_ROOT'), p);
  }
  await assert.rejects(bus.call('agent', 'fs.write', { path: path.join(outside, 'x.txt'), content: 'x' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.list', { path: outside }), refused('TOOL_PATH_OUTSIDE_ROOT'));
});

test('symlinks that resolve outside the root are refused (file, folder, dangling, parent of a write)', async () => {
  await assert.rejects(bus.call('agent', 'fs.read', { path: 'link-out.txt' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.read', { path: 'dir-out/secret.txt' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.list', { path: 'dir-out' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'dir-out/new.txt', content: 'x' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'dir-out/sub/new.txt', content: 'x', createDirs: true }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'link-out.txt', content: 'pwned' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'dangling.txt', content: 'pwned' }), refused('TOOL_PATH_OUTSIDE_ROOT'));
  assert.equal(await readFile(path.join(outside, 'secret.txt'), 'utf8'), 'top secret');
  await assert.rejects(readFile(path.join(outside, 'missing.txt')), { code: 'ENOENT' });
});

test('fs.write writes, appends and creates folders only when asked', async () => {
  assert.deepEqual(await bus.call('agent', 'fs.write', { path: 'out/new.txt', content: 'a', createDirs: true }), { path: 'out/new.txt', bytes: 1 });
  await bus.call('agent', 'fs.write', { path: 'out/new.txt', content: 'b', append: true });
  assert.equal(await readFile(path.join(root, 'out', 'new.txt'), 'utf8'), 'ab');
  await bus.call('agent', 'fs.write', { path: 'out/new.txt', content: 'c' });
  assert.equal(await readFile(path.join(root, 'out', 'new.txt'), 'utf8'), 'c');
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'nowhere/x.txt', content: 'x' }), refused('TOOL_FAILED'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: '.', content: 'x' }), refused('TOOL_FAILED'));
});

test('fs.list lists a folder, sorted, with entry types', async () => {
  const listing = (await bus.call('agent', 'fs.list', { path: 'docs' })) as { path: string; entries: Array<{ name: string; type: string }>; truncated: boolean };
  assert.deepEqual(listing, { path: 'docs', entries: [{ name: 'a.md', type: 'file' }], truncated: false });
  const top = (await bus.call('agent', 'fs.list', {})) as { path: string; entries: Array<{ name: string; type: string }> };
  assert.equal(top.path, '.');
  const types = Object.fromEntries(top.entries.map((e) => [e.name, e.type]));
  assert.equal(types['docs'], 'directory');
  assert.equal(types['hello.txt'], 'file');
  assert.equal(types['link-out.txt'], 'symlink');
  await assert.rejects(bus.call('agent', 'fs.list', { path: 'hello.txt' }), refused('TOOL_WRONG_FILE_TYPE'));
});

test('maxBytes limits reads and writes (TOOL_TOO_LARGE); missing files are TOOL_FAILED', async () => {
  await writeFile(path.join(root, 'big.txt'), 'x'.repeat(65));
  await assert.rejects(bus.call('agent', 'fs.read', { path: 'big.txt' }), refused('TOOL_TOO_LARGE'));
  await assert.rejects(bus.call('agent', 'fs.write', { path: 'big2.txt', content: 'y'.repeat(65) }), refused('TOOL_TOO_LARGE'));
  await assert.rejects(bus.call('agent', 'fs.read', { path: 'nope.txt' }), (e: Coded & { cause?: { code?: string } }) => e.code === 'TOOL_FAILED' && e.cause?.code === 'ENOENT');
  await assert.rejects(bus.call('agent', 'fs.read', { path: 'docs' }), refused('TOOL_WRONG_FILE_TYPE'));
});

test('fs tools still need grants: an agent without them is denied', async () => {
  await assert.rejects(bus.call('stranger', 'fs.read', { path: 'hello.txt' }), refused('TOOL_ACCESS_DENIED'));
  await assert.rejects(bus.call('agent', 'fs.read', {}), refused('TOOL_INVALID_INPUT'));
});
