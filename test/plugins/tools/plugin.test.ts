import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin, z } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import type { EventBus, EventInput, StoredEvent } from '../../../plugins/events/types.js';
import tools from '../../../plugins/tools/index.js';
import resilience from '../../../plugins/resilience/index.js';

/** A stand-in for the events plugin that keeps what was published. */
function recordingEvents(): { plugin: ReturnType<typeof definePlugin>; published: EventInput[] } {
  const published: EventInput[] = [];
  let sequence = 0;
  const bus = {
    async publish<D>(input: EventInput<D>): Promise<StoredEvent<D>> {
      published.push(input);
      return { ...input, id: String(++sequence), time: new Date().toISOString(), sequence, data: input.data as D };
    },
    subscribe: () => ({ unsubscribe: async () => {} }),
  } as unknown as EventBus;
  return { plugin: definePlugin({ name: 'events', version: '1.0.0', setup: (ctx) => void ctx.provide('events', bus) }), published };
}

test('the tools plugin passes the conformance check with defaults and after calls in flight', async () => {
  await checkPluginConformance(tools);
  await checkPluginConformance(tools, {
    options: { grants: { a: ['*'] } },
    exercise: async (kernel) => {
      const bus = kernel.resolve('tools');
      bus.register({ name: 'slow', description: 'd', input: z.object({}), handler: () => new Promise<never>(() => {}) });
      const pending = bus.call('a', 'slow', {});
      pending.catch(() => undefined);
      await bus.call('a', 'slow', {}, { timeoutMs: 5 }).catch(() => undefined);
    },
  });
});

test('{} validates and gives the documented defaults', () => {
  const parsed = tools.options!.parse({});
  assert.deepEqual(parsed, {
    defaultTimeoutMs: 30_000,
    grants: {},
    deny: {},
    idempotency: { capacity: 10_000, ttlMs: 600_000 },
    tools: {},
    maxDelegationDepth: 8,
    latencySampleEvery: 8,
  });
  assert.equal(tools.options!.safeParse({ grants: { a: ['fs*'] } }).success, false);
});

test('grants, denies and per-tool timeouts come from the config file', async (t) => {
  const kernel = await createTestKernel({
    test: t,
    plugins: [{ use: tools, options: { grants: { alice: ['fs.*'], '*': ['echo'] }, deny: { alice: ['fs.write'] }, tools: { 'fs.read': { timeoutMs: 20 } } } }],
  });
  const bus = kernel.resolve('tools');
  bus.register({ name: 'fs.read', description: 'd', input: z.object({}), timeoutMs: 60_000, handler: () => new Promise<never>(() => {}) });
  bus.register({ name: 'fs.write', description: 'd', input: z.object({}), handler: () => 'w' });
  bus.register({ name: 'echo', description: 'd', input: z.object({}), handler: () => 'e' });
  assert.deepEqual(bus.permissions.of('alice'), { grants: ['fs.*'], deny: ['fs.write'] });
  await assert.rejects(bus.call('alice', 'fs.read', {}), { code: 'TOOL_TIMEOUT' });
  await assert.rejects(bus.call('alice', 'fs.write', {}), { code: 'TOOL_ACCESS_DENIED' });
  assert.equal(await bus.call('bob', 'echo', {}), 'e');
});

test('events: tool.called, tool.failed and tool.denied carry correlation ids when events is loaded', async (t) => {
  const events = recordingEvents();
  const kernel = await createTestKernel({ test: t, plugins: [{ use: tools, options: { grants: { a: ['ok', 'bad'] } } }, events.plugin] });
  const bus = kernel.resolve('tools');
  bus.register({ name: 'ok', description: 'd', input: z.object({}), handler: () => 1 });
  bus.register({ name: 'bad', description: 'd', input: z.object({}), handler: () => { throw new Error('nope'); } });
  bus.register({ name: 'secret', description: 'd', input: z.object({}), handler: () => 1 });
  await bus.call('a', 'ok', {}, { callId: 'c1', correlationId: 'run-7' });
  await bus.call('a', 'bad', {}, { callId: 'c2' }).catch(() => undefined);
  await bus.call('a', 'secret', {}, { correlationId: 'run-8' }).catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  const byType = (type: string) => events.published.filter((e) => e.type === type);
  const called = byType('tool.called')[0]!;
  assert.equal(called.source, 'tools');
  assert.equal(called.subject, 'ok');
  assert.equal(called.correlationId, 'run-7');
  assert.equal((called.data as { callId: string }).callId, 'c1');
  const failed = byType('tool.failed')[0]!;
  assert.equal(failed.correlationId, 'c2');
  assert.equal((failed.data as { code: string }).code, 'TOOL_FAILED');
  const denied = byType('tool.denied')[0]!;
  assert.equal(denied.subject, 'secret');
  assert.equal(denied.correlationId, 'run-8');
  assert.equal((denied.data as { agentId: string }).agentId, 'a');
  assert.equal(byType('tool.registered').length, 3);
});

test('metrics: tool_calls_total by tool and outcome, and tool_call_duration_seconds by tool', async (t) => {
  const kernel = await createTestKernel({ test: t, plugins: [{ use: tools, options: { grants: { a: ['*'] }, latencySampleEvery: 1 } }] });
  const bus = kernel.resolve('tools');
  bus.register({ name: 'ok', description: 'd', input: z.object({ fail: z.boolean() }), handler: (i) => { if (i.fail) throw new Error('x'); return 1; } });
  await bus.call('a', 'ok', { fail: false });
  await bus.call('a', 'ok', { fail: false });
  await bus.call('a', 'ok', { fail: true }).catch(() => undefined);
  await bus.call('b', 'ok', { fail: false }).catch(() => undefined);
  const m = kernel.recordedMetrics;
  assert.equal(m.value('tool_calls_total', { tool: 'ok', outcome: 'ok' }), 2);
  assert.equal(m.value('tool_calls_total', { tool: 'ok', outcome: 'error' }), 1);
  assert.equal(m.value('tool_calls_total', { tool: 'ok', outcome: 'denied' }), 1);
  assert.equal(m.observations('tool_call_duration_seconds', { tool: 'ok' }).length, 3);
});

test('a per-tool resilience policy from the config retries the handler', async (t) => {
  const kernel = await createTestKernel({
    test: t,
    plugins: [
      { use: resilience, options: { policies: { flaky: { retry: { maxAttempts: 3, backoff: { initialMs: 1, jitter: 0 } } } } } },
      { use: tools, options: { grants: { a: ['*'] }, tools: { 'net.get': { policy: 'flaky' } } } },
    ],
  });
  const bus = kernel.resolve('tools');
  let attempts = 0;
  bus.register({
    name: 'net.get',
    description: 'd',
    input: z.object({}),
    handler: (_i, ctx) => {
      assert.ok(ctx.signal instanceof AbortSignal);
      if (++attempts < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'body';
    },
  });
  assert.equal(await bus.call('a', 'net.get', {}), 'body');
  assert.equal(attempts, 3);
  bus.register({ name: 'other', description: 'd', input: z.object({}), policy: 'no-such-policy', handler: () => 1 });
  await assert.rejects(bus.call('a', 'other', {}), (e: Error & { code: string; cause?: { code?: string } }) => e.code === 'TOOL_FAILED' && e.cause?.code === 'RESILIENCE_UNKNOWN_POLICY');
});

test('without the resilience plugin a named policy is skipped with a warning, not an error', async (t) => {
  const kernel = await createTestKernel({ test: t, plugins: [{ use: tools, options: { grants: { a: ['*'] } } }] });
  const bus = kernel.resolve('tools');
  bus.register({ name: 'x', description: 'd', input: z.object({}), policy: 'flaky', handler: () => 1 });
  assert.equal(await bus.call('a', 'x', {}), 1);
});

test('stopping the kernel cancels calls in flight', async () => {
  const kernel = await createTestKernel({ plugins: [{ use: tools, options: { grants: { a: ['*'] } } }] });
  const bus = kernel.resolve('tools');
  bus.register({ name: 'wait', description: 'd', input: z.object({}), handler: () => new Promise<never>(() => {}) });
  const call = bus.call('a', 'wait', {});
  await new Promise((r) => setImmediate(r));
  await kernel.stop();
  await assert.rejects(call, { code: 'TOOL_CANCELLED' });
});
