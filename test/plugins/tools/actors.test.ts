/** agent-as-tool with the real actors plugin: delegation through an actor's mailbox. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import type { ToolCallMessage } from '../../../plugins/tools/index.js';

type Coded = Error & { code: string; context: Record<string, unknown> };

async function kernelWithActors(t: { after(fn: () => unknown): void }) {
  const kernel = await createTestKernel({
    test: t,
    plugins: ['supervision', 'actors', { use: 'tools', options: { grants: { alice: ['agent.bob', 'fs.read'], bob: ['fs.*'] } } }],
  });
  const tools = kernel.resolve('tools');
  tools.register({ name: 'fs.read', description: 'd', input: z.object({}), handler: (_i, ctx) => ({ by: ctx.agentId, delegation: ctx.delegation }) });
  tools.register({ name: 'fs.write', description: 'd', input: z.object({}), handler: () => 'written' });
  return { kernel, tools, actors: kernel.resolve('actors') };
}

test('an actor called as a tool acts with the intersection of its and the caller’s grants (chain passed from the message)', async (t) => {
  const { tools, actors } = await kernelWithActors(t);
  const bob = actors.spawn<ToolCallMessage<{ tool: string }>, unknown>(
    {
      async receive(msg) {
        const result = await tools.call('bob', msg.input.tool, {}, { delegation: msg.delegation }).catch((e: Coded) => e.code);
        return { caller: msg.caller, delegation: msg.delegation, result };
      },
    },
    { name: 'bob' },
  );
  tools.agentAsTool(bob, { name: 'agent.bob', description: 'bob', input: z.object({ tool: z.string() }), timeoutMs: 2_000 });
  assert.deepEqual(await tools.call('alice', 'agent.bob', { tool: 'fs.read' }), {
    caller: 'alice',
    delegation: ['alice'],
    result: { by: 'bob', delegation: ['alice'] },
  });
  assert.deepEqual(await tools.call('alice', 'agent.bob', { tool: 'fs.write' }), { caller: 'alice', delegation: ['alice'], result: 'TOOL_ACCESS_DENIED' });
  assert.equal(await tools.call('bob', 'fs.write', {}), 'written');
});

test('the tool call deadline ends an ask the actor never answers', async (t) => {
  const { tools, actors } = await kernelWithActors(t);
  const slow = actors.spawn<ToolCallMessage<Record<string, never>>, unknown>({ receive: () => new Promise(() => {}) }, { name: 'slow' });
  tools.agentAsTool(slow, { name: 'agent.bob', description: 'never answers', input: z.object({}), timeoutMs: 30 });
  await assert.rejects(tools.call('alice', 'agent.bob', {}), { code: 'TOOL_TIMEOUT' });
});

test('overlapping callers through a busy mailbox: each request runs with its own chain only, never another caller’s', async (t) => {
  const { tools, actors } = await kernelWithActors(t);
  tools.grant('carol', ['agent.bob', 'fs.*']);
  tools.grant('alice', 'fs.read');
  let unblock: () => void = () => {};
  const blocked = new Promise<void>((r) => (unblock = r));
  const bob = actors.spawn<ToolCallMessage<{ n: number; block?: boolean }>, unknown>(
    {
      async receive(msg) {
        if (msg.input.block === true) await blocked;
        // The chain of *this* message, passed explicitly; and a call that passes none.
        const explicit = (await tools.call('bob', 'fs.read', {}, { delegation: msg.delegation })) as { delegation: readonly string[] };
        const bare = (await tools.call('bob', 'fs.read', {})) as { delegation: readonly string[] };
        return { caller: msg.caller, explicit: explicit.delegation, bare: bare.delegation };
      },
    },
    { name: 'bob', mailbox: { capacity: 100 } },
  );
  tools.agentAsTool(bob, { name: 'agent.bob', description: 'bob', input: z.object({ n: z.number(), block: z.boolean().optional() }), timeoutMs: 10_000 });
  // Carol's first request keeps bob busy while both callers' requests queue up behind it.
  const first = tools.call('carol', 'agent.bob', { n: 0, block: true });
  const pending: Array<Promise<unknown>> = [];
  for (let n = 1; n <= 20; n++) pending.push(tools.call(n % 2 === 0 ? 'carol' : 'alice', 'agent.bob', { n }));
  unblock();
  const replies = (await Promise.all([first, ...pending])) as Array<{ caller: string; explicit: readonly string[]; bare: readonly string[] }>;
  for (const r of replies) {
    assert.deepEqual(r.explicit, [r.caller], `a request of ${r.caller} ran with chain ${JSON.stringify(r.explicit)}`);
    // No ambient chain: a call that passes none is made with bob's own chain (empty), never a caller's.
    assert.deepEqual(r.bare, []);
  }
  assert.equal(replies.filter((r) => r.caller === 'alice').length, 10);
});
