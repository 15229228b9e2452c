/** Call options are validated: no value silently removes a deadline or trips Node's timer overflow. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import { MAX_TIMEOUT_MS, ToolBus, type CallOptions } from '../../../plugins/tools/index.js';

type Coded = Error & { code: string; context: Record<string, unknown> };

function busWithTools(): { bus: ToolBus; runs: () => number } {
  const bus = new ToolBus();
  let runs = 0;
  bus.register({ name: 'echo', description: 'd', input: z.unknown(), handler: async (i) => (runs++, i) });
  bus.grant('a', '*');
  return { bus, runs: () => runs };
}

test('timeoutMs of 0, negative, NaN or not a number is TOOL_INVALID_OPTIONS, and the handler never runs', async () => {
  const { bus, runs } = busWithTools();
  for (const timeoutMs of [0, -1, -Infinity, Number.NaN, '100', null, true] as unknown[]) {
    await assert.rejects(bus.call('a', 'echo', 1, { timeoutMs } as CallOptions), (e: Coded) => {
      assert.equal(e.code, 'TOOL_INVALID_OPTIONS', `timeoutMs ${String(timeoutMs)}`);
      assert.equal(e.context.option, 'timeoutMs');
      assert.match(e.message, /timeoutMs/);
      return true;
    });
  }
  assert.equal(runs(), 0);
});

test('other malformed options are TOOL_INVALID_OPTIONS naming the option', async () => {
  const { bus } = busWithTools();
  const bad: Array<[string, unknown]> = [
    ['signal', { aborted: false }],
    ['callId', ''],
    ['callId', 42],
    ['correlationId', 7],
    ['delegation', 'alice'],
    ['delegation', ['alice', 3]],
    ['preApproved', 'yes'],
    ['preApproved', false],
  ];
  for (const [option, value] of bad) {
    await assert.rejects(bus.call('a', 'echo', 1, { [option]: value } as CallOptions), (e: Coded) => {
      assert.equal(e.code, 'TOOL_INVALID_OPTIONS', `${option}: ${JSON.stringify(value)}`);
      assert.equal(e.context.option, option);
      return true;
    });
  }
  await assert.rejects(bus.call('a', 'echo', 1, 'fast' as unknown as CallOptions), { code: 'TOOL_INVALID_OPTIONS' });
  // Nested calls are checked the same way.
  bus.register({ name: 'nest', description: 'd', input: z.unknown(), handler: (_i, ctx) => ctx.call('echo', 1, { timeoutMs: -5 }) });
  await assert.rejects(bus.call('a', 'nest', 1), { code: 'TOOL_INVALID_OPTIONS' });
});

test('a huge timeoutMs is capped below the timer overflow instead of firing at once', async () => {
  const bus = new ToolBus();
  // Each call's handler hands its resolver over once it runs; the test waits for that event, not for time.
  let entered: (release: (v: string) => void) => void = () => {};
  bus.register({ name: 'wait', description: 'd', input: z.object({}), handler: () => new Promise<string>((r) => entered(r)) });
  bus.grant('a', '*');
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    for (const timeoutMs of [2 ** 40, Infinity, MAX_TIMEOUT_MS + 1]) {
      const running = new Promise<(v: string) => void>((r) => (entered = r));
      const call = bus.call('a', 'wait', {}, { timeoutMs });
      const release = await running;
      // The call's timer was armed before its handler ran. An overflowing timer is set to 1 ms, so a
      // timer armed now for longer expires after it: let it pass before answering.
      await new Promise((r) => setTimeout(r, 20));
      release('done');
      assert.equal(await call, 'done', `timeoutMs ${timeoutMs}`);
    }
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
  assert.equal(MAX_TIMEOUT_MS, 2 ** 31 - 1);
});

test('a tool or bus timeoutMs that is not a positive number is refused at register / construction', () => {
  const bus = new ToolBus();
  for (const timeoutMs of [0, -1, Number.NaN]) {
    assert.throws(() => bus.register({ name: 'x.t', description: 'd', input: z.object({}), timeoutMs, handler: () => 1 }), { code: 'TOOL_INVALID_DEFINITION' });
  }
  assert.throws(() => new ToolBus({ defaultTimeoutMs: 0 }), { code: 'TOOL_INVALID_OPTIONS' });
});

test('a call with the longest deadline is cancelled, not left pending, when the kernel stops', { timeout: 20_000 }, async (t) => {
  const kernel = await createTestKernel({ test: t, plugins: [{ use: 'tools', options: { grants: { a: ['*'] } } }] });
  const tools = kernel.resolve('tools');
  let signal: AbortSignal | undefined;
  tools.register({
    name: 'forever',
    description: 'd',
    input: z.object({}),
    handler: (_i, ctx) => ((signal = ctx.signal), new Promise<never>(() => {})),
  });
  const calls = [tools.call('a', 'forever', {}, { timeoutMs: Infinity }), tools.call('a', 'forever', {}, { timeoutMs: 2 ** 40 })];
  const settled = Promise.allSettled(calls);
  await new Promise((r) => setImmediate(r));
  await kernel.stop();
  for (const r of await settled) assert.equal(r.status === 'rejected' && (r.reason as Coded).code, 'TOOL_CANCELLED');
  assert.equal(signal!.aborted, true);
});
