/**
 * The benchmark contract. A bench file default-exports `defineBench({ name, run })`; `run` measures
 * the subject and its raw-Node baseline in the same process and returns rows. `npm run bench` runs
 * every `bench/*.bench.ts` in its own process (with --expose-gc), prints a table and writes
 * `bench/results/latest.json`. Ratios, not absolute numbers, are what compare across machines.
 */
export interface BenchRow {
  /** What was measured (`tell 1000x1000 async receive`). */
  readonly case: string;
  readonly value: number;
  /** `ops/s`, `µs`, `ns/op`, `bytes/actor`, `ms`, … */
  readonly unit: string;
  /** The same measurement of the raw-Node baseline, in the same unit. */
  readonly baseline?: number;
  /** What the baseline is (`bare queue + microtask`). */
  readonly baselineName?: string;
  /** value / baseline (computed when both are given and ratio is not). */
  readonly ratio?: number;
  /** The target from the issue, in words (`>= 1e6 ops/s`). */
  readonly target?: string;
  /** Whether the target was met. */
  readonly pass?: boolean;
}

export interface Bench {
  readonly name: string;
  run(): Promise<BenchRow[]>;
}

export function defineBench(bench: Bench): Bench {
  return bench;
}

/** Runs `fn` `iterations` times and returns ops/s (wall clock). */
export async function opsPerSecond(iterations: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const began = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return iterations / ((performance.now() - began) / 1000);
}

/** Median of `samples` timings of `fn` in microseconds, after `warmup` untimed runs. */
export async function medianMicros(samples: number, fn: () => unknown | Promise<unknown>, warmup = Math.min(1000, samples)): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await fn();
    times[i] = (performance.now() - t0) * 1000;
  }
  times.sort();
  return times[Math.floor(samples / 2)]!;
}

/** Forces a full GC when run with --expose-gc (the runner does), then reads the heap. */
export function heapUsedAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}
