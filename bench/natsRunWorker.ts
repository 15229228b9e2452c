/**
 * One node of the distributed-runs benchmark (bench/nats.bench.ts forks it): a kernel with agents
 * (`distributed` per MS_BENCH_DISTRIBUTED), the JetStream event store and transport-nats, driven
 * over IPC: `{ op: 'run', count }` starts `count` runs and answers once all completed.
 */
import pino from 'pino';
import { createKernel } from '../index.js';
import { definePlugin, z } from '../sdk/index.js';
import type { AgentService } from '../plugins/agents/types.js';
import type { ToolBus } from '../plugins/tools/types.js';

const tag = process.env.MS_BENCH_TAG ?? 'x';
const distributed = process.env.MS_BENCH_DISTRIBUTED === '1';
const pull = process.env.MS_BENCH_PULL !== '0';
const modelDelayMs = Number(process.env.MS_BENCH_MODEL_DELAY_MS ?? '50');

const tool = definePlugin({
  name: 'bench-tool',
  version: '1.0.0',
  dependsOn: ['tools'],
  setup(ctx) {
    ctx.resolve<ToolBus>('tools').register({ name: 'work.do', description: 'does a little work', input: z.object({ n: z.number() }), handler: ({ n }) => n + 1 });
  },
});

const kernel = await createKernel({
  config: {
    name: `bench-${tag}`,
    shutdownTimeoutMs: 5000,
    plugins: [
      'supervision',
      'actors',
      'tools',
      { use: 'events', options: { store: { type: 'jetstream', stream: `BENCH_RUNS_${tag}`, subjectPrefix: `bench.${tag}` } } },
      { use: 'transport-nats', options: { servers: process.env.MS_BENCH_URL, system: `bench${tag}`, runs: { stream: `RUNS_${tag}`, leaseBucket: `LEASES_${tag}`, pull } } },
      {
        use: 'provider-scripted',
        options: { scripts: { job: [{ toolCalls: [{ name: 'work.do', input: { n: 1 } }], delayMs: modelDelayMs }, { reply: 'done', delayMs: modelDelayMs }] } },
      },
      { use: 'agents', options: { distributed, agents: [{ name: 'worker', provider: 'scripted', model: 'job', instructions: 'work', tools: ['work.*'], maxConcurrentRuns: 8, maxQueuedRuns: 10_000 }] } },
      { use: tool },
    ],
  } as never,
  logger: pino({ level: 'silent' }),
});
await kernel.start();

process.on('message', (raw) => {
  const m = raw as { op: string; count?: number };
  void (async () => {
    if (m.op === 'run') {
      const agents = kernel.resolve<AgentService>('agents');
      const began = performance.now();
      const ids = await Promise.all(Array.from({ length: m.count ?? 1 }, (_, i) => agents.start('worker', `job ${i}`).then((r) => r.runId)));
      await Promise.all(ids.map((id) => agents.wait(id)));
      process.send!({ ok: true, ms: performance.now() - began });
    } else if (m.op === 'stop') {
      await kernel.stop('bench done');
      process.send!({ ok: true }, () => process.exit(0));
    }
  })().catch((error: unknown) => process.send!({ ok: false, error: String(error) }));
});
process.send!({ ready: true });
