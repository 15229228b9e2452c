/**
 * `mister-smith init`: a generated plugin package passes its own test (and a strict typecheck) out
 * of the box, and a generated system checks and runs. `mister-smith` is linked into the generated
 * folders from this checkout, as `npm install` would put it there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cli, root } from './fixtures/cli.js';

const run = promisify(execFile);

/** node_modules/mister-smith (this checkout's sources), tsx, typescript and @types/node in `dir`. */
async function linkDependencies(dir: string): Promise<void> {
  const shim = path.join(dir, 'node_modules', 'mister-smith');
  await mkdir(shim, { recursive: true });
  for (const entry of ['index.ts', 'sdk', 'testing', 'kernel', 'plugins']) await symlink(path.join(root, entry), path.join(shim, entry));
  // The published package maps these to dist/; here they map to the TypeScript sources.
  await writeFile(
    path.join(shim, 'package.json'),
    JSON.stringify({ name: 'mister-smith', version: '1.0.0', type: 'module', exports: { '.': './index.ts', './sdk': './sdk/index.ts', './testing': './testing/index.ts', './plugins/*': './plugins/*/index.ts' } }),
  );
  await mkdir(path.join(dir, 'node_modules', '@types'), { recursive: true });
  for (const dep of ['tsx', 'typescript', '@types/node']) await symlink(realpathSync(path.join(root, 'node_modules', dep)), path.join(dir, 'node_modules', dep));
}

async function tempDir(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mister-smith-init-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('mister-smith init', { timeout: 240_000 }, () => {
  test('init plugin creates a package that passes its own test and a strict typecheck', async (t) => {
    const work = await tempDir(t);
    const created = await cli(['init', 'plugin', 'ms-plugin-counter'], {}, { cwd: work }).exited;
    assert.equal(created.code, 0, created.stderr);
    const dir = path.join(work, 'ms-plugin-counter');
    assert.deepEqual((await readdir(dir)).sort(), ['.gitignore', 'README.md', 'package.json', 'src', 'test', 'tsconfig.json']);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown>; scripts: Record<string, string> };
    assert.equal(pkg.name, 'ms-plugin-counter');
    assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    assert.match(readFileSync(path.join(dir, 'src', 'index.ts'), 'utf8'), /name: 'counter'/);
    assert.match(readFileSync(path.join(dir, 'README.md'), 'utf8'), /\| `greeting` \| string \| `"hello"` \|/);

    await linkDependencies(dir);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // Without the parent runner's NODE_TEST_CONTEXT, the package's own `node --test` reports as it would for its author.
    const { NODE_TEST_CONTEXT: _parent, ...env } = process.env;
    const tested = await run(npm, ['test'], { cwd: dir, timeout: 120_000, env: { ...env, NODE_OPTIONS: '' } });
    assert.match(tested.stdout, /# pass 3\n# fail 0/);
    // Strict TypeScript with no extra imports: the generated source compiles as written.
    await run(process.execPath, [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit'], { cwd: dir, timeout: 120_000 });
  });

  test('init plugin refuses to overwrite, --force does; a bad name or missing one is bad usage', async (t) => {
    const work = await tempDir(t);
    assert.equal((await cli(['init', 'plugin', '@acme/greeter', '--dir', 'g'], {}, { cwd: work }).exited).code, 0);
    assert.match(readFileSync(path.join(work, 'g', 'src', 'index.ts'), 'utf8'), /name: 'greeter'/);
    const again = await cli(['init', 'plugin', '@acme/greeter', '--dir', 'g'], {}, { cwd: work }).exited;
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exist.*nothing written \(--force overwrites\)/);
    assert.equal((await cli(['init', 'plugin', '@acme/greeter', '--dir', 'g', '--force'], {}, { cwd: work }).exited).code, 0);
    for (const args of [['init', 'plugin', 'Bad Name'], ['init', 'plugin'], ['init'], ['init', 'widget']]) {
      const bad = await cli(args, {}, { cwd: work }).exited;
      assert.equal(bad.code, 2, args.join(' '));
    }
  });

  test('init system writes a config with a sample plugin that checks, runs and writes its event log', async (t) => {
    const dir = await tempDir(t);
    const created = await cli(['init', 'system'], {}, { cwd: dir }).exited;
    assert.equal(created.code, 0, created.stderr);
    for (const f of ['package.json', 'mister-smith.config.json', 'plugins/hello.plugin.ts', 'mister-smith.schema.json', 'README.md']) assert.ok(existsSync(path.join(dir, f)), f);
    await linkDependencies(dir);
    const checked = await cli(['check'], {}, { cwd: dir }).exited;
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /\d\. hello@0\.1\.0 \(depends on events\)/);
    const started = await cli(['start', '--once'], {}, { cwd: dir }).exited;
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /hello, world/);
    assert.ok(existsSync(path.join(dir, '.mister-smith', 'events')), 'the file event log is where the config says');
  });
});
