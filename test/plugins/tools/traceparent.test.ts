/**
 * Trace context on tool calls: `CallOptions.traceparent` is validated with the other options, the
 * handler (and a middleware, and a resilience attempt) sees it as `ctx.traceparent`, nested calls
 * inherit it unless they pass their own, an actor called as a tool receives it, and the bus's own
 * `tool.*` events carry it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin, z } from '../../../sdk/index.js';
import { TRACEPARENT_PROBLEM } from '../../../sdk/util/index.js';
import { createTestKernel } from '../../../testing/index.js';
import type { EventBus, EventInput, StoredEvent } from '../../../plugins/events/types.js';
import tools, { ToolBus, type CallOptions, type ToolCallMessage, type ToolContext } from '../../../plugins/tools/index.js';
import resilience from '../../../plugins/resilience/index.js';

type Coded = Error & { code: string; context: Record<string, unknown> };

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

/** A stand-in for the events plugin that keeps what was published (the real one stores `traceparent` too). */
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

/** What a handler saw of its context: the value, and whether the context holds it as an own property. */
const seen = (ctx: ToolContext) => ({ traceparent: ctx.traceparent, own: Object.hasOwn(ctx, 'traceparent') });

test('a malformed traceparent is TOOL_INVALID_OPTIONS naming the option, with the W3C rule; the handler never runs', async () => {
  const bus = new ToolBus();
  let runs = 0;
  bus.register({ name: 'echo', description: 'd', input: z.unknown(), handler: (i) => (runs++, i) });
  bus.register({ name: 'nest', description: 'd', input: z.unknown(), handler: (_i, ctx) => ctx.call('echo', 1, { traceparent: 'nope' }) });
  bus.grant('a', '*');
  const bad: unknown[] = [
    '',
    'nope',
    42,
    null,
    { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
    TP.toUpperCase(), // uppercase hex
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero span id
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
    `${TP}-extra`, // version 00 has exactly four fields
    `${TP}\r\nx-injected: 1`,
  ];
  for (const traceparent of bad) {
    await assert.rejects(bus.call('a', 'echo', 1, { traceparent } as CallOptions), (e: Coded) => {
      assert.equal(e.code, 'TOOL_INVALID_OPTIONS', JSON.stringify(traceparent));
      assert.equal(e.context.option, 'traceparent');
      assert.ok(e.message.includes('traceparent'), e.message);
      assert.ok(e.message.includes(TRACEPARENT_PROBLEM), e.message);
      return true;
    });
  }
  // A nested call's options are checked the same way.
  await assert.rejects(bus.call('a', 'nest', 1), (e: Coded) => e.code === 'TOOL_INVALID_OPTIONS' && e.context.option === 'traceparent');
  assert.equal(runs, 0);
  // A later version may append fields (W3C forward compatibility): accepted as given.
  const v1 = 'cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-bring';
  assert.equal(await bus.call('a', 'echo', 1, { traceparent: v1 }), 1);
});

test('the handler sees ctx.traceparent; an untraced call has no such property', async () => {
  const bus = new ToolBus();
  bus.register({ name: 'look', description: 'd', input: z.object({}), handler: (_i, ctx) => seen(ctx) });
  bus.register({ name: 'look.async', description: 'd', input: z.object({}), handler: async (_i, ctx) => seen(ctx) });
  bus.grant('a', '*');
  for (const tool of ['look', 'look.async']) {
    assert.deepEqual(await bus.call('a', tool, {}, { traceparent: TP }), { traceparent: TP, own: false }, tool);
    assert.deepEqual(await bus.call('a', tool, {}), { traceparent: undefined, own: false }, tool);
    assert.deepEqual(await bus.call('a', tool, {}, { timeoutMs: 1_000 }), { traceparent: undefined, own: false }, tool);
  }
});

test('a nested ctx.call inherits the traceparent unless it passes its own, at every depth', async () => {
  const bus = new ToolBus();
  bus.register({ name: 'leaf', description: 'd', input: z.object({}), handler: (_i, ctx) => ctx.traceparent ?? null });
  bus.register({
    name: 'mid',
    description: 'd',
    input: z.object({ own: z.string().optional() }),
    handler: async (i, ctx) => ({
      mid: ctx.traceparent ?? null,
      inherited: await ctx.call('leaf', {}),
      passed: await ctx.call('leaf', {}, i.own === undefined ? {} : { traceparent: i.own }),
    }),
  });
  bus.register({ name: 'top', description: 'd', input: z.object({}), handler: (_i, ctx) => ctx.call('mid', { own: OTHER }) });
  bus.grant('a', '*');
  assert.deepEqual(await bus.call('a', 'mid', {}, { traceparent: TP }), { mid: TP, inherited: TP, passed: TP });
  assert.deepEqual(await bus.call('a', 'mid', { own: OTHER }, { traceparent: TP }), { mid: TP, inherited: TP, passed: OTHER });
  // Untraced all the way down unless a nested call starts its own.
  assert.deepEqual(await bus.call('a', 'mid', {}), { mid: null, inherited: null, passed: null });
  assert.deepEqual(await bus.call('a', 'mid', { own: OTHER }), { mid: null, inherited: null, passed: OTHER });
  // Two levels down: `top` → `mid` (inherits TP) → `leaf`.
  assert.deepEqual(await bus.call('a', 'top', {}, { traceparent: TP }), { mid: TP, inherited: TP, passed: OTHER });
});

test('a middleware sees the call’s traceparent', async () => {
  const bus = new ToolBus();
  bus.register({ name: 'echo', description: 'd', input: z.object({}), handler: () => 'ok' });
  bus.grant('a', '*');
  const saw: Array<string | undefined> = [];
  bus.use(async (ctx, next) => {
    saw.push(ctx.traceparent);
    await next();
  });
  await bus.call('a', 'echo', {}, { traceparent: TP });
  await bus.call('a', 'echo', {});
  assert.deepEqual(saw, [TP, undefined]);
});

test('a handler run by a resilience policy sees the traceparent on every attempt', async (t) => {
  const kernel = await createTestKernel({
    test: t,
    plugins: [
      { use: resilience, options: { policies: { twice: { retry: { maxAttempts: 2, backoff: { initialMs: 1, jitter: 0 } } } } } },
      { use: tools, options: { grants: { a: ['*'] } } },
    ],
  });
  const bus = kernel.resolve('tools');
  const attempts: Array<string | undefined> = [];
  bus.register({
    name: 'net.get',
    description: 'd',
    input: z.object({}),
    policy: 'twice',
    handler: (_i, ctx) => {
      attempts.push(ctx.traceparent);
      if (attempts.length === 1) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'ok';
    },
  });
  assert.equal(await bus.call('a', 'net.get', {}, { traceparent: TP }), 'ok');
  assert.deepEqual(attempts, [TP, TP]);
});

test('tool.called, tool.failed, tool.denied (permission and approval) and a replay carry the traceparent; untraced events have none', async (t) => {
  const events = recordingEvents();
  const kernel = await createTestKernel({ test: t, plugins: [{ use: tools, options: { grants: { a: ['ok', 'bad', 'guarded', 'outer'] } } }, events.plugin] });
  const bus = kernel.resolve('tools');
  bus.register({ name: 'ok', description: 'd', input: z.object({}), handler: () => 1 });
  bus.register({ name: 'bad', description: 'd', input: z.object({}), handler: () => { throw new Error('nope'); } });
  bus.register({ name: 'secret', description: 'd', input: z.object({}), handler: () => 1 });
  bus.register({ name: 'guarded', description: 'd', input: z.object({}), needsApproval: true, handler: () => 1 });
  // A nested call denied by permissions: its event carries the inherited traceparent.
  bus.register({ name: 'outer', description: 'd', input: z.object({}), handler: (_i, ctx) => ctx.call('secret', {}).catch(() => 'denied') });
  bus.hooks.approve.tap('guard', (req) => (req.tool === 'guarded' ? ('deny' as const) : undefined));

  await bus.call('a', 'ok', {}, { traceparent: TP, callId: 'c1' });
  await bus.call('a', 'ok', {}, { traceparent: OTHER, callId: 'c1' }); // replayed: the replaying call's own trace
  await bus.call('a', 'bad', {}, { traceparent: TP }).catch(() => undefined);
  await bus.call('a', 'secret', {}, { traceparent: TP }).catch(() => undefined);
  await bus.call('a', 'guarded', {}, { traceparent: TP }).catch(() => undefined);
  await bus.call('a', 'outer', {}, { traceparent: OTHER });
  await bus.call('a', 'ok', {});
  await bus.call('a', 'bad', {}).catch(() => undefined);
  await bus.call('a', 'secret', {}).catch(() => undefined);

  const calls = events.published.filter((e) => e.type !== 'tool.registered');
  const summary = calls.map((e) => [e.type, e.subject, e.traceparent ?? null, (e.data as { replayed?: boolean }).replayed ?? false]);
  assert.deepEqual(summary, [
    ['tool.called', 'ok', TP, false],
    ['tool.called', 'ok', OTHER, true],
    ['tool.failed', 'bad', TP, false],
    ['tool.denied', 'secret', TP, false],
    ['tool.denied', 'guarded', TP, false],
    ['tool.denied', 'secret', OTHER, false],
    ['tool.called', 'outer', OTHER, false],
    ['tool.called', 'ok', null, false],
    ['tool.failed', 'bad', null, false],
    ['tool.denied', 'secret', null, false],
  ]);
  // Absent means absent: no `traceparent: undefined` key for the store to keep.
  for (const e of calls.slice(7)) assert.equal(Object.hasOwn(e, 'traceparent'), false, e.type);
});

test('an actor called as a tool gets the traceparent in its message, and passes it on to its own calls', async (t) => {
  const kernel = await createTestKernel({
    test: t,
    plugins: ['supervision', 'actors', { use: 'tools', options: { grants: { alice: ['agent.bob', 'leaf'], bob: ['leaf'] } } }],
  });
  const bus = kernel.resolve('tools');
  const actors = kernel.resolve('actors');
  bus.register({ name: 'leaf', description: 'd', input: z.object({}), handler: (_i, ctx) => ctx.traceparent ?? null });
  const bob = actors.spawn<ToolCallMessage<Record<string, never>>, unknown>(
    {
      async receive(msg) {
        const options = msg.traceparent === undefined ? { delegation: msg.delegation } : { delegation: msg.delegation, traceparent: msg.traceparent };
        return { has: 'traceparent' in msg, leaf: await bus.call('bob', 'leaf', {}, options) };
      },
    },
    { name: 'bob' },
  );
  bus.agentAsTool(bob, { name: 'agent.bob', description: 'bob', input: z.object({}), timeoutMs: 5_000 });
  assert.deepEqual(await bus.call('alice', 'agent.bob', {}, { traceparent: TP }), { has: true, leaf: TP });
  assert.deepEqual(await bus.call('alice', 'agent.bob', {}), { has: false, leaf: null });
});
