/**
 * Supervision benchmarks (issue 3):
 * - crash → restarted child ready, median µs, one-for-one without backoff, with 10 and 10,000
 *   siblings; baseline: a bare "create a replacement object and put it in a Map";
 * - supervisor memory per idle child (100,000 children), against the same handles in a bare Map;
 * - a crash storm in one subtree vs the throughput of a plain async worker loop in a sibling subtree.
 */
import pino from 'pino';
import { createKernel } from '../kernel/createKernel.js';
import supervisionPlugin from '../plugins/supervision/index.js';
import type { ChildContext, ChildHandle, ChildSpec, ExitListener, SupervisionService } from '../plugins/supervision/index.js';
import { defineBench, heapUsedAfterGc, medianMicros, type BenchRow } from './harness.js';

async function startKernel() {
  const kernel = await createKernel({
    config: { name: 'bench-supervision', shutdownTimeoutMs: 30_000, startTimeoutMs: 30_000, plugins: [{ use: supervisionPlugin, options: {} }] },
    logger: pino({ level: 'silent' }),
  });
  await kernel.start();
  return { kernel, supervision: kernel.resolve<SupervisionService>('supervision') };
}

const NO_BACKOFF = Object.freeze({ initialMs: 0, jitter: 0 });
const neverSettles = (): Promise<unknown> => new Promise(() => {});
const stopNoop = (): Promise<void> => Promise.resolve();

/** An idle sibling: its handle never exits. */
function idleSpec(id: string): ChildSpec {
  return { id, backoff: NO_BACKOFF, start: () => ({ exited: neverSettles(), stop: stopNoop }) };
}

/** A child the bench crashes; `ready` resolves each time a new incarnation has started. */
function crashable(id: string) {
  let crash: (error: Error) => void = () => {};
  let onReady: () => void = () => {};
  const error = new Error('bench crash');
  const spec: ChildSpec = {
    id,
    backoff: NO_BACKOFF,
    start(_ctx: ChildContext): ChildHandle {
      const exited = new Promise<unknown>((_, reject) => (crash = reject));
      onReady();
      return { exited, stop: stopNoop };
    },
  };
  return {
    spec,
    /** Crashes the current incarnation and resolves when its replacement is ready. */
    crashAndWait(): Promise<void> {
      return new Promise<void>((resolve) => {
        onReady = resolve;
        crash(error);
      });
    },
  };
}

async function restartMedian(siblings: number, samples: number): Promise<number> {
  const { kernel, supervision } = await startKernel();
  const children: ChildSpec[] = [];
  for (let i = 0; i < siblings; i++) children.push(idleSpec(`idle-${i}`));
  const target = crashable('target');
  children.push(target.spec);
  await supervision.start({ id: `restart-${siblings}`, intensity: Infinity, children });
  const median = await medianMicros(samples, () => target.crashAndWait(), 2000);
  await kernel.stop('bench done');
  return median;
}

async function baselineMapReplace(samples: number): Promise<number> {
  const map = new Map<string, { id: string; restartCount: number }>();
  for (let i = 0; i < 10_000; i++) map.set(`idle-${i}`, { id: `idle-${i}`, restartCount: 0 });
  let n = 0;
  return medianMicros(samples, () => {
    map.set('target', { id: 'target', restartCount: n++ });
  });
}

/** Heap per child: `makeHandle` children under one supervisor vs the same handles in a bare Map. */
async function bytesPerChild(count: number, makeHandle: () => ChildHandle): Promise<{ supervised: number; bare: number }> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(`c${i}`);
  const start = (): ChildHandle => makeHandle();
  // The ids and specs belong to the caller (the actors plugin keeps its own): allocated before measuring.
  const specs: ChildSpec[] = ids.map((id) => ({ id, start }));

  const before0 = heapUsedAfterGc();
  const bare = new Map<string, ChildHandle>();
  for (const id of ids) bare.set(id, makeHandle());
  const bareBytes = (heapUsedAfterGc() - before0) / count;
  bare.clear();

  const { kernel, supervision } = await startKernel();
  const sup = await supervision.start({ id: 'memory', intensity: Infinity });
  const before = heapUsedAfterGc();
  for (const spec of specs) await sup.startChild(spec);
  const supervisedBytes = (heapUsedAfterGc() - before) / count;
  if (sup.countChildren().active !== count) throw new Error('not all children started');
  await kernel.stop('bench done');
  return { supervised: supervisedBytes, bare: bareBytes };
}

const promiseHandle = (): ChildHandle => ({ exited: neverSettles(), stop: stopNoop });
/** A handle using the `watch` fast path: no promise until someone reads `exited`. */
class LeanHandle implements ChildHandle {
  listener: ExitListener | undefined = undefined;
  get exited(): Promise<unknown> {
    return neverSettles();
  }
  stop(): Promise<void> {
    return stopNoop();
  }
  watch(listener: ExitListener): void {
    this.listener = listener;
  }
}
const leanHandle = (): ChildHandle => new LeanHandle();

/** Messages/s of a plain async worker loop (one setImmediate turn per message) over `ms`. */
async function workerThroughput(ms: number): Promise<number> {
  let handled = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    handled++;
  }
  return handled / (ms / 1000);
}

async function stormThroughput(ms: number, storm: boolean): Promise<{ throughput: number; restarts: number }> {
  const { kernel, supervision } = await startKernel();
  let restarts = 0;
  // The storm child crashes right after every start; its restarts are paced by a 1 ms backoff.
  const stormSpec: ChildSpec = {
    id: 'storm',
    backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
    start: () => {
      restarts++;
      return { exited: Promise.reject(new Error('storm')), stop: stopNoop };
    },
  };
  const stormy = supervision.supervisorChild({ id: 'stormy', intensity: Infinity, children: storm ? [stormSpec] : [] });
  const calm = supervision.supervisorChild({ id: 'calm', children: [idleSpec('worker')] });
  await supervision.start({ id: 'storm-root', intensity: Infinity, children: [stormy, calm] });
  const throughput = await workerThroughput(ms);
  await kernel.stop('bench done');
  return { throughput, restarts };
}

export default defineBench({
  name: 'supervision',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const samples = 20_000;
    const baseline = await baselineMapReplace(samples);
    const small = await restartMedian(10, samples);
    const large = await restartMedian(10_000, samples);
    rows.push({
      case: 'crash → restarted child ready, one-for-one, 10 siblings (median)',
      value: small,
      unit: 'µs',
      baseline,
      baselineName: 'new object + Map.set',
      target: '< 20 µs',
      pass: small < 20,
    });
    rows.push({
      case: 'crash → restarted child ready, one-for-one, 10,000 siblings (median)',
      value: large,
      unit: 'µs',
      baseline,
      baselineName: 'new object + Map.set',
      target: '< 20 µs',
      pass: large < 20,
    });
    rows.push({
      case: 'restart latency 10,000 vs 10 siblings',
      value: large,
      unit: 'µs',
      baseline: small,
      baselineName: '10 siblings',
      ratio: large / small,
      // Sub-µs medians move by tenths between runs (cache effects of 10,000 records), so the
      // claim is checked as an absolute gap rather than a ratio.
      target: 'within 2 µs of the 10-sibling figure (O(1) in siblings)',
      pass: large - small < 2,
    });

    for (const [label, make] of [
      ['exited promise', promiseHandle],
      ['watch() fast path', leanHandle],
    ] as const) {
      const memory = await bytesPerChild(100_000, make);
      rows.push({
        case: `heap per idle child, 100,000 under one supervisor, handle with ${label} (incl. the handle)`,
        value: memory.supervised,
        unit: 'bytes/child',
        baseline: memory.bare,
        baselineName: 'same handle in a bare Map',
        ...(make === leanHandle
          ? { target: 'supervision overhead (value − baseline) < 250 B; actors budget 500 B/actor', pass: memory.supervised - memory.bare < 250 }
          : { target: 'informational: the exited subscription costs ~240 B more (2 closures + context + promise + reaction)' }),
      });
    }

    const calm = await stormThroughput(1500, false);
    const stormy = await stormThroughput(1500, true);
    rows.push({
      case: `sibling subtree worker loop during a crash storm (${stormy.restarts} restarts in 1.5 s)`,
      value: stormy.throughput,
      unit: 'msg/s',
      baseline: calm.throughput,
      baselineName: 'same loop, no storm',
      target: '>= 0.5 × no-storm (within 2×)',
      pass: stormy.throughput >= calm.throughput / 2,
    });
    return rows;
  },
});
