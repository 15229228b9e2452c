import assert from 'node:assert/strict';
import { afterEach, mock, test } from 'node:test';
import { z } from '../../../sdk/index.js';
import { ToolBus, type ToolCallContext, type ToolContext } from '../../../plugins/tools/index.js';

/**
 * Every bus is closed when its test ends: a deadline interval still running from one test would
 * otherwise meet the next test's fake timers (its clearInterval would be the fake one).
 */
const open: ToolBus[] = [];
function closedAfterTest(bus: ToolBus): ToolBus {
  open.push(bus);
  return bus;
}
afterEach(() => {
  for (const bus of open.splice(0)) bus.close();
});

type Coded = Error & { code: string; context: Record<string, unknown>; cause?: unknown };

test('the stages run in order: permission, lookup, validation, approval, middleware, handler, output validation', async () => {
  const bus = closedAfterTest(new ToolBus());
  const seen: string[] = [];
  bus.register({
    name: 'stage',
    description: 'd',
    input: z.object({ n: z.number() }).transform((v) => (seen.push('input'), v)),
    output: z.number().transform((v) => (seen.push('output'), v)),
    handler: (i) => (seen.push('handler'), i.n),
  });
  bus.hooks.approve.tapPromise('record', async () => void seen.push('approve'));
  bus.use(async (_ctx, next) => {
    seen.push('mw:before');
    await next();
    seen.push('mw:after');
  });
  bus.grant('a', 'stage');
  assert.equal(await bus.call('a', 'stage', { n: 3 }), 3);
  assert.deepEqual(seen, ['input', 'approve', 'mw:before', 'handler', 'output', 'mw:after']);

  // Permission comes before lookup and validation; lookup before validation.
  seen.length = 0;
  await assert.rejects(bus.call('b', 'stage', { n: 'bad' }), { code: 'TOOL_ACCESS_DENIED' });
  bus.grant('a', 'missing');
  await assert.rejects(bus.call('a', 'missing', { n: 'bad' }), { code: 'TOOL_NOT_FOUND' });
  // Validation before approval.
  await assert.rejects(bus.call('a', 'stage', { n: 'bad' }), { code: 'TOOL_INVALID_INPUT' });
  assert.deepEqual(seen, []);
});

test('TOOL_INVALID_INPUT names every zod issue with its path', async () => {
  const bus = closedAfterTest(new ToolBus());
  let ran = false;
  bus.register({
    name: 'typed',
    description: 'd',
    input: z.object({ user: z.object({ name: z.string(), age: z.number().int() }), tags: z.array(z.string()) }),
    handler: () => (ran = true),
  });
  bus.grant('a', '*');
  await assert.rejects(bus.call('a', 'typed', { user: { name: 1, age: 1.5 }, tags: ['x', 2] }), (e: Coded) => {
    assert.equal(e.code, 'TOOL_INVALID_INPUT');
    assert.match(e.message, /user\.name: /);
    assert.match(e.message, /user\.age: /);
    assert.match(e.message, /tags\.1: /);
    const issues = e.context.issues as Array<{ path: string; message: string }>;
    assert.deepEqual(issues.map((i) => i.path).sort(), ['tags.1', 'user.age', 'user.name']);
    return true;
  });
  assert.equal(ran, false);
});

test('the handler receives the parsed input (defaults applied) and a context', async () => {
  const bus = closedAfterTest(new ToolBus());
  let ctxSeen: ToolContext | undefined;
  bus.register({
    name: 'defaults',
    description: 'd',
    input: z.object({ n: z.number().default(7) }),
    handler: (i, ctx) => {
      ctxSeen = ctx;
      return i.n * 2;
    },
  });
  bus.grant('a', '*');
  assert.equal(await bus.call('a', 'defaults', {}, { callId: 'c-1', correlationId: 'corr' }), 14);
  assert.equal(ctxSeen!.agentId, 'a');
  assert.equal(ctxSeen!.callId, 'c-1');
  assert.equal(ctxSeen!.correlationId, 'corr');
  assert.deepEqual(ctxSeen!.delegation, []);
  assert.ok(ctxSeen!.signal instanceof AbortSignal);
  await bus.call('a', 'defaults', {});
  assert.equal(typeof ctxSeen!.callId, 'string');
  assert.ok(ctxSeen!.callId.length > 0);
});

test('a throwing handler fails with TOOL_FAILED carrying the cause; a ToolError passes through', async () => {
  const bus = closedAfterTest(new ToolBus());
  const boom = new Error('disk on fire');
  bus.register({ name: 'sync', description: 'd', input: z.object({}), handler: () => { throw boom; } });
  bus.register({ name: 'async', description: 'd', input: z.object({}), handler: async () => { throw boom; } });
  bus.register({ name: 'coded', description: 'd', input: z.object({}), handler: (_i, ctx) => ctx.call('nope', {}) });
  bus.grant('a', ['sync', 'async', 'coded']);
  for (const name of ['sync', 'async']) {
    await assert.rejects(bus.call('a', name, {}), (e: Coded) => {
      assert.equal(e.code, 'TOOL_FAILED');
      assert.equal(e.cause, boom);
      assert.match(e.message, /disk on fire/);
      return true;
    });
  }
  await assert.rejects(bus.call('a', 'coded', {}), { code: 'TOOL_ACCESS_DENIED' });
  assert.equal(bus.stats('sync')!.errors, 1);
});

test('a result that fails the output schema is TOOL_INVALID_OUTPUT', async () => {
  const bus = closedAfterTest(new ToolBus());
  bus.register({ name: 'liar', description: 'd', input: z.object({}), output: z.object({ ok: z.boolean() }), handler: () => ({ ok: 'yes' }) as never });
  bus.register({ name: 'aliar', description: 'd', input: z.object({}), output: z.string(), handler: async () => 42 as never });
  bus.grant('a', '*');
  await assert.rejects(bus.call('a', 'liar', {}), (e: Coded) => e.code === 'TOOL_INVALID_OUTPUT' && /ok: /.test(e.message));
  await assert.rejects(bus.call('a', 'aliar', {}), { code: 'TOOL_INVALID_OUTPUT' });
});

test('a handler that ignores its signal still fails the caller with TOOL_TIMEOUT at the deadline', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
  const bus = closedAfterTest(new ToolBus({ defaultTimeoutMs: 30_000 }));
  let signal: AbortSignal | undefined;
  bus.register({
    name: 'stuck',
    description: 'never answers',
    input: z.object({}),
    handler: (_i, ctx) => {
      signal = ctx.signal;
      return new Promise<never>(() => {});
    },
  });
  bus.grant('a', '*');
  const call = bus.call('a', 'stuck', {});
  let settled = false;
  call.catch(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  t.mock.timers.tick(29_999);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  assert.equal(signal!.aborted, false);
  t.mock.timers.tick(1);
  await assert.rejects(call, (e: Coded) => {
    assert.equal(e.code, 'TOOL_TIMEOUT');
    assert.equal(e.context.timeoutMs, 30_000);
    return true;
  });
  assert.equal(signal!.aborted, true);
  assert.equal((signal!.reason as Coded).code, 'TOOL_TIMEOUT');
  assert.equal(bus.stats('stuck')!.timeouts, 1);
  assert.equal(bus.inFlight, 0);
});

test('timeouts: per call, per tool, and per-tool config override; the signal reaches the handler', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
  const bus = closedAfterTest(new ToolBus({ tools: { 'cfg.slow': { timeoutMs: 50 } } }));
  const never = () => new Promise<never>(() => {});
  bus.register({ name: 'tool.slow', description: 'd', input: z.object({}), timeoutMs: 100, handler: never });
  bus.register({ name: 'cfg.slow', description: 'd', input: z.object({}), timeoutMs: 100_000, handler: never });
  bus.register({
    name: 'polite',
    description: 'd',
    input: z.object({}),
    handler: (_i, ctx) => new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('stopped on signal')))),
  });
  bus.grant('a', '*');
  const perTool = bus.call('a', 'tool.slow', {});
  const perConfig = bus.call('a', 'cfg.slow', {});
  const perCall = bus.call('a', 'polite', {}, { timeoutMs: 10 });
  const results = Promise.allSettled([perTool, perConfig, perCall]);
  await new Promise((r) => setImmediate(r));
  t.mock.timers.tick(10);
  t.mock.timers.tick(40);
  t.mock.timers.tick(50);
  const [a, b, c] = await results;
  for (const r of [a, b, c]) assert.equal(r!.status === 'rejected' && (r.reason as Coded).code, 'TOOL_TIMEOUT');
});

test("aborting the caller's signal cancels the call (TOOL_CANCELLED) and aborts the handler's signal", async () => {
  const bus = closedAfterTest(new ToolBus());
  let signal: AbortSignal | undefined;
  bus.register({
    name: 'wait',
    description: 'd',
    input: z.object({}),
    handler: (_i, ctx) => {
      signal = ctx.signal;
      return new Promise<never>(() => {});
    },
  });
  bus.grant('a', '*');
  const controller = new AbortController();
  const call = bus.call('a', 'wait', {}, { signal: controller.signal });
  await new Promise((r) => setImmediate(r));
  controller.abort(new Error('user pressed stop'));
  await assert.rejects(call, (e: Coded) => e.code === 'TOOL_CANCELLED' && /user pressed stop/.test(e.message));
  assert.equal(signal!.aborted, true);
  await assert.rejects(bus.call('a', 'wait', {}, { signal: AbortSignal.abort() }), { code: 'TOOL_CANCELLED' });
  assert.equal(bus.inFlight, 0);
});

test('close() fails calls in flight with TOOL_CANCELLED and refuses new ones', async () => {
  const bus = closedAfterTest(new ToolBus());
  bus.register({ name: 'wait', description: 'd', input: z.object({}), handler: () => new Promise<never>(() => {}) });
  bus.grant('a', '*');
  const call = bus.call('a', 'wait', {});
  await new Promise((r) => setImmediate(r));
  bus.close();
  await assert.rejects(call, { code: 'TOOL_CANCELLED' });
  await assert.rejects(bus.call('a', 'wait', {}), { code: 'TOOL_CANCELLED' });
});

test("approval: 'deny' rejects with TOOL_REJECTED, 'allow' lets through, a throwing tap fails closed", async () => {
  const bus = closedAfterTest(new ToolBus());
  let ran = 0;
  bus.register({ name: 'fs.write', description: 'd', input: z.object({ path: z.string() }), handler: () => ++ran });
  bus.grant('a', '*');
  const requests: unknown[] = [];
  bus.hooks.approve.tapPromise('policy', async (req) => {
    requests.push(req);
    if (req.input && (req.input as { path: string }).path.startsWith('/etc')) return 'deny';
    if ((req.input as { path: string }).path === 'boom') throw new Error('approver offline');
    return (req.input as { path: string }).path === 'ok' ? 'allow' : undefined;
  });
  let secondAsked = 0;
  bus.hooks.approve.tap('second', () => {
    secondAsked++;
    return undefined;
  });
  await assert.rejects(bus.call('a', 'fs.write', { path: '/etc/passwd' }, { callId: 'c1' }), (e: Coded) => e.code === 'TOOL_REJECTED' && e.context.callId === 'c1');
  assert.equal(ran, 0);
  assert.equal(await bus.call('a', 'fs.write', { path: 'ok' }), 1);
  assert.equal(secondAsked, 0); // 'allow' bails
  assert.equal(await bus.call('a', 'fs.write', { path: 'undecided' }), 2);
  assert.equal(secondAsked, 1);
  await assert.rejects(bus.call('a', 'fs.write', { path: 'boom' }), (e: Coded) => e.code === 'TOOL_REJECTED' && (e.cause as Error).message === 'approver offline');
  assert.deepEqual(requests[0], { agentId: 'a', tool: 'fs.write', input: { path: '/etc/passwd' }, callId: 'c1', delegation: [] });
  assert.equal(bus.stats('fs.write')!.errors, 2);
});

test('an approval that never comes fails at the call timeout (TOOL_TIMEOUT); the caller can cancel the wait', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
  const bus = closedAfterTest(new ToolBus());
  let ran = false;
  bus.register({ name: 'x', description: 'd', input: z.object({}), timeoutMs: 1_000, handler: () => (ran = true) });
  bus.grant('a', '*');
  bus.hooks.approve.tapPromise('human', () => new Promise(() => {}));
  const call = bus.call('a', 'x', {});
  let settled = false;
  call.catch(() => undefined).finally(() => (settled = true));
  // Advance in steps until the call settles: on a loaded machine the call may reach the approval
  // wait (and arm its deadline) a turn later than the first tick.
  for (let ms = 0; ms < 2_000 && !settled; ms += 250) {
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(250);
  }
  await assert.rejects(call, (e: Coded) => e.code === 'TOOL_TIMEOUT' && e.context.phase === 'approval');
  const controller = new AbortController();
  const cancelled = bus.call('a', 'x', {}, { signal: controller.signal });
  await new Promise((r) => setImmediate(r));
  controller.abort();
  await assert.rejects(cancelled, { code: 'TOOL_CANCELLED' });
  const closing = bus.call('a', 'x', {});
  await new Promise((r) => setImmediate(r));
  bus.close();
  await assert.rejects(closing, { code: 'TOOL_CANCELLED' });
  assert.equal(ran, false);
});

test('middleware runs Koa-style in registration order and sees the result after next()', async () => {
  const bus = closedAfterTest(new ToolBus());
  bus.register({ name: 'double', description: 'd', input: z.object({ n: z.number() }), handler: async (i) => i.n * 2 });
  bus.grant('a', '*');
  const order: string[] = [];
  let seen: ToolCallContext | undefined;
  bus.use(async (ctx, next) => {
    order.push('1>');
    await next();
    order.push(`1<${String(ctx.result)}`);
    ctx.result = (ctx.result as number) + 1;
  });
  bus.use((ctx, next) => {
    order.push('2>');
    seen = ctx;
    ctx.input = { n: (ctx.input as { n: number }).n + 10 };
    return next().then(() => void order.push(`2<${String(ctx.result)}`));
  });
  const remove = bus.use(async (_ctx, next) => {
    order.push('3>');
    await next();
    order.push('3<');
  });
  assert.equal(await bus.call('a', 'double', { n: 1 }, { callId: 'k', delegation: [] }), 23);
  assert.deepEqual(order, ['1>', '2>', '3>', '3<', '2<22', '1<22']);
  assert.equal(seen!.agentId, 'a');
  assert.equal(seen!.tool, 'double');
  assert.equal(seen!.callId, 'k');
  assert.deepEqual(seen!.delegation, []);
  assert.ok(seen!.signal instanceof AbortSignal);
  await remove();
  order.length = 0;
  await bus.call('a', 'double', { n: 1 });
  assert.deepEqual(order, ['1>', '2>', '2<22', '1<22']);
});

test('a middleware may answer without calling next (a cache), or fail the call', async () => {
  const bus = closedAfterTest(new ToolBus());
  let ran = 0;
  bus.register({ name: 'x', description: 'd', input: z.object({}), handler: () => ++ran });
  bus.grant('a', '*');
  const dispose = bus.use((ctx) => {
    ctx.result = 'cached';
  });
  assert.equal(await bus.call('a', 'x', {}), 'cached');
  assert.equal(ran, 0);
  await dispose();
  bus.use(async () => {
    throw new Error('rate limited');
  });
  await assert.rejects(bus.call('a', 'x', {}), (e: Coded) => e.code === 'TOOL_FAILED' && /rate limited/.test(e.message));
});

test('calling next() twice fails the call', async () => {
  const bus = closedAfterTest(new ToolBus());
  bus.register({ name: 'x', description: 'd', input: z.object({}), handler: () => 1 });
  bus.grant('a', '*');
  bus.use(async (_ctx, next) => {
    await next();
    await next();
  });
  await assert.rejects(bus.call('a', 'x', {}), (e: Coded) => e.code === 'TOOL_FAILED' && /more than once/.test(e.message));
});

test('stats count calls, successes, errors, timeouts and latency per tool', async () => {
  const bus = closedAfterTest(new ToolBus());
  bus.register({ name: 'ok', description: 'd', input: z.object({ fail: z.boolean() }), handler: (i) => { if (i.fail) throw new Error('no'); return 1; } });
  bus.grant('a', '*');
  await bus.call('a', 'ok', { fail: false });
  await bus.call('a', 'ok', { fail: false });
  await bus.call('a', 'ok', { fail: true }).catch(() => undefined);
  const s = bus.stats('ok')!;
  assert.equal(s.calls, 3);
  assert.equal(s.successes, 2);
  assert.equal(s.errors, 1);
  assert.equal(s.timeouts, 0);
  assert.equal(s.latencySamples, 1); // one call in 8 is timed by default, the first always
  assert.ok(s.meanLatencyMs >= 0 && s.maxLatencyMs >= s.meanLatencyMs);
  const every = closedAfterTest(new ToolBus({ latencySampleEvery: 1 }));
  every.register({ name: 't', description: 'd', input: z.object({}), handler: async () => 1 });
  every.grant('a', '*');
  for (let i = 0; i < 3; i++) await every.call('a', 't', {});
  assert.equal(every.stats('t')!.latencySamples, 3);
  assert.ok(every.stats('t')!.totalLatencyMs > 0);
  assert.equal(bus.stats('nope'), undefined);
  assert.deepEqual(bus.stats().map((x) => x.tool), ['ok']);
});

test('the deadline interval stops once calls are done: nothing keeps the process alive', async () => {
  const bus = closedAfterTest(new ToolBus({ defaultTimeoutMs: 60_000 }));
  bus.register({ name: 'a', description: 'd', input: z.object({}), handler: async () => 1 });
  bus.grant('x', '*');
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  await bus.call('x', 'a', {});
  assert.equal(bus.inFlight, 0);
  // The wheel's interval stops on its first tick that finds no call in flight (at most 100 ms).
  for (let i = 0; i < 500 && timers() > before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(timers() <= before, `${timers()} timers alive, ${before} before the call`);
  bus.close();
});

void mock;

test('input schemas with async refinements are validated too', async () => {
  const bus = closedAfterTest(new ToolBus());
  bus.register({
    name: 'checked',
    description: 'd',
    input: z.object({ user: z.string().refine(async (u) => u !== 'mallory', { message: 'unknown user' }) }),
    handler: (i) => i.user,
  });
  bus.grant('a', '*');
  assert.equal(await bus.call('a', 'checked', { user: 'bob' }), 'bob');
  await assert.rejects(bus.call('a', 'checked', { user: 'mallory' }), (e: Coded) => e.code === 'TOOL_INVALID_INPUT' && /user: unknown user/.test(e.message));
});

test('unregistering a tool lets calls in flight finish, with their output validation', async () => {
  const bus = closedAfterTest(new ToolBus());
  let release: (v: unknown) => void = () => {};
  bus.register({ name: 'x', description: 'd', input: z.object({}), output: z.number(), handler: () => new Promise<number>((r) => (release = r as (v: unknown) => void)) });
  bus.grant('a', '*');
  const call = bus.call('a', 'x', {});
  await new Promise((r) => setImmediate(r));
  bus.unregister('x');
  release('not a number');
  await assert.rejects(call, { code: 'TOOL_INVALID_OUTPUT' });
  await assert.rejects(bus.call('a', 'x', {}), { code: 'TOOL_NOT_FOUND' });
});

test('a deadline interval started on real timers still stops when fake timers are enabled meanwhile', async (t) => {
  const bus = closedAfterTest(new ToolBus());
  bus.register({ name: 'a', description: 'd', input: z.object({}), handler: async () => 1 });
  bus.grant('x', '*');
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  await bus.call('x', 'a', {}); // starts the wheel's real interval
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
  // The real interval's next tick finds nothing in flight and must clear itself with the real clearInterval.
  for (let i = 0; i < 500 && timers() > before; i++) await new Promise((r) => setTimeout(r, 10));
  t.mock.timers.reset();
  assert.ok(timers() <= before, `${timers()} timers alive, ${before} before the call`);
});
