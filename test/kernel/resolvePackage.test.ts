/**
 * npm plugin packages resolve as `import` resolves them from the config's folder: exports maps,
 * conditions and `"./*"` subpath patterns — checked against Node's own resolver.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PackageResolutionError, resolveFromNodeModules } from '../../kernel/resolvePackage.js';
import { ConfigError, createKernel } from '../../index.js';
import { silent, tempDir } from './fixtures/util.js';

const run = promisify(execFile);

const pluginModule = (name: string): string =>
  `export default Object.freeze({ [Symbol.for('mister-smith.plugin')]: true, name: '${name}', version: '1.0.0', setup(ctx) { ctx.provide('${name}', '${name} from npm'); } });\n`;

/** A package `ms-star` exporting `./plugins/*` (ESM only), a more specific pattern, and a hidden folder. */
async function starPackage(dir: string): Promise<string> {
  const pkg = path.join(dir, 'node_modules', 'ms-star');
  await mkdir(path.join(pkg, 'dist', 'plugins', 'special'), { recursive: true });
  await writeFile(
    path.join(pkg, 'package.json'),
    JSON.stringify({
      name: 'ms-star',
      type: 'module',
      exports: {
        '.': { import: './dist/index.js' },
        './plugins/*': { require: './cjs/*.cjs', import: './dist/plugins/*.js' },
        './plugins/special/*': [{ node: './dist/plugins/special/*.js' }, './never.js'],
        './plugins/internal/*': null,
        './package.json': './package.json',
      },
    }),
  );
  await writeFile(path.join(pkg, 'dist', 'index.js'), pluginModule('star-main'));
  await writeFile(path.join(pkg, 'dist', 'plugins', 'counter.js'), pluginModule('counter'));
  await writeFile(path.join(pkg, 'dist', 'plugins', 'special', 'gauge.js'), pluginModule('gauge'));
  return pkg;
}

test('a "./*" subpath pattern export loads a plugin by package subpath', async (t) => {
  const dir = await tempDir(t);
  await starPackage(dir);
  const kernel = await createKernel({ config: { plugins: ['ms-star', 'ms-star/plugins/counter', 'ms-star/plugins/special/gauge'] }, configDir: dir, logger: silent() });
  assert.deepEqual(kernel.plugins.map((p) => [p.name, p.source]), [['star-main', 'ms-star'], ['counter', 'ms-star/plugins/counter'], ['gauge', 'ms-star/plugins/special/gauge']]);
  await kernel.start();
  assert.equal(kernel.resolve('counter'), 'counter from npm');
  await kernel.stop();
});

test('the resolution follows the spec: conditions in order, the most specific pattern, null hides', async (t) => {
  const dir = await tempDir(t);
  const pkg = await starPackage(dir);
  assert.equal(resolveFromNodeModules('ms-star/plugins/counter', dir), path.join(pkg, 'dist/plugins/counter.js'));
  assert.equal(resolveFromNodeModules('ms-star/plugins/special/gauge', dir), path.join(pkg, 'dist/plugins/special/gauge.js'));
  assert.equal(resolveFromNodeModules('ms-star/package.json', dir), path.join(pkg, 'package.json'));
  // From a folder further down, node_modules is found by walking up.
  const deeper = path.join(dir, 'configs', 'prod');
  await mkdir(deeper, { recursive: true });
  assert.equal(resolveFromNodeModules('ms-star', deeper), path.join(pkg, 'dist/index.js'));
  for (const hidden of ['ms-star/plugins/internal/secret', 'ms-star/other', 'ms-star/plugins/../package.json']) {
    assert.throws(() => resolveFromNodeModules(hidden, dir), (e: unknown) => e instanceof PackageResolutionError && !e.notFound && /is not defined by "exports"/.test(e.message), hidden);
  }
  assert.throws(() => resolveFromNodeModules('ms-absent', dir), (e: unknown) => e instanceof PackageResolutionError && e.notFound);
});

test('a subpath the package does not export is a config error saying so, not "unknown plugin"', async (t) => {
  const dir = await tempDir(t);
  await starPackage(dir);
  await assert.rejects(createKernel({ config: { plugins: ['ms-star/plugins/internal/secret'] }, configDir: dir, logger: silent() }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.problems[0]!, /^plugins\[0\]\.use: cannot import plugin 'ms-star\/plugins\/internal\/secret': package subpath '\.\/plugins\/internal\/secret' is not defined by "exports"/);
    return true;
  });
});

test("the fallback resolves exactly as Node's own resolver (import.meta.resolve with a parent) does", async (t) => {
  const dir = await tempDir(t);
  await starPackage(dir);
  await mkdir(path.join(dir, 'node_modules', 'ms-main'), { recursive: true });
  await writeFile(path.join(dir, 'node_modules', 'ms-main', 'package.json'), JSON.stringify({ name: 'ms-main', main: 'lib.js' }));
  await writeFile(path.join(dir, 'node_modules', 'ms-main', 'lib.js'), pluginModule('main'));
  const specifiers = ['ms-star', 'ms-star/plugins/counter', 'ms-star/plugins/special/gauge', 'ms-star/package.json', 'ms-main'];
  const ours = specifiers.map((s) => resolveFromNodeModules(s, dir));
  // In a Node that honours the parent argument, resolvePackage uses Node's resolver itself.
  const resolver = fileURLToPath(new URL('../../kernel/resolvePackage.ts', import.meta.url));
  const script = `import { resolvePackage } from ${JSON.stringify(resolver)};
    const out = ${JSON.stringify(specifiers)}.map((s) => resolvePackage(s, ${JSON.stringify(dir)}));
    const native = import.meta.resolve('./p.js', 'file:///d/x.js') === 'file:///d/p.js';
    console.log(JSON.stringify({ native, out }));`;
  const { stdout } = await run(process.execPath, ['--experimental-import-meta-resolve', '--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script], {
    timeout: 60_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const answer = JSON.parse(stdout) as { native: boolean; out: string[] };
  assert.equal(answer.native, true, 'the child Node resolves from a parent, so resolvePackage used Node itself');
  assert.deepEqual(answer.out, ours);
});
