/**
 * The warehouse node: keeps the stock in an actor exposed to the other nodes (`stock`), and serves
 * the tool `stock.reserve` (backed by that actor) to them.
 */
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../../plugins/actors/types.js';
import type {} from '../../plugins/tools/types.js';
import type {} from '../../plugins/transport-nats/types.js';

type StockMessage = { readonly op: 'level'; readonly sku: string } | { readonly op: 'reserve'; readonly sku: string; readonly qty: number };
type StockReply = { readonly sku: string; readonly level: number; readonly refused?: string };

export default definePlugin({
  name: 'warehouse',
  version: '1.0.0',
  dependsOn: ['actors', 'tools', 'nats'],
  options: z.object({ stock: z.record(z.string(), z.number().int().nonnegative()).default({ 'A-1': 10, 'B-2': 3 }) }),
  setup(ctx) {
    const actors = ctx.resolve('actors');
    const tools = ctx.resolve('tools');
    const nats = ctx.resolve('nats');
    ctx.onStart(async () => {
      const stock = actors.spawn<StockMessage, StockReply, Record<string, number>>(
        {
          init: () => ({ ...ctx.options.stock }),
          receive(m, actor) {
            const level = actor.state[m.sku] ?? 0;
            if (m.op === 'reserve') {
              // A refusal is a reply, not a throw: a throw would crash (and restart) the actor.
              if (m.qty > level) return { sku: m.sku, level, refused: `only ${level} of ${m.sku} left` };
              actor.state = { ...actor.state, [m.sku]: level - m.qty };
            }
            return { sku: m.sku, level: actor.state[m.sku] ?? 0 };
          },
        },
        { name: 'stock', expose: true },
      );
      tools.register({
        name: 'stock.reserve',
        description: 'Reserves a quantity of one SKU; returns the level left',
        input: z.object({ sku: z.string(), qty: z.number().int().positive() }),
        handler: async ({ sku, qty }) => {
          const reply = await stock.ask({ op: 'reserve', sku, qty }, { timeoutMs: 2000 });
          if (reply.refused !== undefined) throw new Error(reply.refused);
          return reply;
        },
      });
      // Who may reserve stock is decided here, on the node that owns the tool, whichever node
      // the call comes from.
      tools.grant('clerk', 'stock.*');
      tools.grant('shop', 'stock.*');
      await nats.exposeTools('stock.*');
      ctx.logger.info('warehouse ready: actor stock and tool stock.reserve exposed');
    });
  },
});
