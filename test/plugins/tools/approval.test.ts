/** Tools for durable runs: idempotent, needsApproval, describe, preApproved, ctx.callId. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import { ToolBus, type ApprovalRequest } from '../../../plugins/tools/index.js';

type Coded = Error & { code: string; context: Record<string, unknown>; cause?: unknown };

const payInput = z.object({ amount: z.number().nonnegative(), to: z.string().default('shop') });

function payTool(bus: ToolBus, needsApproval: boolean | ((i: z.output<typeof payInput>) => boolean), ran: string[] = []): string[] {
  bus.register({
    name: 'pay',
    description: 'pays',
    input: payInput,
    output: z.object({ paid: z.number() }),
    needsApproval,
    handler: (i, ctx) => {
      ran.push(ctx.callId);
      return { paid: i.amount };
    },
  });
  bus.grant('a', '*');
  return ran;
}

test('describe: idempotent, needsApproval over the validated input, schemas; undefined for an unknown tool', () => {
  const bus = new ToolBus();
  bus.register({ name: 'plain', description: 'plain tool', input: z.object({ x: z.number() }), handler: (i) => i.x });
  bus.register({ name: 'safe', description: 'safe', input: z.object({}), idempotent: true, needsApproval: true, handler: () => 1 });
  payTool(bus, (i) => i.amount > 100 && i.to === 'shop');

  const plain = bus.describe('plain')!;
  assert.equal(plain.name, 'plain');
  assert.equal(plain.description, 'plain tool');
  assert.equal(plain.idempotent, false);
  assert.equal(plain.needsApproval({ x: 1 }), false);
  assert.equal(plain.outputSchema, undefined);
  assert.equal((plain.inputSchema as { type: string }).type, 'object');

  const safe = bus.describe('safe')!;
  assert.equal(safe.idempotent, true);
  assert.equal(safe.needsApproval({}), true);

  const pay = bus.describe('pay')!;
  assert.equal(pay.needsApproval({ amount: 5 }), false);
  // The predicate sees the parsed input: the default `to: 'shop'` is applied.
  assert.equal(pay.needsApproval({ amount: 500 }), true);
  assert.equal(pay.needsApproval({ amount: 500, to: 'friend' }), false);
  // Invalid input needs no approval: the call fails validation first.
  assert.equal(pay.needsApproval({ amount: 'lots' }), false);
  assert.equal((pay.outputSchema as { type: string }).type, 'object');
  assert.equal(bus.describe('nope'), undefined);
});

test('describe: a throwing predicate or an async-only schema means "needs approval" (fail closed)', () => {
  const bus = new ToolBus();
  bus.register({
    name: 'throws',
    description: 'd',
    input: z.object({}),
    needsApproval: () => {
      throw new Error('predicate bug');
    },
    handler: () => 1,
  });
  bus.register({
    name: 'async',
    description: 'd',
    input: z.object({ n: z.number() }).refine(async () => true),
    needsApproval: (i) => i.n > 1,
    handler: () => 1,
  });
  assert.equal(bus.describe('throws')!.needsApproval({}), true);
  assert.equal(bus.describe('async')!.needsApproval({ n: 0 }), true);
});

test('register rejects a malformed idempotent or needsApproval', () => {
  const bus = new ToolBus();
  const base = { description: 'd', input: z.object({}), handler: () => 1 };
  assert.throws(() => bus.register({ ...base, name: 'x.a', idempotent: 'yes' as unknown as boolean }), { code: 'TOOL_INVALID_DEFINITION' });
  assert.throws(() => bus.register({ ...base, name: 'x.b', needsApproval: 1 as unknown as boolean }), { code: 'TOOL_INVALID_DEFINITION' });
});

test('a needsApproval tool with no approver tapped is rejected (fail closed) and its handler never runs', async () => {
  const bus = new ToolBus();
  const ran = payTool(bus, true);
  await assert.rejects(bus.call('a', 'pay', { amount: 1 }, { callId: 'c1' }), (e: Coded) => {
    assert.equal(e.code, 'TOOL_REJECTED');
    assert.equal(e.context.reason, 'approval-required');
    assert.equal(e.context.callId, 'c1');
    assert.match(e.message, /needs approval/);
    return true;
  });
  assert.deepEqual(ran, []);
  assert.equal(bus.stats('pay')!.errors, 1);
});

test('a needsApproval tool: a tap with no decision rejects, allow runs, deny rejects', async () => {
  const bus = new ToolBus();
  const ran = payTool(bus, true);
  const asked: ApprovalRequest[] = [];
  let decision: 'allow' | 'deny' | undefined;
  bus.hooks.approve.tap('human', (req) => {
    asked.push(req);
    return decision;
  });
  await assert.rejects(bus.call('a', 'pay', { amount: 1 }), (e: Coded) => e.code === 'TOOL_REJECTED' && e.context.reason === 'approval-required');
  decision = 'deny';
  await assert.rejects(bus.call('a', 'pay', { amount: 2 }), (e: Coded) => e.code === 'TOOL_REJECTED' && e.context.decision === 'deny');
  decision = 'allow';
  assert.deepEqual(await bus.call('a', 'pay', { amount: 3 }, { callId: 'ok' }), { paid: 3 });
  assert.deepEqual(ran, ['ok']);
  assert.deepEqual(asked.map((r) => r.input), [{ amount: 1, to: 'shop' }, { amount: 2, to: 'shop' }, { amount: 3, to: 'shop' }]);
});

test('a tool without needsApproval keeps "no decision = allowed"', async () => {
  const bus = new ToolBus();
  const ran = payTool(bus, false);
  let asked = 0;
  bus.hooks.approve.tap('observer', () => {
    asked++;
    return undefined;
  });
  assert.deepEqual(await bus.call('a', 'pay', { amount: 1 }), { paid: 1 });
  assert.equal(asked, 1);
  assert.equal(ran.length, 1);
});

test('needsApproval as a predicate asks only for the inputs it names', async () => {
  const bus = new ToolBus();
  const ran = payTool(bus, (i) => i.amount > 100);
  assert.deepEqual(await bus.call('a', 'pay', { amount: 100 }), { paid: 100 });
  await assert.rejects(bus.call('a', 'pay', { amount: 101 }), { code: 'TOOL_REJECTED' });
  assert.equal(ran.length, 1);
});

test('preApproved skips the approval hook (even one that would deny), for needsApproval tools and others', async () => {
  const bus = new ToolBus();
  const ran = payTool(bus, true);
  bus.register({ name: 'other', description: 'd', input: z.object({}), handler: () => 'other' });
  let asked = 0;
  bus.hooks.approve.tap('deny-all', () => {
    asked++;
    return 'deny';
  });
  assert.deepEqual(await bus.call('a', 'pay', { amount: 7 }, { callId: 'run-1:call-3', preApproved: true }), { paid: 7 });
  assert.equal(await bus.call('a', 'other', {}, { preApproved: true }), 'other');
  assert.equal(asked, 0);
  assert.deepEqual(ran, ['run-1:call-3']);
  // Without it the hook is asked again.
  await assert.rejects(bus.call('a', 'pay', { amount: 7 }), { code: 'TOOL_REJECTED' });
  assert.equal(asked, 1);
});

test('preApproved does not skip permission or input validation', async () => {
  const bus = new ToolBus();
  const ran = payTool(bus, true);
  await assert.rejects(bus.call('stranger', 'pay', { amount: 1 }, { preApproved: true }), { code: 'TOOL_ACCESS_DENIED' });
  await assert.rejects(bus.call('a', 'pay', { amount: -1 }, { preApproved: true }), { code: 'TOOL_INVALID_INPUT' });
  assert.deepEqual(ran, []);
});

test('a nested ctx.call cannot claim preApproved: the nested needsApproval tool still needs an approver', async () => {
  const bus = new ToolBus();
  const ran = payTool(bus, true);
  bus.register({
    name: 'wrapper',
    description: 'd',
    input: z.object({}),
    // A handler forging the option (it is not in NestedCallOptions) gets nothing from it.
    handler: (_i, ctx) => ctx.call('pay', { amount: 1 }, { preApproved: true } as object),
  });
  await assert.rejects(bus.call('a', 'wrapper', {}, { preApproved: true }), (e: Coded) => {
    assert.equal(e.code, 'TOOL_REJECTED');
    assert.equal(e.context.tool, 'pay');
    return true;
  });
  assert.deepEqual(ran, []);
});

test('ctx.callId is the caller’s callId (an idempotency key for downstream systems), or a generated unique one', async () => {
  const bus = new ToolBus();
  const seen: string[] = [];
  bus.register({ name: 'id', description: 'd', input: z.object({}), idempotent: true, handler: (_i, ctx) => void seen.push(ctx.callId) });
  bus.grant('a', '*');
  await bus.call('a', 'id', {}, { callId: 'run-9:turn-2:0' });
  await bus.call('a', 'id', {});
  await bus.call('a', 'id', {});
  assert.equal(seen[0], 'run-9:turn-2:0');
  assert.equal(typeof seen[1], 'string');
  assert.notEqual(seen[1], seen[2]);
});
