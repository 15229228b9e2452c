import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import { ToolBus } from '../../../plugins/tools/index.js';

function counting(bus: ToolBus, name = 'pay'): { runs: () => number; release: () => void } {
  let runs = 0;
  let release: () => void = () => {};
  bus.register({
    name,
    description: 'a side effect',
    input: z.object({ amount: z.number(), slow: z.boolean().default(false), fail: z.boolean().default(false) }),
    handler: async (i) => {
      runs++;
      if (i.slow) await new Promise<void>((r) => (release = r));
      if (i.fail) throw new Error('card declined');
      return { receipt: `r-${runs}`, amount: i.amount };
    },
  });
  return { runs: () => runs, release: () => release() };
}

test('a completed callId replays the stored result without running the handler again', async () => {
  const bus = new ToolBus();
  const h = counting(bus);
  bus.grant('a', '*');
  const first = await bus.call('a', 'pay', { amount: 5 }, { callId: 'order-1' });
  const again = await bus.call('a', 'pay', { amount: 5 }, { callId: 'order-1' });
  assert.deepEqual(again, first);
  assert.equal(h.runs(), 1);
  assert.equal(bus.stats('pay')!.replays, 1);
  await bus.call('a', 'pay', { amount: 5 }, { callId: 'order-2' });
  await bus.call('a', 'pay', { amount: 5 });
  await bus.call('a', 'pay', { amount: 5 });
  assert.equal(h.runs(), 4); // new ids and calls without an id always run
});

test('a concurrent duplicate waits for the first call instead of running twice', async () => {
  const bus = new ToolBus();
  const h = counting(bus);
  bus.grant('a', '*');
  const one = bus.call('a', 'pay', { amount: 1, slow: true }, { callId: 'c' });
  await new Promise((r) => setImmediate(r));
  const two = bus.call('a', 'pay', { amount: 1, slow: true }, { callId: 'c' });
  h.release();
  const [r1, r2] = await Promise.all([one, two]);
  assert.deepEqual(r1, r2);
  assert.equal(h.runs(), 1);
});

test('failures are not stored: a retry with the same callId runs again', async () => {
  const bus = new ToolBus();
  const h = counting(bus);
  bus.grant('a', '*');
  await assert.rejects(bus.call('a', 'pay', { amount: 1, fail: true }, { callId: 'x' }), { code: 'TOOL_FAILED' });
  assert.deepEqual(await bus.call('a', 'pay', { amount: 1 }, { callId: 'x' }), { receipt: 'r-2', amount: 1 });
  assert.equal(h.runs(), 2);
});

test('results are kept per agent and tool: another agent reusing a callId does not read them', async () => {
  const bus = new ToolBus();
  const h = counting(bus);
  counting(bus, 'refund');
  bus.grant('a', '*');
  bus.grant('b', '*');
  await bus.call('a', 'pay', { amount: 1 }, { callId: 'same' });
  await bus.call('b', 'pay', { amount: 1 }, { callId: 'same' });
  assert.equal(h.runs(), 2);
});

test('a replay still needs permission', async () => {
  const bus = new ToolBus();
  counting(bus);
  bus.grant('a', '*');
  await bus.call('a', 'pay', { amount: 1 }, { callId: 'p' });
  bus.revoke('a');
  await assert.rejects(bus.call('a', 'pay', { amount: 1 }, { callId: 'p' }), { code: 'TOOL_ACCESS_DENIED' });
});

test('stored results expire after ttlMs', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const bus = new ToolBus({ idempotency: { capacity: 10, ttlMs: 1_000 } });
  const h = counting(bus);
  bus.grant('a', '*');
  await bus.call('a', 'pay', { amount: 1 }, { callId: 't' });
  t.mock.timers.tick(1_000); // replayed up to ttlMs after completion…
  await bus.call('a', 'pay', { amount: 1 }, { callId: 't' });
  assert.equal(h.runs(), 1);
  t.mock.timers.tick(1); // …and not after
  await bus.call('a', 'pay', { amount: 1 }, { callId: 't' });
  assert.equal(h.runs(), 2);
});

test('the cache is bounded: the least recently used result goes first', async () => {
  const bus = new ToolBus({ idempotency: { capacity: 2, ttlMs: 60_000 } });
  const h = counting(bus);
  bus.grant('a', '*');
  await bus.call('a', 'pay', { amount: 1 }, { callId: '1' });
  await bus.call('a', 'pay', { amount: 1 }, { callId: '2' });
  await bus.call('a', 'pay', { amount: 1 }, { callId: '1' }); // touch 1: 2 is now the oldest
  await bus.call('a', 'pay', { amount: 1 }, { callId: '3' }); // evicts 2
  assert.equal(h.runs(), 3);
  await bus.call('a', 'pay', { amount: 1 }, { callId: '1' });
  assert.equal(h.runs(), 3);
  await bus.call('a', 'pay', { amount: 1 }, { callId: '2' });
  assert.equal(h.runs(), 4);
});

test('capacity 0 turns replay off', async () => {
  const bus = new ToolBus({ idempotency: { capacity: 0, ttlMs: 60_000 } });
  const h = counting(bus);
  bus.grant('a', '*');
  await bus.call('a', 'pay', { amount: 1 }, { callId: '1' });
  await bus.call('a', 'pay', { amount: 1 }, { callId: '1' });
  assert.equal(h.runs(), 2);
});

test('a reused callId with different input is TOOL_IDEMPOTENCY_CONFLICT, not the stale result', async () => {
  const bus = new ToolBus();
  const h = counting(bus);
  bus.grant('a', '*');
  await bus.call('a', 'pay', { amount: 5 }, { callId: 'order-1' });
  await assert.rejects(bus.call('a', 'pay', { amount: 500 }, { callId: 'order-1' }), (e: Error & { code: string; context: Record<string, unknown> }) => {
    assert.equal(e.code, 'TOOL_IDEMPOTENCY_CONFLICT');
    assert.deepEqual({ agentId: e.context.agentId, tool: e.context.tool, callId: e.context.callId }, { agentId: 'a', tool: 'pay', callId: 'order-1' });
    assert.match(e.message, /order-1/);
    return true;
  });
  // Invalid input under a reused id is a conflict too, never the stored result.
  await assert.rejects(bus.call('a', 'pay', { amount: 'lots' }, { callId: 'order-1' }), { code: 'TOOL_IDEMPOTENCY_CONFLICT' });
  assert.equal(h.runs(), 1);
  // The same input (key order does not matter) still replays.
  bus.register({ name: 'multi', description: 'd', input: z.object({ a: z.number(), b: z.object({ x: z.number(), y: z.number() }) }), handler: (i) => i.a });
  await bus.call('a', 'multi', { a: 1, b: { x: 1, y: 2 } }, { callId: 'm' });
  assert.equal(await bus.call('a', 'multi', { b: { y: 2, x: 1 }, a: 1 }, { callId: 'm' }), 1);
  assert.equal(bus.stats('multi')!.replays, 1);
  await assert.rejects(bus.call('a', 'multi', { a: 1, b: { x: 1, y: 3 } }, { callId: 'm' }), { code: 'TOOL_IDEMPOTENCY_CONFLICT' });
  await assert.rejects(bus.call('a', 'multi', [1], { callId: 'm' }), { code: 'TOOL_IDEMPOTENCY_CONFLICT' });
});

test('a duplicate of a call in flight with different input is a conflict too; the first call is unaffected', async () => {
  const bus = new ToolBus();
  const h = counting(bus);
  bus.grant('a', '*');
  const first = bus.call('a', 'pay', { amount: 1, slow: true }, { callId: 'c' });
  await new Promise((r) => setImmediate(r));
  await assert.rejects(bus.call('a', 'pay', { amount: 2, slow: true }, { callId: 'c' }), { code: 'TOOL_IDEMPOTENCY_CONFLICT' });
  h.release();
  assert.deepEqual(await first, { receipt: 'r-1', amount: 1 });
  assert.equal(h.runs(), 1);
});

test('large inputs are fingerprinted, not kept: a one-byte change in a large input is still a conflict', async () => {
  const bus = new ToolBus();
  let runs = 0;
  bus.register({ name: 'store', description: 'd', input: z.object({ blob: z.string() }), handler: () => ++runs });
  bus.grant('a', '*');
  const blob = 'x'.repeat(100_000);
  await bus.call('a', 'store', { blob }, { callId: 'big' });
  assert.equal(await bus.call('a', 'store', { blob: 'x'.repeat(100_000) }, { callId: 'big' }), 1);
  await assert.rejects(bus.call('a', 'store', { blob: `${'x'.repeat(99_999)}y` }, { callId: 'big' }), { code: 'TOOL_IDEMPOTENCY_CONFLICT' });
  assert.equal(runs, 1);
});
