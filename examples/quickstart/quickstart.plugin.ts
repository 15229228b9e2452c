/**
 * The quickstart system (the seed's Quick Start, as plugins): an actor does arithmetic under
 * supervision and is exposed as the tool `math.add`; an agent id calls tools through the
 * permissioned bus; work runs through the priority executor; every step lands on the event bus;
 * an LLM agent (a scripted model) uses that tool too; and the system reports its own health and metrics over HTTP on 127.0.0.1.
 */
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../../plugins/actors/types.js';
import type {} from '../../plugins/agents/types.js';
import type {} from '../../plugins/events/types.js';
import type {} from '../../plugins/http/types.js';
import type {} from '../../plugins/routing/types.js';
import type {} from '../../plugins/tasks/types.js';
import type { ToolCallMessage } from '../../plugins/tools/types.js';

const AGENT = 'quickstart';

export default definePlugin({
  name: 'quickstart',
  version: '1.0.0',
  dependsOn: ['actors', 'routing', 'agents', 'tools', 'builtin-tools', 'tasks', 'events', 'http'],
  options: z.object({ numbers: z.array(z.number()).min(1).default([1, 2, 3]) }),
  setup(ctx) {
    const actors = ctx.resolve('actors');
    const tools = ctx.resolve('tools');
    const tasks = ctx.resolve('tasks');
    const events = ctx.resolve('events');
    const http = ctx.resolve('http');
    const agents = ctx.resolve('agents');
    const routing = ctx.resolve('routing');

    ctx.onStart(() => {
      const calculator = actors.spawn<ToolCallMessage<{ a: number; b: number }>, number>(
        { receive: ({ input }) => input.a + input.b },
        { name: 'calculator' },
      );
      tools.agentAsTool(calculator, {
        name: 'math.add',
        description: 'Adds two numbers',
        input: z.object({ a: z.number(), b: z.number() }),
        output: z.number(),
        timeoutMs: 1000,
      });

      ctx.track(
        (async () => {
          const seen: string[] = [];
          const subscription = events.subscribe('tool.>', (event) => void seen.push(event.type));

          const echoed = await tools.call<{ message: string }>(AGENT, 'echo', { message: 'hello, Mister Smith' });
          ctx.logger.info({ echoed }, 'echo tool answered');

          // Fold the numbers through the calculator actor, one tool call per step, as tasks.
          let sum = 0;
          for (const n of ctx.options.numbers) {
            const handle = tasks.submit({ priority: 'high', run: () => tools.call<number>(AGENT, 'math.add', { a: sum, b: n }) });
            sum = await handle.result;
          }
          ctx.logger.info({ numbers: ctx.options.numbers, sum }, 'calculator summed the numbers');

          // A round-robin pool of three supervised workers squares the numbers in parallel.
          const squarers = routing.pool<number, number>({ receive: (n) => n * n }, { strategy: 'round-robin', size: 3, name: 'squarers' });
          const squares = await Promise.all(ctx.options.numbers.map((n) => squarers.ask(n, { timeoutMs: 1000 })));
          ctx.logger.info({ squares, pool: 3 }, 'the squarer pool answered');

          // An LLM agent (scripted here, offline) that acts through the same tool.
          const run = await agents.run('calculator', 'add 2 and 3');
          ctx.logger.info({ runId: run.runId, output: run.output, usage: run.usage }, 'the calculator agent replied');

          const denied = await tools.call(AGENT, 'fs.read', { path: 'secret.txt' }).then(
            () => 'allowed',
            (error: { code?: string }) => error.code,
          );
          ctx.logger.info({ denied }, 'fs.read without a grant is refused');

          const health = (await (await fetch(`${http.url}/healthz`)).json()) as { status: string };
          const metrics = await (await fetch(`${http.url}/metrics`)).text();
          const series = metrics.split('\n').filter((line) => line.startsWith('mister_smith_')).length;
          await events.publish({ type: 'quickstart.finished', source: AGENT, data: { sum, health: health.status } });
          await subscription.unsubscribe();
          ctx.logger.info({ health: health.status, metricSeries: series, toolEvents: seen.length, url: http.url }, 'quickstart done');
        })(),
        'quickstart',
      );
    });
  },
});
