/**
 * transport-nats benchmarks, over a nats-server (JetStream on) this bench starts on a free port,
 * each beside its bare-client baseline in the same process:
 * - remote ask round trip (median, p99) and throughput with 100 asks in flight, through two kernels
 *   (`actors.remote(name).ask` → exposed actor) vs a bare `nc.request()` to a bare responder;
 * - JetStream event store append with 100 concurrent publishers (`events.publish` on the
 *   jetstream store: publish + ack + tail) vs a bare `js.publish` loop with 100 publishers;
 * - distributed agent runs: steps/s (model calls + tool calls) with 1, 2 and 3 worker processes
 *   pulling from the work queue, runs started on a gateway process that pulls none, vs the same
 *   runs in one process with `distributed: false`. Model calls take 50 ms (scripted `delayMs`), as
 *   real model calls take time: what scales is the number of run slots across nodes.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createKernel } from '../index.js';
import type { ActorSystem } from '../plugins/actors/types.js';
import { EventBus } from '../plugins/events/index.js';
import type { NatsService } from '../plugins/transport-nats/types.js';
import { defineBench, type BenchRow } from './harness.js';

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(): Promise<{ url: string; proc: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'ms-nats-bench-'));
  const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
      await nc.request('$JS.API.INFO', undefined, { timeout: 2000 });
      await nc.close();
      return { url, proc, dir };
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Sequential latencies (µs, sorted) and throughput with `inFlight` concurrent callers. */
async function measure(call: () => Promise<unknown>, samples: number, total: number, inFlight: number): Promise<{ median: number; p99: number; rate: number }> {
  for (let i = 0; i < 500; i++) await call();
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await call();
    times[i] = (performance.now() - t0) * 1000;
  }
  times.sort();
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < total) await call();
    }),
  );
  const rate = total / ((performance.now() - began) / 1000);
  return { median: percentile(times, 0.5), p99: percentile(times, 0.99), rate };
}

async function kernelNode(url: string, plugins: unknown[] = []) {
  const kernel = await createKernel({
    config: { name: 'bench', plugins: ['supervision', 'actors', ...plugins, { use: 'transport-nats', options: { servers: url, system: 'bench' } }] } as never,
    logger: pino({ level: 'silent' }),
  });
  await kernel.start();
  return kernel;
}

async function askBench(url: string): Promise<BenchRow[]> {
  const owner = await kernelNode(url);
  const caller = await kernelNode(url);
  owner.resolve<ActorSystem>('actors').spawn<{ n: number }, { n: number }>({ receive: (m) => m }, { name: 'echo', expose: true });
  const ref = caller.resolve<ActorSystem>('actors').remote<{ n: number }, { n: number }>('echo');
  const message = { n: 1 };
  const server = await connect({ servers: url });
  const client = await connect({ servers: url });
  server.subscribe('bare.echo', { callback: (_e, m) => void m.respond(m.data) });
  await server.flush();
  const payload = new TextEncoder().encode(JSON.stringify(message));
  const viaActor = (): Promise<unknown> => ref.ask(message);
  const bareCall = (): Promise<unknown> => client.request('bare.echo', payload, { timeout: 5000 }).then((m) => JSON.parse(m.string()) as unknown);
  // Alternating rounds, medians of each figure: a shared machine's noise hits both sides alike.
  const remote: Array<{ median: number; p99: number; rate: number }> = [];
  const bare: Array<{ median: number; p99: number; rate: number }> = [];
  for (let r = 0; r < 3; r++) {
    remote.push(await measure(viaActor, 3000, 20_000, 100));
    bare.push(await measure(bareCall, 3000, 20_000, 100));
  }
  await caller.stop('bench done');
  await owner.stop('bench done');
  await client.close();
  await server.close();
  const m = (xs: typeof remote, k: 'median' | 'p99' | 'rate'): number => median(xs.map((x) => x[k]));
  const ratio = m(remote, 'rate') / m(bare, 'rate');
  return [
    { case: 'remote ask round trip (median)', value: m(remote, 'median'), unit: 'µs', baseline: m(bare, 'median'), baselineName: 'bare nc.request()' },
    { case: 'remote ask round trip (p99)', value: m(remote, 'p99'), unit: 'µs', baseline: m(bare, 'p99'), baselineName: 'bare nc.request()' },
    {
      case: 'remote ask throughput, 100 in flight',
      value: m(remote, 'rate'),
      unit: 'asks/s',
      baseline: m(bare, 'rate'),
      baselineName: 'bare nc.request(), 100 in flight',
      ratio,
      target: '>= 0.7x bare',
      pass: ratio >= 0.7,
    },
  ];
}

async function parallel(total: number, publishers: number, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: publishers }, async () => {
      for (let i = next++; i < total; i = next++) await one(i);
    }),
  );
  return total / ((performance.now() - began) / 1000);
}

/** Median of the values. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function storeBench(url: string): Promise<BenchRow[]> {
  const perRound = 5_000;
  const rounds = 5;
  const kernel = await kernelNode(url);
  const nats = kernel.resolve<NatsService>('nats');
  const bus = new EventBus({ store: nats.createEventStore({ stream: 'BENCH_STORE', subjectPrefix: 'bench.store' }) });
  await bus.start();
  const data = { n: 1, text: 'x'.repeat(200) };

  const nc: NatsConnection = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_BARE', subjects: ['bench.bare.>'] });
  const js = jetstream(nc);
  let id = 0;
  const bare = (): Promise<unknown> => {
    const msgID = `bare-${++id}`;
    const body = new TextEncoder().encode(JSON.stringify({ id: msgID, type: 'bench.appended', source: 'bench', time: new Date().toISOString(), data }));
    return js.publish('bench.bare.appended', body, { msgID });
  };
  const viaStore = (): Promise<unknown> => bus.publish({ type: 'bench.appended', source: 'bench', data });
  await parallel(1000, 100, viaStore);
  await parallel(1000, 100, bare);
  // Alternating rounds, medians: a shared machine's noise hits both sides alike.
  const storeRates: number[] = [];
  const bareRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    storeRates.push(await parallel(perRound, 100, viaStore));
    bareRates.push(await parallel(perRound, 100, bare));
  }
  await bus.stop();
  await kernel.stop('bench done');
  await nc.close();
  const store = median(storeRates);
  const base = median(bareRates);
  return [
    {
      case: 'JetStream store append, 100 publishers (median of 5 rounds)',
      value: store,
      unit: 'events/s',
      baseline: base,
      baselineName: 'bare js.publish, 100 publishers',
      ratio: store / base,
      target: '>= 0.8x bare',
      pass: store / base >= 0.8,
    },
  ];
}

const WORKER = fileURLToPath(new URL('./natsRunWorker.ts', import.meta.url));
/** Model calls + tool calls of one run of the benchmark's script. */
const STEPS_PER_RUN = 3;

interface Worker {
  send(m: object): Promise<{ ok: boolean; ms?: number; error?: string }>;
  kill(): void;
}

async function worker(url: string, tag: string, env: Record<string, string>): Promise<Worker> {
  const child = fork(WORKER, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, MS_BENCH_URL: url, MS_BENCH_TAG: tag, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = (): Promise<{ ok: boolean; ms?: number; error?: string; ready?: boolean }> =>
    new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m as { ok: boolean }));
      child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
    });
  const ready = await next();
  if (!ready.ready) throw new Error('bench worker did not start');
  return {
    send: (m) => {
      const reply = next();
      child.send(m);
      return reply;
    },
    kill: () => void child.kill('SIGKILL'),
  };
}

async function runsBench(url: string): Promise<BenchRow[]> {
  const runs = 120;
  const rows: BenchRow[] = [];
  const local = await worker(url, 'local', { MS_BENCH_DISTRIBUTED: '0' });
  await local.send({ op: 'run', count: 8 });
  const localMs = (await local.send({ op: 'run', count: runs })).ms!;
  await local.send({ op: 'stop' });
  const baseline = (runs * STEPS_PER_RUN) / (localMs / 1000);
  for (const n of [1, 2, 3]) {
    const tag = `w${n}`;
    const gateway = await worker(url, tag, { MS_BENCH_DISTRIBUTED: '1', MS_BENCH_PULL: '0' });
    const workers = await Promise.all(Array.from({ length: n }, () => worker(url, tag, { MS_BENCH_DISTRIBUTED: '1' })));
    try {
      await gateway.send({ op: 'run', count: 8 * n });
      const reply = await gateway.send({ op: 'run', count: runs });
      if (!reply.ok) throw new Error(reply.error);
      const rate = (runs * STEPS_PER_RUN) / (reply.ms! / 1000);
      rows.push({
        case: `distributed runs, ${n} worker process${n > 1 ? 'es' : ''} (8 slots each, 50 ms model calls)`,
        value: rate,
        unit: 'steps/s',
        baseline,
        baselineName: 'same runs in one process, distributed: false',
      });
    } finally {
      await Promise.all([gateway, ...workers].map((w) => w.send({ op: 'stop' }).catch(() => w.kill())));
    }
  }
  return rows;
}

export default defineBench({
  name: 'nats',
  async run(): Promise<BenchRow[]> {
    if (spawnSync('nats-server', ['--version']).status !== 0) {
      return [{ case: 'skipped: nats-server not installed (apt-get install -y nats-server)', value: Number.NaN, unit: '' }];
    }
    const { url, proc, dir } = await startServer();
    try {
      return [...(await askBench(url)), ...(await storeBench(url)), ...(await runsBench(url))];
    } finally {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
