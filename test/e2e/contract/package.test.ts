/**
 * The package as a consumer installs it: package-name imports and the CLI, against a private build.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { root, designDir, designConfig, run } from './helpers.js';

describe('package exports and CLI', { timeout: 290_000 }, () => {
  // A private build of the package, installed where a consumer's script finds it by name: the
  // repo's own dist/ is left alone (other suites build and pack it concurrently). Under the repo's
  // node_modules so that the package's dependencies resolve, and git never sees it.
  const scratch = path.join(root, 'node_modules', `.design-contract-${process.pid}`);
  before(async () => {
    const pkg = path.join(scratch, 'node_modules', 'mister-smith');
    const { mkdir, copyFile } = await import('node:fs/promises');
    await mkdir(pkg, { recursive: true });
    await copyFile(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist'), '--sourceMap', 'false'], {
      cwd: root,
      timeout: 270_000,
    });
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function node(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const file = path.join(scratch, `probe-${Math.random().toString(36).slice(2)}.mjs`);
    await writeFile(file, script);
    try {
      const { stdout, stderr } = await run(process.execPath, [file], { cwd: scratch, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  test("plain Node imports 'mister-smith', 'mister-smith/sdk', 'mister-smith/testing', 'mister-smith/plugins/<name>'", async () => {
    const plugins = ['supervision', 'actors', 'routing', 'tools', 'builtin-tools', 'events', 'http', 'health', 'metrics-prometheus', 'resilience', 'tasks', 'agents', 'provider-scripted', 'provider-openai', 'provider-claude-cli'];
    const { code, stdout, stderr } = await node(`
      import { createKernel, loadConfig, definePlugin as d1 } from 'mister-smith';
      import { definePlugin, z, classify, MisterSmithError } from 'mister-smith/sdk';
      import { createTestKernel, checkPluginConformance } from 'mister-smith/testing';
      const names = ${JSON.stringify(plugins)};
      const loaded = {};
      for (const name of names) loaded[name] = (await import('mister-smith/plugins/' + name)).default.name;
      const greeter = definePlugin({
        name: 'greeter', version: '1.0.0',
        dependsOn: ['actors'], optionalDependsOn: ['health'],
        options: z.object({ greeting: z.string().default('hello') }),
        setup(ctx) {
          const actors = ctx.resolve('actors');
          ctx.provide('greeter', actors.spawn({ receive: (n) => ctx.options.greeting + ', ' + n }));
          ctx.onStart(async (signal) => {});
          ctx.onStop(async (signal) => {});
          ctx.tryResolve('health')?.register('greeter', () => ({ status: 'healthy' }));
        },
      });
      await checkPluginConformance(greeter, { with: ['supervision', 'actors'] });
      const kernel = await createTestKernel({ plugins: ['supervision', 'actors', greeter], config: {} });
      const reply = await kernel.resolve('greeter').ask('Ada');
      await kernel.stop('done');
      const k2 = await createKernel({ config: { log: { level: 'silent' }, plugins: ['supervision', 'actors', greeter] } });
      await k2.start();
      const state = k2.state;
      await k2.stop('reason');
      console.log(JSON.stringify({ loaded, reply, state, stopped: k2.state, same: d1 === definePlugin,
        loadConfig: typeof loadConfig, classified: classify(Object.assign(new Error('x'), { code: 'ECONNRESET' })).kind,
        err: typeof MisterSmithError }));
    `);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{"loaded"'))!) as Record<string, unknown>;
    assert.deepEqual(out.loaded, Object.fromEntries(plugins.map((p) => [p, p])));
    assert.equal(out.reply, 'hello, Ada');
    assert.equal(out.state, 'running');
    assert.equal(out.stopped, 'stopped');
    assert.equal(out.same, true);
    assert.equal(out.classified, 'network');
  });

  test('`use` may name an npm package: a plugin installed in node_modules next to the config', async () => {
    const { mkdir } = await import('node:fs/promises');
    const pkg = path.join(scratch, 'node_modules', 'ms-design-npm-plugin');
    await mkdir(pkg, { recursive: true });
    await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: 'ms-design-npm-plugin', version: '2.0.0', type: 'module', exports: './index.js' }));
    await writeFile(
      path.join(pkg, 'index.js'),
      `import { definePlugin, z } from 'mister-smith/sdk';
       export default definePlugin({ name: 'npm-greeter', version: '2.0.0', options: z.object({ who: z.string().default('npm') }),
         setup(ctx) { ctx.provide('npm-greeter', { hello: () => 'hello from ' + ctx.options.who }); } });`,
    );
    await writeFile(
      path.join(scratch, 'mister-smith.config.json'),
      JSON.stringify({ name: 'npm', log: { level: 'silent' }, plugins: [{ use: 'ms-design-npm-plugin', options: { who: 'a package' } }] }),
    );
    const { code, stdout, stderr } = await node(`
      import { createKernel, loadConfig } from 'mister-smith';
      const kernel = await createKernel({ config: await loadConfig('mister-smith.config.json') });
      await kernel.start();
      console.log(JSON.stringify({ said: kernel.resolve('npm-greeter').hello() }));
      await kernel.stop('reason');
    `);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /"said":"hello from a package"/);
  });

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin', 'mister-smith.js'), ...args], {
        cwd,
        timeout: 60_000,
        env: { ...process.env, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  test('mister-smith check [config]: load order, exit 0; a problem → exit 2', async () => {
    const good = await cli(['check', designConfig]);
    assert.equal(good.code, 0, good.stderr);
    const order = ['supervision', 'actors', 'my-plugin'].map((n) => good.stdout.indexOf(n));
    assert.ok(order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!, good.stdout);
    assert.doesNotMatch(good.stdout, /started/, 'check starts nothing');
    const inCwd = await cli(['check'], {}, designDir);
    assert.equal(inCwd.code, 0, `[config] defaults to mister-smith.config.json in the working directory: ${inCwd.stderr}`);
    assert.match(inCwd.stdout, /my-plugin/);
    const bad = await cli(['check', designConfig], { MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '"lots"' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr + bad.stdout, /plugins\[1\]\.options\.mailbox\.capacity: /);
  });

  test('mister-smith plugins [config] --json: name, version, dependencies, options as JSON Schema', async () => {
    const { code, stdout, stderr } = await cli(['plugins', designConfig, '--json']);
    assert.equal(code, 0, stderr);
    const list = JSON.parse(stdout) as Array<Record<string, unknown>>;
    const mine = list.find((p) => p.name === 'my-plugin')!;
    assert.equal(mine.version, '0.1.0');
    assert.deepEqual(mine.dependsOn, ['actors']);
    assert.deepEqual(mine.dependencies, ['actors']);
    assert.deepEqual(list.find((p) => p.name === 'actors')?.optionalDependsOn, ['events', 'health']);
    const schema = mine.options as { type?: string; properties?: Record<string, { default?: unknown }> };
    assert.equal(schema.type, 'object');
    assert.equal(schema.properties?.label?.default, 'mine');
  });

  test('mister-smith start [config] --once: waits for ctx.track work, stops, exit 0; bad usage/config exit 2', async () => {
    const ok = await cli(['start', designConfig, '--once']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /my-plugin tracked work done/);
    const failed = await cli(['start', designConfig, '--once'], { MISTER_SMITH__PLUGINS__MY_PLUGIN__FAIL: 'true' });
    assert.equal(failed.code, 1, 'exit 1 when work handed to ctx.track rejected');
    assert.match(failed.stdout + failed.stderr, /tracked work failed on purpose/);
    const badConfig = await cli(['start', designConfig], { MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '"lots"' });
    assert.equal(badConfig.code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
  });
});
