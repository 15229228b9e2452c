/** `mister-smith runs` and `runs show`: the real bin, reading a file event log read-only. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createKernel } from '../../../kernel/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'mister-smith.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('runs lists the runs of the event log; runs show prints one as a tree with its sub-run, tokens, cost and durations', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agents-runs-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = {
    name: 'runs-cli',
    log: { level: 'error' },
    plugins: [
      'supervision',
      { use: 'events', options: { store: { type: 'file', dir: 'events', fsync: 'batch' } } },
      'actors',
      'tools',
      'builtin-tools',
      {
        use: 'agents',
        options: {
          agents: [
            { name: 'boss', provider: 'scripted', model: 'boss', tools: ['agent.*', 'echo'] },
            { name: 'helper', provider: 'scripted', model: 'helper', tools: ['echo'] },
          ],
        },
      },
      {
        use: 'provider-scripted',
        options: {
          scripts: {
            boss: [{ toolCalls: [{ name: 'agent.helper', input: { prompt: 'help me' } }], usage: { inputTokens: 10, outputTokens: 2 }, costUsd: 0.01 }, { reply: 'boss is done', usage: { inputTokens: 20, outputTokens: 3 } }],
            helper: [{ toolCalls: [{ name: 'echo', input: { text: 'hi' } }], usage: { inputTokens: 5, outputTokens: 1 } }, { reply: 'helped', usage: { inputTokens: 6, outputTokens: 1 } }],
          },
        },
      },
    ],
  };
  const file = path.join(dir, 'mister-smith.config.json');
  await writeFile(file, JSON.stringify(config));
  const kernel = await createKernel({ config: config as never, configDir: dir });
  await kernel.start();
  const agents = kernel.resolve('agents');
  agents.asTool('helper');
  const run = await agents.run('boss', 'delegate something');
  // A system is running while the CLI reads: the read-only log needs no lock.
  const list = await cli(['runs', '--config', file]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^RUN\s+AGENT\s+STATUS/m);
  assert.match(list.stdout, new RegExp(`${run.runId}\\s+boss\\s+completed`));
  assert.match(list.stdout, /helper\s+completed/);
  const show = await cli(['runs', 'show', run.runId, '--config', file]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^${run.runId}  boss  completed  35 tokens`));
  assert.match(show.stdout, /\$0\.0100/);
  assert.match(show.stdout, /turn 0  model  10\+2 tokens/);
  assert.match(show.stdout, /tool agent\.helper \(call-0-0\)/);
  assert.match(show.stdout, /sub-run:\n\s+\S+  helper  completed  13 tokens/);
  assert.match(show.stdout, /tool echo .*→/);
  assert.match(show.stdout, /completed → boss is done/);
  const json = await cli(['runs', 'show', run.runId, '--json', '--config', file]);
  const tree = JSON.parse(json.stdout) as { summary: { usage: { totalTokens: number } }; children: unknown[] };
  assert.equal(tree.summary.usage.totalTokens, 35);
  assert.equal(tree.children.length, 1);
  await kernel.stop();

  const missing = await cli(['runs', 'show', 'run-nope', '--config', file]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no run 'run-nope'/);
  const bad = await cli(['runs', 'show', '--config', file]);
  assert.equal(bad.code, 2);
  const memory = path.join(dir, 'memory.json');
  await writeFile(memory, JSON.stringify({ ...config, plugins: config.plugins.map((p) => (typeof p === 'object' && p.use === 'events' ? 'events' : p)) }));
  const nothing = await cli(['runs', '--config', memory]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /file event store/);
});
