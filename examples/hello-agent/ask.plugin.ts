/** Asks one agent one question when the system starts, and prints what it did and what it said. */
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../../plugins/agents/types.js';

export default definePlugin({
  name: 'ask',
  version: '1.0.0',
  dependsOn: ['agents'],
  options: z.object({ agent: z.string(), question: z.string() }),
  setup(ctx) {
    const agents = ctx.resolve('agents');
    ctx.onStart(() => {
      ctx.track(
        agents.run(ctx.options.agent, ctx.options.question).then((run) => {
          const out = process.stdout;
          out.write(`you:       ${ctx.options.question}\n`);
          for (const step of run.steps) {
            if (step.type === 'tool') out.write(`  tool     ${step.name}(${JSON.stringify(step.input)}) → ${JSON.stringify(step.output ?? step.error)}\n`);
          }
          out.write(`${ctx.options.agent}: ${String(run.output)}\n`);
          out.write(`  (${run.usage.turns} model turns, ${run.usage.toolCalls} tool call, ${run.usage.totalTokens} tokens)\n`);
        }),
        'ask',
      );
    });
  },
});
