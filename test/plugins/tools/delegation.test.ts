import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import type { ActorRef, AskOptions } from '../../../plugins/actors/types.js';
import { agentAsTool, ToolBus, type ToolCallMessage, type ToolContext } from '../../../plugins/tools/index.js';

type Coded = Error & { code: string; context: Record<string, unknown> };

/**
 * A stand-in actor: one message at a time, delivered from a queue drained on a microtask, like a
 * mailbox. `receive` gets the message; its return value is the reply.
 */
function fakeActor<M, R>(name: string, receive: (msg: M) => R | Promise<R>): ActorRef<M, R> & { asks: Array<{ msg: M; options: AskOptions | undefined }> } {
  const asks: Array<{ msg: M; options: AskOptions | undefined }> = [];
  let chain = Promise.resolve();
  return {
    id: `id-${name}`,
    name,
    mailboxSize: 0,
    alive: true,
    asks,
    tell() {},
    stop: async () => {},
    ask(msg: M, options?: AskOptions): Promise<R> {
      asks.push({ msg, options });
      const reply = chain.then(() => receive(msg));
      chain = reply.then(() => undefined, () => undefined);
      return reply;
    },
  };
}

function setup(): ToolBus {
  const bus = new ToolBus();
  bus.register({ name: 'fs.read', description: 'd', input: z.object({}), handler: (_i, ctx) => ({ by: ctx.agentId, delegation: ctx.delegation }) });
  bus.register({ name: 'fs.write', description: 'd', input: z.object({}), handler: () => 'written' });
  bus.register({ name: 'net.get', description: 'd', input: z.object({}), handler: () => 'got' });
  return bus;
}

test('a handler-side ctx.call is made for the same agent with the same delegation chain and signal', async () => {
  const bus = setup();
  let outer: ToolContext | undefined;
  bus.register({
    name: 'combo.readTwice',
    description: 'd',
    input: z.object({}),
    handler: async (_i, ctx) => {
      outer = ctx;
      return [await ctx.call('fs.read', {}), await ctx.call('fs.read', {})];
    },
  });
  bus.grant('a', ['combo.*', 'fs.read']);
  bus.grant('boss', ['combo.*', 'fs.read']);
  const result = (await bus.call('a', 'combo.readTwice', {}, { delegation: ['boss'] })) as Array<{ by: string; delegation: string[] }>;
  assert.deepEqual(result, [{ by: 'a', delegation: ['boss'] }, { by: 'a', delegation: ['boss'] }]);
  assert.deepEqual(outer!.delegation, ['boss']);
  // The nested call needs its own grant, for every agent of the chain.
  bus.register({ name: 'combo.write', description: 'd', input: z.object({}), handler: (_i, ctx) => ctx.call('fs.write', {}) });
  await assert.rejects(bus.call('a', 'combo.write', {}), (e: Coded) => e.code === 'TOOL_ACCESS_DENIED' && e.context.tool === 'fs.write');
  bus.grant('a', 'fs.write');
  assert.equal(await bus.call('a', 'combo.write', {}), 'written');
  await assert.rejects(bus.call('a', 'combo.write', {}, { delegation: ['boss'] }), (e: Coded) => {
    assert.equal(e.code, 'TOOL_ACCESS_DENIED');
    assert.equal(e.context.deniedBy, 'boss');
    assert.deepEqual(e.context.delegation, ['boss']);
    return true;
  });
});

test('delegation: an agent acting for a caller gets only the intersection of both grants (explicit chain)', async () => {
  const bus = setup();
  bus.grant('alice', ['agent.bob', 'fs.read', 'net.get']);
  bus.grant('bob', ['fs.*']);
  const calls: Array<{ tool: string; ok: boolean; code?: string; delegation?: readonly string[] }> = [];
  const bob = fakeActor<ToolCallMessage<{ tools: string[] }>, unknown>('bob', async (msg) => {
    for (const tool of msg.input.tools) {
      try {
        const r = (await bus.call('bob', tool, {}, { delegation: msg.delegation })) as { delegation?: readonly string[] };
        calls.push({ tool, ok: true, delegation: r?.delegation });
      } catch (e) {
        calls.push({ tool, ok: false, code: (e as Coded).code });
      }
    }
    return { caller: msg.caller, callId: msg.callId, delegation: msg.delegation };
  });
  bus.agentAsTool(bob, { name: 'agent.bob', description: 'bob does things', input: z.object({ tools: z.array(z.string()) }), timeoutMs: 5_000 });
  const reply = await bus.call('alice', 'agent.bob', { tools: ['fs.read', 'fs.write', 'net.get'] }, { callId: 'call-1' });
  assert.deepEqual(reply, { caller: 'alice', callId: 'call-1', delegation: ['alice'] });
  assert.deepEqual(calls, [
    { tool: 'fs.read', ok: true, delegation: ['alice'] }, // both may
    { tool: 'fs.write', ok: false, code: 'TOOL_ACCESS_DENIED' }, // bob may, alice may not
    { tool: 'net.get', ok: false, code: 'TOOL_ACCESS_DENIED' }, // alice may, bob may not
  ]);
  assert.equal(bob.asks[0]!.options!.timeoutMs, 5_000);
  assert.ok(bob.asks[0]!.options!.signal instanceof AbortSignal);
  // Bob on his own (no delegation) keeps his own rights.
  assert.equal(await bus.call('bob', 'fs.write', {}), 'written');
});

test('delegation is explicit only: a callee that passes no chain acts with its own grants, with no ambient chain', async () => {
  const bus = setup();
  bus.grant('alice', ['agent.bob', 'fs.read']);
  bus.grant('bob', ['fs.*']);
  // Runs receive in the ask's async context: an ambient chain would reach these calls.
  const bob: ActorRef<ToolCallMessage<Record<string, never>>, unknown> = {
    id: 'b1', name: 'bob', mailboxSize: 0, alive: true, tell() {}, stop: async () => {},
    async ask(msg) {
      await Promise.resolve();
      const bare = await bus.call('bob', 'fs.read', {});
      const carried = await bus.call('bob', 'fs.write', {}, { delegation: msg.delegation }).then(() => 'ok', (e: Coded) => e.code);
      return { bare, carried };
    },
  };
  agentAsTool(bus, bob, { name: 'agent.bob', description: 'd', input: z.object({}) });
  assert.deepEqual(await bus.call('alice', 'agent.bob', {}), { bare: { by: 'bob', delegation: [] }, carried: 'TOOL_ACCESS_DENIED' });
});

test('chains grow through nested agents and are cut at maxDelegationDepth', async () => {
  const bus = new ToolBus({ maxDelegationDepth: 1 });
  bus.grant('*', '*');
  const seen: Array<readonly string[]> = [];
  // Each agent calls the next; the chain is visible in each message.
  const hop = (self: string, next: string | undefined) =>
    fakeActor<ToolCallMessage<Record<string, never>>, unknown>(self, async (msg) => {
      seen.push(msg.delegation);
      return next === undefined ? 'done' : bus.call(self, `agent.${next}`, {}, { delegation: msg.delegation });
    });
  bus.agentAsTool(hop('b', 'c'), { name: 'agent.b', description: 'd', input: z.object({}) });
  bus.agentAsTool(hop('c', undefined), { name: 'agent.c', description: 'd', input: z.object({}) });
  assert.equal(await bus.call('a', 'agent.b', {}), 'done');
  assert.deepEqual(seen, [['a'], ['a', 'b']]);
  bus.agentAsTool(hop('d', 'b'), { name: 'agent.d', description: 'd', input: z.object({}) });
  await assert.rejects(bus.call('x', 'agent.d', {}), (e: Coded) => e.code === 'TOOL_ACCESS_DENIED' && /delegation chain is longer than 1/.test(e.message));
});

test('agentAsTool validates input and output like any tool, and a failing actor is TOOL_FAILED', async () => {
  const bus = new ToolBus();
  bus.grant('a', 'agent.*');
  const calc = fakeActor<ToolCallMessage<{ a: number; b: number }>, { sum: number }>('calc', (msg) => (msg.input.a < 0 ? Promise.reject(new Error('negative')) : { sum: msg.input.a + msg.input.b }));
  const dispose = bus.agentAsTool(calc, { name: 'agent.calc', description: 'adds', input: z.object({ a: z.number(), b: z.number() }), output: z.object({ sum: z.number() }) });
  assert.deepEqual(await bus.call('a', 'agent.calc', { a: 2, b: 3 }), { sum: 5 });
  await assert.rejects(bus.call('a', 'agent.calc', { a: 'x', b: 3 }), { code: 'TOOL_INVALID_INPUT' });
  await assert.rejects(bus.call('a', 'agent.calc', { a: -1, b: 3 }), { code: 'TOOL_FAILED' });
  assert.deepEqual(bus.list('a').map((t) => t.name), ['agent.calc']);
  await dispose();
  assert.equal(bus.has('agent.calc'), false);
});
