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

test('an actor that forgets to pass the chain is still limited when its receive runs in the ask’s async context', async (t) => {
  const { tools, actors } = await kernelWithActors(t);
  const bob = actors.spawn<ToolCallMessage<Record<string, never>>, unknown>(
    { receive: () => tools.call('bob', 'fs.write', {}).catch((e: Coded) => e.code) },
    { name: 'bob' },
  );
  tools.agentAsTool(bob, { name: 'agent.bob', description: 'bob', input: z.object({}) });
  // Best effort (see README): holds here because the ask starts the actor system's drain.
  assert.equal(await tools.call('alice', 'agent.bob', {}), 'TOOL_ACCESS_DENIED');
});

test('the tool call deadline ends an ask the actor never answers', async (t) => {
  const { tools, actors } = await kernelWithActors(t);
  const slow = actors.spawn<ToolCallMessage<Record<string, never>>, unknown>({ receive: () => new Promise(() => {}) }, { name: 'slow' });
  tools.agentAsTool(slow, { name: 'agent.bob', description: 'never answers', input: z.object({}), timeoutMs: 30 });
  await assert.rejects(tools.call('alice', 'agent.bob', {}), { code: 'TOOL_TIMEOUT' });
});
