/**
 * Task executor throughput (issue 8): trivial async tasks with 100 running at once, against a bare
 * promise pool (100 async workers pulling from a counter) in the same process. Target: ≥ 500,000
 * tasks/s. Every task carries the default 30 s deadline, so this also proves that deadlines cost no
 * timer per task. A saturated case keeps the priority queue full, and a stream case measures the
 * stream processor against a bare for-await loop.
 */
import { TaskExecutor, tasksOptionsSchema } from '../plugins/tasks/index.js';
import { defineBench, type BenchRow } from './harness.js';

const N = 300_000;
const ROUNDS = 3;
const CONCURRENCY = 100;

const trivial = async (): Promise<number> => 1;

async function barePool(n: number): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await trivial();
    }
  };
  const began = performance.now();
  const workers: Promise<void>[] = [];
  for (let i = 0; i < CONCURRENCY; i++) workers.push(worker());
  await Promise.all(workers);
  return n / ((performance.now() - began) / 1000);
}

/** 100 clients each awaiting its own task: exactly 100 tasks in flight, the queue mostly empty. */
async function executorClients(n: number): Promise<number> {
  const ex = new TaskExecutor(tasksOptionsSchema.parse({ maxConcurrent: CONCURRENCY }));
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < n) {
      next++;
      await ex.submit(trivial).result;
    }
  };
  const began = performance.now();
  const clients: Promise<void>[] = [];
  for (let i = 0; i < CONCURRENCY; i++) clients.push(client());
  await Promise.all(clients);
  const rate = n / ((performance.now() - began) / 1000);
  await ex.shutdown();
  return rate;
}

/** Batches of 1,100 submits (100 run, 1,000 queue at mixed priorities), then await the batch. */
async function executorSaturated(n: number): Promise<number> {
  const ex = new TaskExecutor(tasksOptionsSchema.parse({ maxConcurrent: CONCURRENCY, queueCapacity: 1000 }));
  const priorities = ['critical', 'high', 'normal', 'low'] as const;
  const batch = CONCURRENCY + 1000;
  const results: Promise<unknown>[] = new Array(batch);
  const began = performance.now();
  for (let done = 0; done < n; done += batch) {
    for (let i = 0; i < batch; i++) results[i] = ex.submit({ run: trivial, priority: priorities[i & 3]! }).result;
    await Promise.all(results);
  }
  const rate = n / ((performance.now() - began) / 1000);
  await ex.shutdown();
  return rate;
}

async function* source(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function bareStream(n: number): Promise<number> {
  let sum = 0;
  const began = performance.now();
  for await (const x of source(n)) sum += await (async (v: number) => v * 2)(x);
  if (sum < 0) throw new Error('unreachable');
  return n / ((performance.now() - began) / 1000);
}

async function executorStream(n: number): Promise<number> {
  const ex = new TaskExecutor(tasksOptionsSchema.parse({}));
  let sum = 0;
  const began = performance.now();
  await ex.stream(source(n), [async (v: number) => v * 2], (v: number) => void (sum += v), { buffer: 100 });
  const rate = n / ((performance.now() - began) / 1000);
  if (sum < 0) throw new Error('unreachable');
  await ex.shutdown();
  return rate;
}

async function best(fn: (n: number) => Promise<number>, n: number): Promise<number> {
  await fn(Math.min(n, 30_000));
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await fn(n));
  return top;
}

export default defineBench({
  name: 'tasks',
  async run() {
    const pool = await best(barePool, N);
    const clients = await best(executorClients, N);
    const saturated = await best(executorSaturated, N);
    const streamBare = await best(bareStream, 100_000);
    const stream = await best(executorStream, 100_000);
    const rows: BenchRow[] = [
      {
        case: 'executor, 100 concurrent trivial tasks (30 s deadline each)',
        value: clients,
        unit: 'tasks/s',
        baseline: pool,
        baselineName: 'bare promise pool, 100 workers',
        ratio: clients / pool,
        target: '>= 500,000 tasks/s',
        pass: clients >= 500_000,
      },
      {
        case: 'executor, saturated (100 running + 1,000 queued, 4 priorities)',
        value: saturated,
        unit: 'tasks/s',
        baseline: pool,
        baselineName: 'bare promise pool, 100 workers',
        ratio: saturated / pool,
        target: '>= 500,000 tasks/s',
        pass: saturated >= 500_000,
      },
      {
        case: 'stream, 1 async stage, buffer 100',
        value: stream,
        unit: 'items/s',
        baseline: streamBare,
        baselineName: 'bare for-await + await stage',
        ratio: stream / streamBare,
      },
    ];
    return rows;
  },
});
