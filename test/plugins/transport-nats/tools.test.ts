import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import type { ToolBus } from '../../../plugins/tools/types.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { natsKernel } from './helpers.js';

const opts = skipWithoutNats();

async function node(t: Parameters<typeof natsKernel>[0], url: string, options: Record<string, unknown> = {}) {
  const { kernel, nats } = await natsKernel(t, url, { system: 'tl', discoveryStallMs: 100, ...options }, ['tools']);
  return { kernel, nats, tools: kernel.resolve<ToolBus>('tools') };
}

test('a node calls a tool another node exposes; the owner checks its grants for the calling agent and delegation', opts, async (t) => {
  const server = await startNats(t);
  const owner = await node(t, server.url);
  const calls: Array<{ agent: string; delegation: readonly string[]; callId: string }> = [];
  owner.tools.register({
    name: 'math.add',
    description: 'Adds two numbers',
    input: z.object({ a: z.number(), b: z.number() }),
    handler: ({ a, b }, ctx) => {
      calls.push({ agent: ctx.agentId, delegation: ctx.delegation, callId: ctx.callId });
      return a + b;
    },
  });
  owner.tools.register({ name: 'secret.read', description: 'not exposed', input: z.object({}), handler: () => 'secret' });
  owner.tools.grant('alice', 'math.*');
  owner.tools.grant('boss', 'math.*');
  await owner.nats.exposeTools('math.*');

  const caller = await node(t, server.url);
  const imported = await caller.nats.importTools();
  assert.deepEqual(imported, ['math.add'], 'only exposed tools are seen');
  caller.tools.grant('alice', 'math.*');
  caller.tools.grant('bob', 'math.*');
  caller.tools.grant('boss', 'math.*');
  const listed = caller.tools.list('alice');
  assert.equal(listed.length, 1);
  assert.equal(listed[0]!.name, 'math.add');

  assert.equal(await caller.tools.call('alice', 'math.add', { a: 2, b: 3 }, { callId: 'call-1' }), 5);
  assert.deepEqual(calls.at(-1), { agent: 'alice', delegation: [], callId: 'call-1' });
  // bob may call it on his node, but the owner never granted him: denied there.
  await assert.rejects(caller.tools.call('bob', 'math.add', { a: 1, b: 1 }), { code: 'TOOL_ACCESS_DENIED' });
  // boss is granted on both, but acts for bob: the delegation chain is checked on the owner.
  await assert.rejects(caller.tools.call('boss', 'math.add', { a: 1, b: 1 }, { delegation: ['bob'] }), { code: 'TOOL_ACCESS_DENIED' });
  assert.equal(await caller.tools.call('boss', 'math.add', { a: 1, b: 1 }, { delegation: ['alice'] }), 2);
  assert.deepEqual(calls.at(-1)!.delegation, ['alice']);
  // The owner validates the input too.
  await assert.rejects(caller.tools.call('alice', 'math.add', { a: 'x', b: 1 }), { code: 'TOOL_INVALID_INPUT' });
  assert.equal(calls.length, 2, 'denied and invalid calls never ran the handler');
});

test('a remote tool whose owner left fails with NATS_TOOL_UNREACHABLE; bad patterns are refused', opts, async (t) => {
  const server = await startNats(t);
  const owner = await node(t, server.url);
  owner.tools.register({ name: 'echo.say', description: 'Echoes', input: z.object({ text: z.string() }), handler: ({ text }) => text });
  owner.tools.grant('*', '*');
  await owner.nats.exposeTools(['echo.*']);
  const caller = await node(t, server.url);
  caller.tools.grant('*', '*');
  assert.deepEqual(await caller.nats.importTools('echo.*'), ['echo.say']);
  assert.equal(await caller.tools.call('anyone', 'echo.say', { text: 'hi' }), 'hi');
  // Bad input is refused with the owner's validation error (the proxy checks it first when the owner describes its schema).
  await assert.rejects(caller.tools.call('anyone', 'echo.say', { text: 1 }), { code: 'TOOL_INVALID_INPUT' });
  await owner.kernel.stop('owner leaves');
  await assert.rejects(caller.tools.call('anyone', 'echo.say', { text: 'hi' }), { code: 'NATS_TOOL_UNREACHABLE', message: /echo\.say/ });
  await assert.rejects(caller.nats.importTools('bad pattern'), { code: 'NATS_BAD_SUBJECT' });
  await assert.rejects(caller.nats.exposeTools('a..b'), { code: 'NATS_BAD_SUBJECT' });
});

test('exposed patterns are live: a tool registered later is served, one unregistered is not; a node never serves the proxies it imported', opts, async (t) => {
  const server = await startNats(t);
  const owner = await node(t, server.url, { exposeTools: ['late.*'] });
  owner.tools.grant('*', '*');
  // Registered after the node started serving `late.*`.
  const unregisterLate = owner.tools.register({ name: 'late.echo', description: 'Echoes', input: z.object({ text: z.string() }), handler: ({ text }) => `owner: ${text}` });
  owner.tools.register({ name: 'other.echo', description: 'not exposed', input: z.object({}), handler: () => 'no' });
  await owner.nats.client.flush();

  // A relay imports the owner's tools and exposes everything it has: it must not serve its proxies back.
  const relay = await node(t, server.url, { exposeTools: ['*'] });
  relay.tools.grant('*', '*');
  assert.deepEqual(await relay.nats.importTools(), ['late.echo']);

  const caller = await node(t, server.url);
  caller.tools.grant('*', '*');
  assert.deepEqual(await caller.nats.importTools(), ['late.echo']);
  assert.equal(await caller.tools.call('anyone', 'late.echo', { text: 'hi' }), 'owner: hi');

  // Unregistered on the owner: nobody serves it any more — not the relay's proxy, which would
  // answer by calling itself until the deadline.
  await unregisterLate();
  // The owner stops serving at once; the server knows once the UNSUB has reached it.
  await owner.nats.client.flush();
  await assert.rejects(caller.tools.call('anyone', 'late.echo', { text: 'hi' }), { code: 'NATS_TOOL_UNREACHABLE', message: /no node serves it/ });

  // Registered again: served again, under the same live pattern.
  owner.tools.register({ name: 'late.echo', description: 'Echoes', input: z.object({ text: z.string() }), handler: ({ text }) => `owner again: ${text}` });
  await owner.nats.client.flush();
  assert.equal(await caller.tools.call('anyone', 'late.echo', { text: 'hi' }), 'owner again: hi');
});
