/**
 * A traced tool call crosses nodes with its trace context: the proxy sends the call's `traceparent`
 * as a NATS header and the owning node's handler sees it as `ctx.traceparent`. An untraced call sends
 * no header; a malformed header (not from one of our nodes) is ignored and the call runs untraced.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, headers } from '@nats-io/transport-node';
import { z } from '../../../sdk/index.js';
import type { ToolBus } from '../../../plugins/tools/types.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { natsKernel } from './helpers.js';

const opts = skipWithoutNats();
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

async function node(t: Parameters<typeof natsKernel>[0], url: string) {
  const { kernel, nats } = await natsKernel(t, url, { system: 'tp', discoveryStallMs: 100 }, ['tools']);
  return { kernel, nats, tools: kernel.resolve<ToolBus>('tools') };
}

test('the owner of a remote tool sees the caller’s traceparent; an untraced call stays untraced', opts, async (t) => {
  const server = await startNats(t);
  const owner = await node(t, server.url);
  owner.tools.register({ name: 'trace.look', description: 'What trace the call is in', input: z.object({}), handler: (_i, ctx) => ctx.traceparent ?? null });
  owner.tools.grant('alice', 'trace.*');
  await owner.nats.exposeTools('trace.*');

  const caller = await node(t, server.url);
  assert.deepEqual(await caller.nats.importTools(), ['trace.look']);
  caller.tools.grant('alice', 'trace.*');
  caller.tools.register({ name: 'local.wrap', description: 'd', input: z.object({}), handler: (_i, ctx) => ctx.call('trace.look', {}) });
  caller.tools.grant('alice', 'local.*');

  assert.equal(await caller.tools.call('alice', 'trace.look', {}, { traceparent: TP }), TP);
  assert.equal(await caller.tools.call('alice', 'trace.look', {}), null);
  // A nested call through the proxy carries the inherited trace context too.
  assert.equal(await caller.tools.call('alice', 'local.wrap', {}, { traceparent: TP }), TP);

  // A request from outside with a malformed header: ignored (W3C: a receiver that cannot parse it
  // starts afresh), the call itself goes through.
  const raw = await connect({ servers: server.url });
  t.after(() => raw.close());
  const h = headers();
  h.set('traceparent', 'not-a-traceparent');
  const body = new TextEncoder().encode(JSON.stringify({ v: 1, agent: 'alice', input: {} }));
  const reply = await raw.request('ms.v1.tp.tool.trace.look', body, { timeout: 10_000, headers: h });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(reply.data)), { v: 1, ok: true, r: null });
  const good = headers();
  good.set('traceparent', TP);
  const traced = await raw.request('ms.v1.tp.tool.trace.look', body, { timeout: 10_000, headers: good });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(traced.data)), { v: 1, ok: true, r: TP });
});
