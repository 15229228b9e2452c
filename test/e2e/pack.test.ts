/**
 * Third-party authoring for real: pack the project as npm would publish it, install the tarball
 * into an empty folder (no tsx there), write a plugin in plain JavaScript against
 * `mister-smith/sdk`, and run it with the installed `mister-smith` command.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(cwd: string, args: string[]): Promise<Outcome> {
  const bin = path.join(cwd, 'node_modules', 'mister-smith', 'bin', 'mister-smith.js');
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const PLUGIN = `
import { definePlugin, z } from 'mister-smith/sdk';

export default definePlugin({
  name: 'hello',
  version: '1.0.0',
  kernel: '^1.0.0',
  options: z.object({ times: z.number().int().default(3), fail: z.boolean().default(false) }),
  setup(ctx) {
    ctx.provide('hello', { greet: (who) => 'hello ' + who });
    ctx.onStart(() => {
      ctx.track((async () => {
        for (let i = 0; i < ctx.options.times; i++) await new Promise((r) => setTimeout(r, 5));
        if (ctx.options.fail) throw new Error('hello failed on purpose');
        ctx.logger.info(ctx.resolve('hello').greet('world') + ' x' + ctx.options.times);
      })(), 'greeting');
    });
  },
});
`;

const STRICT_PLUGIN = `
import { definePlugin, z } from 'mister-smith/sdk';
import { checkPluginConformance } from 'mister-smith/testing';

export const greeter = definePlugin({
  name: 'greeter',
  version: '1.0.0',
  dependsOn: ['actors', 'tools'],
  options: z.object({ greeting: z.string().default('hello') }),
  setup(ctx) {
    const actors = ctx.resolve('actors');
    const ref = actors.spawn<string, string>({ receive: (name) => \`\${ctx.options.greeting}, \${name}\` }, { name: 'greeter' });
    ctx.onStop(() => ref.stop());
    const tools = ctx.resolve('tools');
    ctx.onStop(tools.register({ name: 'greet.one', description: 'greets', input: z.object({ who: z.string() }), handler: ({ who }) => ref.ask(who) }));
    // @ts-expect-error the actor system has no 'spawnn'
    actors.spawnn;
    // @ts-expect-error a tool handler's input is typed by its schema
    tools.register({ name: 'greet.two', description: 'x', input: z.object({ who: z.string() }), handler: ({ whom }) => whom });
  },
});

export async function conformance(): Promise<void> {
  await checkPluginConformance(greeter);
}
`;

describe('a packed and installed mister-smith', { timeout: 300_000 }, () => {
  let work: string;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'mister-smith-pack-'));
    const packDir = path.join(work, 'pack');
    const app = path.join(work, 'app');
    await run(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, timeout: 120_000 });
    await run(npm, ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: root, timeout: 120_000 });
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack produced a tarball');
    await run('mkdir', ['-p', packDir, app]);
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'third-party-app', private: true, type: 'module' }));
    await run(npm, ['install', path.join(work, tarball!), '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--omit=dev'], {
      cwd: app,
      timeout: 240_000,
    });
    await writeFile(path.join(app, 'hello-plugin.js'), PLUGIN);
    await writeFile(path.join(app, 'ok.json'), JSON.stringify({ name: 'third-party', plugins: [{ use: './hello-plugin.js', options: { times: 2 } }] }));
    await writeFile(path.join(app, 'fails.json'), JSON.stringify({ plugins: [{ use: './hello-plugin.js', options: { fail: true } }] }));
    await writeFile(path.join(app, 'bad.json'), JSON.stringify({ plugins: [{ use: './hello-plugin.js', options: { times: 'many' } }] }));
    work = app;
  });

  after(async () => {
    if (work) await rm(path.dirname(work), { recursive: true, force: true });
  });

  test('installs without tsx and ships compiled code with type declarations', () => {
    assert.equal(existsSync(path.join(work, 'node_modules', 'tsx')), false, 'tsx must not be needed by consumers');
    for (const file of ['dist/index.js', 'dist/sdk/index.d.ts', 'dist/testing/index.d.ts', 'dist/kernel/cli/main.js']) {
      assert.ok(existsSync(path.join(work, 'node_modules', 'mister-smith', file)), `${file} is in the package`);
    }
  });

  test('start --once runs a plain-JavaScript plugin by relative path and exits 0', async () => {
    const out = await cli(work, ['start', 'ok.json', '--once']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /hello world x2/);
    assert.match(out.stdout, /"msg":"stopped"/);
  });

  test('start --once exits 1 when tracked work rejects', async () => {
    const out = await cli(work, ['start', 'fails.json', '--once']);
    assert.equal(out.code, 1);
    assert.match(out.stdout, /hello failed on purpose/);
  });

  test('bad options exit 2 with the option path', async () => {
    const out = await cli(work, ['start', 'bad.json']);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /plugins\[0\]\.options\.times: /);
  });

  test('a strict TypeScript plugin compiles against the installed package, its services typed with no extra imports', async () => {
    await writeFile(path.join(work, 'greeter.ts'), STRICT_PLUGIN);
    await writeFile(
      path.join(work, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['greeter.ts'] }),
    );
    await mkdir(path.join(work, 'node_modules', '@types'), { recursive: true });
    await symlink(path.join(root, 'node_modules', '@types', 'node'), path.join(work, 'node_modules', '@types', 'node'));
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // The @ts-expect-error lines prove the services are typed (an `unknown` or `any` service would
    // make them unused, which tsc reports).
    const { stdout } = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: work, timeout: 120_000 }).catch((e: { stdout?: string; message: string }) => {
      throw new Error(`tsc failed:\n${e.stdout ?? e.message}`);
    });
    assert.equal(stdout, '');
  });

  test('check prints the load order of the installed plugin', async () => {
    const out = await cli(work, ['check', 'ok.json']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /1\. hello@1\.0\.0/);
  });
});
