/**
 * Exact resume under `kill -9`: a real child process with the file event store is killed at
 * pseudo-random points of multi-step runs (between journal records, and inside tool calls), and
 * restarted each time with `recovery: 'resume'`. Kill points are chosen from what the child
 * prints (records stored, tool calls started or done), never from time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createTestKernel } from '../../../testing/index.js';
import type {} from '../../../plugins/events/types.js';
import { durableConfig, runIds } from './fixtures/durableSystem.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'durableChild.ts');
const RUNS = 3;
/** Independent systems killed side by side: a loaded machine shares its CPU per process. */
const LANES = 3;
const KILLS_PER_LANE = 8;

/** mulberry32: a seeded PRNG, so a failing sequence of kill points can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Plan = { kind: 'records'; after: number } | { kind: 'tool-start'; nth: number } | { kind: 'tool-done'; nth: number } | { kind: 'none' };

interface Life {
  readonly killed: boolean;
  readonly lines: string[];
}

/** Runs the child once; kills it with SIGKILL when the plan's point is reached. */
function live(dir: string, plan: Plan): Promise<Life> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path.join(dir, 'events'), path.join(dir, 'side'), String(RUNS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    let killed = false;
    let records = 0;
    let starts = 0;
    let dones = 0;
    const guard = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the child hung; last lines:\n${lines.slice(-10).join('\n')}\n${stderr}`));
    }, 90_000);
    const kill = (): void => {
      if (killed) return;
      killed = true;
      proc.kill('SIGKILL');
    };
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      lines.push(line);
      if (killed) return;
      if (line.startsWith('REC ')) records++;
      if (line.startsWith('TOOL-START ')) starts++;
      if (line.startsWith('TOOL-DONE ')) dones++;
      if (plan.kind === 'records' && records >= plan.after) kill();
      if (plan.kind === 'tool-start' && starts >= plan.nth) kill();
      if (plan.kind === 'tool-done' && dones >= plan.nth) kill();
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (killed && signal === 'SIGKILL') return resolve({ killed: true, lines });
      if (code === 0) return resolve({ killed: false, lines });
      reject(new Error(`the child exited with ${code ?? signal}:\n${stderr}\n${lines.slice(-10).join('\n')}`));
    });
  });
}

async function journal(dir: string, t: { after(fn: () => unknown): void }) {
  const kernel = await createTestKernel({ test: t, plugins: [{ use: 'events', options: { store: { type: 'file', dir: path.join(dir, 'events'), fsync: 'never' } } }] });
  const events = kernel.resolve('events');
  const byRun = new Map<string, string[]>();
  const called = new Map<string, string>();
  for await (const e of events.replay({ types: ['agent.>'] })) {
    const list = byRun.get(e.correlationId!) ?? [];
    list.push(e.type);
    byRun.set(e.correlationId!, list);
    if (e.type === 'agent.tool.called') {
      const d = e.data as { callId: string; name: string };
      called.set(`${e.correlationId}:${d.callId}`, d.name);
    }
  }
  await kernel.stop();
  return { byRun, called };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

test('kill -9 at random points: every run completes once, side effects at most once (idempotent ones at least once), tokens as if never killed', { timeout: 400_000 }, async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'agents-kill-'));
  t.after(() => rm(root, { recursive: true, force: true }));

  // The reference: the same runs in this process, never killed.
  const cleanSide = path.join(root, 'clean-side');
  await mkdir(cleanSide, { recursive: true });
  const reference = await createTestKernel({ test: t, plugins: durableConfig('events', cleanSide, () => undefined).plugins as never });
  const expected = (await Promise.all(runIds(RUNS).map((id) => reference.resolve('agents').run('worker', `job ${id}`, { runId: id }))))
    .map((r) => `RESULT ${r.runId} ${JSON.stringify(r.output)} ${r.usage.totalTokens}`)
    .sort();
  await reference.stop();

  const lanes = await Promise.all(Array.from({ length: LANES }, (_, lane) => killLane(path.join(root, `lane-${lane}`), lane)));
  const kills = lanes.reduce((n, l) => n + l.kills, 0);
  const midTool = lanes.reduce((n, l) => n + l.midTool, 0);
  assert.ok(kills >= 20, `${kills} kills`);
  assert.ok(midTool >= 5, `${midTool} kills inside tool calls`);
  let resumed = 0;
  for (const [lane, { final, dir }] of lanes.entries()) {
    // Every run completed with its scripted output and the token total of the run never killed.
    assert.deepEqual(final.lines.filter((l) => l.startsWith('RESULT ')).sort(), expected, `lane ${lane}`);
    const { byRun, called } = await journal(dir, t);
    assert.equal(byRun.size, RUNS);
    for (const [runId, types] of byRun) {
      assert.equal(types.filter((x) => x === 'agent.run.started').length, 1, `${runId}: one started`);
      assert.equal(types.filter((x) => x === 'agent.run.completed').length, 1, `${runId}: one completed`);
      assert.equal(types.at(-1), 'agent.run.completed');
      resumed += types.filter((x) => x === 'agent.run.resumed').length;
    }
    // The non-idempotent tool ran at most once per call id; the idempotent one at least once.
    const appends = lines(await readFile(path.join(dir, 'side', 'append.log'), 'utf8')).map((l) => l.split(' ')[0]!);
    const counts = new Map<string, number>();
    for (const id of appends) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, n] of counts) assert.equal(n, 1, `side.append ran ${n} times for ${id}`);
    const touches = new Set(lines(await readFile(path.join(dir, 'side', 'touch.log'), 'utf8')).map((l) => l.split(' ')[0]!));
    for (const [callId, name] of called) if (name === 'side.touch') assert.ok(touches.has(callId), `side.touch never ran for ${callId}`);
  }
  assert.ok(resumed >= kills / 2, 'runs were resumed from their journal');
  t.diagnostic(`${kills} kills (${midTool} inside tool calls) over ${LANES} systems, ${resumed} resumes`);
});

/** Kills one system KILLS_PER_LANE times at seeded points, then lets it finish. */
async function killLane(dir: string, lane: number): Promise<{ kills: number; midTool: number; final: Life; dir: string }> {
  await mkdir(path.join(dir, 'side'), { recursive: true });
  const random = prng(Number(process.env.KILL_SEED ?? 0x5eed) + lane);
  let kills = 0;
  let midTool = 0;
  for (let life = 0; life < 60; life++) {
    let plan: Plan = { kind: 'none' };
    if (kills < KILLS_PER_LANE) {
      const r = random();
      plan = r < 0.5 ? { kind: 'records', after: 1 + Math.floor(random() * 3) } : r < 0.75 ? { kind: 'tool-start', nth: 1 } : { kind: 'tool-done', nth: 1 };
    }
    const result = await live(dir, plan);
    if (!result.killed) {
      assert.ok(kills >= KILLS_PER_LANE, `lane ${lane}: the runs finished after only ${kills} kills`);
      return { kills, midTool, final: result, dir };
    }
    kills++;
    if (plan.kind !== 'records') midTool++;
  }
  throw new Error(`lane ${lane}: the runs never finished`);
}
