/**
 * The shop node: asks the warehouse's `stock` actor, calls its `stock.reserve` tool, and starts
 * `clerk` agent runs that either node may drive (distributed runs), then publishes what it did on
 * the event log both nodes share.
 */
import { definePlugin, z } from '../../sdk/index.js';
import { sleep } from '../../sdk/util/index.js';
import type {} from '../../plugins/actors/types.js';
import type {} from '../../plugins/agents/types.js';
import type {} from '../../plugins/events/types.js';
import type {} from '../../plugins/tools/types.js';
import type {} from '../../plugins/transport-nats/types.js';

export default definePlugin({
  name: 'shop',
  version: '1.0.0',
  dependsOn: ['actors', 'tools', 'agents', 'events', 'nats'],
  options: z.object({ orders: z.number().int().positive().default(3) }),
  setup(ctx) {
    const actors = ctx.resolve('actors');
    const tools = ctx.resolve('tools');
    const agents = ctx.resolve('agents');
    const events = ctx.resolve('events');
    const nats = ctx.resolve('nats');
    ctx.onStart(() => {
      ctx.track(
        (async () => {
          // The warehouse may still be starting: look for its tools until they show up.
          while (!tools.has('stock.reserve')) {
            await nats.importTools('stock.*');
            if (!tools.has('stock.reserve')) await sleep(250, ctx.signal);
          }
          const stock = actors.remote<{ op: 'level'; sku: string }, { sku: string; level: number }>('stock', { timeoutMs: 2000 });
          ctx.logger.info(await stock.ask({ op: 'level', sku: 'A-1' }), 'asked the remote stock actor');
          tools.grant('shop', 'stock.*');
          ctx.logger.info(await tools.call('shop', 'stock.reserve', { sku: 'A-1', qty: 2 }), 'called the remote tool stock.reserve');
          try {
            await tools.call('shop', 'stock.reserve', { sku: 'B-2', qty: 99 });
          } catch (error) {
            ctx.logger.info({ code: (error as { code?: string }).code }, `a reservation over the stock fails on the warehouse: ${(error as Error).message}`);
          }
          const runs = [];
          for (let i = 0; i < ctx.options.orders; i++) runs.push((await agents.start('clerk', `order ${i + 1}: reserve one A-1`)).runId);
          const results = await Promise.all(runs.map((runId) => agents.wait(runId)));
          for (const r of results) ctx.logger.info({ runId: r.runId, output: r.output, steps: r.steps }, 'clerk run completed');
          const level = await stock.ask({ op: 'level', sku: 'A-1' });
          await events.publish({ type: 'shop.done', source: 'shop', data: { orders: runs.length, left: level.level } });
          ctx.logger.info({ left: level.level }, `shop done: ${runs.length} orders; ${level.level} of A-1 left`);
        })(),
        'shop',
      );
    });
  },
});
