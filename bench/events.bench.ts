/**
 * Events plugin benchmarks (issue 6), each against a raw-Node baseline run in the same process:
 * - in-memory publish to 1 async subscriber vs EventEmitter.emit to one async listener;
 * - file store, fsync 'batch', 1 KB events, 100 concurrent publishers vs a bare append+fsync loop;
 * - replay of 1 M stored events vs readline + JSON.parse over the same events as JSONL.
 */
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { EventBus, FileStore, MemoryStore } from '../plugins/events/index.js';
import { defineBench, heapUsedAfterGc, type BenchRow } from './harness.js';

const MB = 1024 * 1024;
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function memoryPublish(n: number): Promise<number> {
  const bus = new EventBus({ store: new MemoryStore() });
  await bus.start();
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  bus.subscribe('bench.event', async () => {
    if (++seen === n) done();
  });
  const input = { type: 'bench.event', source: 'bench', data: 1 };
  const began = performance.now();
  for (let i = 0; i < n; i++) {
    void bus.publish(input);
    // Yield a macrotask now and then: the async subscriber drains in microtasks, and its queue
    // (10 000 by default) must not overflow while the publisher runs ahead.
    if ((i & 1023) === 1023) await yieldTurn();
  }
  await finished;
  const rate = n / ((performance.now() - began) / 1000);
  await bus.stop();
  return rate;
}

async function emitterBaseline(n: number): Promise<number> {
  const ee = new EventEmitter();
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  ee.on('bench.event', async () => {
    if (++seen === n) done();
  });
  const input = { type: 'bench.event', source: 'bench', data: 1 };
  const began = performance.now();
  for (let i = 0; i < n; i++) {
    ee.emit('bench.event', input);
    if ((i & 1023) === 1023) await yieldTurn();
  }
  await finished;
  return n / ((performance.now() - began) / 1000);
}

async function filePublish(dir: string, total: number, publishers: number): Promise<{ rate: number; syncs: number }> {
  let syncs = 0;
  const bus = new EventBus({ store: new FileStore({ dir, fsync: 'batch', onSync: () => void syncs++ }) });
  await bus.start();
  const data = { text: 'x'.repeat(1024 - 120) }; // ~1 KB records with the envelope
  const per = Math.ceil(total / publishers);
  const began = performance.now();
  await Promise.all(
    Array.from({ length: publishers }, async (_, w) => {
      for (let i = 0; i < per; i++) await bus.publish({ type: 'bench.durable', source: `publisher-${w}`, data });
    }),
  );
  const rate = (per * publishers) / ((performance.now() - began) / 1000);
  await bus.stop();
  return { rate, syncs };
}

async function bareAppendFsync(file: string, n: number): Promise<number> {
  const fh = await open(file, 'a');
  const buf = Buffer.alloc(1024, 'x');
  const began = performance.now();
  for (let i = 0; i < n; i++) {
    await fh.write(buf);
    await fh.datasync();
  }
  const rate = n / ((performance.now() - began) / 1000);
  await fh.close();
  return rate;
}

async function fillLog(dir: string, n: number, jsonl: string): Promise<void> {
  const bus = new EventBus({ store: new FileStore({ dir, fsync: 'never' }) });
  await bus.start();
  const lines: string[] = [];
  const out = await open(jsonl, 'w');
  for (let i = 0; i < n; i += 10_000) {
    const batch = await bus.publishMany(
      Array.from({ length: Math.min(10_000, n - i) }, (_, k) => ({ type: 'bench.replay', source: 'bench', data: { i: i + k, note: 'replayed event payload' } })),
    );
    for (const e of batch) lines.push(JSON.stringify(e));
    await out.write(`${lines.join('\n')}\n`);
    lines.length = 0;
  }
  await out.close();
  await bus.stop();
}

async function replay(dir: string, n: number): Promise<{ rate: number; heapBefore: number; heapAfter: number; heapPeak: number }> {
  const bus = new EventBus({ store: new FileStore({ dir }) });
  await bus.start();
  const heapBefore = heapUsedAfterGc();
  let heapPeak = heapBefore;
  let count = 0;
  let sum = 0;
  const began = performance.now();
  for await (const e of bus.replay()) {
    sum += (e.data as { i: number }).i;
    if ((++count & 0xffff) === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
  const rate = count / ((performance.now() - began) / 1000);
  if (count !== n || sum !== (n * (n - 1)) / 2) throw new Error(`replayed ${count} events (sum ${sum}), expected ${n}`);
  const heapAfter = heapUsedAfterGc();
  await bus.stop();
  return { rate, heapBefore, heapAfter, heapPeak };
}

async function readlineBaseline(jsonl: string, n: number): Promise<number> {
  let count = 0;
  const began = performance.now();
  const rl = createInterface({ input: createReadStream(jsonl), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.length > 0) {
      JSON.parse(line);
      count++;
    }
  }
  if (count !== n) throw new Error(`baseline read ${count} lines`);
  return count / ((performance.now() - began) / 1000);
}

export default defineBench({
  name: 'events',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const N = 2_000_000;
    await memoryPublish(200_000); // warm-up
    await emitterBaseline(200_000);
    const mem = await memoryPublish(N);
    const ee = await emitterBaseline(N);
    rows.push({
      case: 'memory publish -> 1 async subscriber',
      value: mem,
      unit: 'events/s',
      baseline: ee,
      baselineName: 'EventEmitter.emit, 1 async listener',
      target: '>= 3M events/s',
      pass: mem >= 3_000_000,
    });

    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ms-events-bench-'));
    try {
      // fsync latency on a shared disk swings between runs: three runs each, interleaved, medians.
      const files: Array<{ rate: number; syncs: number }> = [];
      const bares: number[] = [];
      for (let i = 0; i < 3; i++) {
        files.push(await filePublish(path.join(tmp, `durable-${i}`), 100_000, 100));
        bares.push(await bareAppendFsync(path.join(tmp, `bare-${i}.log`), 1_000));
      }
      const file = files.sort((a, b) => a.rate - b.rate)[1]!;
      const bare = bares.sort((a, b) => a - b)[1]!;
      rows.push({
        case: `file store fsync=batch, 1 KB, 100 publishers (median of 3 x 100k; ${file.syncs} fsyncs)`,
        value: file.rate,
        unit: 'durable events/s',
        baseline: bare,
        baselineName: 'fs append + fdatasync per event',
        target: '>= 100k events/s',
        pass: file.rate >= 100_000,
      });

      const R = 1_000_000;
      const jsonl = path.join(tmp, 'events.jsonl');
      await fillLog(path.join(tmp, 'replay'), R, jsonl);
      await writeFile(path.join(tmp, '.keep'), '');
      const r = await replay(path.join(tmp, 'replay'), R);
      const base = await readlineBaseline(jsonl, R);
      rows.push({
        case: `replay 1M stored events (heap before ${(r.heapBefore / MB).toFixed(1)} MB, peak ${(r.heapPeak / MB).toFixed(1)} MB, after ${(r.heapAfter / MB).toFixed(1)} MB)`,
        value: r.rate,
        unit: 'events/s',
        baseline: base,
        baselineName: 'readline + JSON.parse over JSONL',
        target: '>= 500k events/s, flat memory',
        pass: r.rate >= 500_000 && r.heapAfter - r.heapBefore < 16 * MB && r.heapPeak - r.heapBefore < 128 * MB,
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return rows;
  },
});
