/**
 * The check-then-open race: a worker thread keeps swapping a folder inside the root for a symlink to
 * an outside folder while fs.read, fs.list and fs.write run on paths through it. However the calls
 * interleave with the swaps, nothing outside may be read, listed or created. Bounded: a fixed
 * number of calls, and the swapper stops when they are done (or after a fixed number of swaps).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createTestKernel } from '../../../testing/index.js';
import builtinTools from '../../../plugins/builtin-tools/index.js';
import tools from '../../../plugins/tools/index.js';

const CALLS_PER_TOOL = 1_500;
const CONCURRENCY = 6;
const MAX_SWAPS = 2_000_000;

const SWAPPER = `
const { renameSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { dir, hold, link, stop, swaps } = workerData;
const flag = new Int32Array(stop);
let n = 0;
const hold_ = () => { const until = process.hrtime.bigint() + 20000n; while (process.hrtime.bigint() < until); };
while (Atomics.load(flag, 0) === 0 && n < ${MAX_SWAPS}) {
  try {
    renameSync(dir, hold);   // the real folder steps aside…
    renameSync(link, dir);   // …and a symlink to the outside takes its name
    hold_(); // each state lasts a while, so the calls meet both rather than a missing folder
    renameSync(dir, link);
    renameSync(hold, dir);   // and back
    hold_();
  } catch {}
  n++;
}
Atomics.store(new Int32Array(swaps), 0, n);
`;

test('swapping a folder for a symlink to the outside while calls run: zero reads, listings or writes outside the root', { timeout: 180_000 }, async (t) => {
  const base = await mkdtemp(path.join(tmpdir(), 'ms-fs-race-'));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  await mkdir(path.join(root, 'dir'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, 'dir', 'a.txt'), 'inside');
  await writeFile(path.join(outside, 'a.txt'), 'OUTSIDE');
  await writeFile(path.join(outside, 'outside-marker'), '');
  await symlink(outside, path.join(root, 'link'));
  t.after(() => rm(base, { recursive: true, force: true }));

  const kernel = await createTestKernel({
    test: t,
    configDir: base,
    plugins: [
      { use: tools, options: { grants: { agent: ['fs.*'] } } },
      { use: builtinTools, options: { fs: { root: 'root' }, http: { enabled: false } } },
    ],
  });
  const bus = kernel.resolve('tools');

  const stop = new SharedArrayBuffer(4);
  const swaps = new SharedArrayBuffer(4);
  const worker = new Worker(SWAPPER, {
    eval: true,
    workerData: { dir: path.join(root, 'dir'), hold: path.join(root, 'dir.hold'), link: path.join(root, 'link'), stop, swaps },
  });
  const exited = new Promise<void>((resolve, reject) => {
    worker.once('exit', () => resolve());
    worker.once('error', reject);
  });

  const escapes = { read: 0, list: 0 };
  const outcomes = new Map<string, number>();
  const note = (outcome: string): void => void outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  const jobs: Array<() => Promise<void>> = [];
  for (let i = 0; i < CALLS_PER_TOOL; i++) {
    jobs.push(async () => {
      const r = (await bus.call('agent', 'fs.read', { path: 'dir/a.txt' })) as { content: string };
      if (r.content !== 'inside') escapes.read++;
      note('read ok');
    });
    jobs.push(async () => {
      const r = (await bus.call('agent', 'fs.list', { path: 'dir' })) as { entries: Array<{ name: string }> };
      if (r.entries.some((e) => e.name === 'outside-marker')) escapes.list++;
      note('list ok');
    });
    jobs.push(async () => {
      await bus.call('agent', 'fs.write', { path: `dir/new-${i}.txt`, content: 'x' });
      note('write ok');
    });
    jobs.push(async () => {
      await bus.call('agent', 'fs.write', { path: `dir/sub-${i}/f.txt`, content: 'x', createDirs: true });
      note('mkdir+write ok');
    });
  }
  let next = 0;
  const lanes = Array.from({ length: CONCURRENCY }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      // Refusals and ENOENT (the folder is briefly missing mid-swap) are fine; escapes are not.
      await job().catch((e: { code?: string }) => note(e.code ?? 'error'));
    }
  });
  try {
    await Promise.all(lanes);
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await exited;
  }
  const created = (await readdir(outside)).filter((name) => name.startsWith('new-') || name.startsWith('sub-'));
  t.diagnostic(`swaps: ${new Int32Array(swaps)[0]}; outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  assert.deepEqual({ ...escapes, created: created.length }, { read: 0, list: 0, created: 0 }, `escaped: ${created.slice(0, 5).join(', ')}`);
  // The race was real: some calls met the swapped path and were refused or found nothing.
  assert.ok((outcomes.get('TOOL_PATH_OUTSIDE_ROOT') ?? 0) + (outcomes.get('TOOL_FAILED') ?? 0) > 0, 'no call ever met a swapped folder');
  // And the tools still work on paths nobody swaps.
  assert.ok((outcomes.get('read ok') ?? 0) > 0);
});
