/** The otel plugin against a local OTLP/HTTP receiver: span trees of agent runs, tools, HTTP and the kernel. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, definePlugin, z } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import { createKernel } from '../../../kernel/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import scriptedPlugin from '../../../plugins/provider-scripted/index.js';
import otelPlugin from '../../../plugins/otel/index.js';
import { OtlpReceiver, type ReceivedSpan } from './OtlpReceiver.js';

const ERROR = 2;
const SERVER = 2;

const testTools = definePlugin({
  name: 'otel-test-tools',
  version: '1.0.0',
  dependsOn: ['tools'],
  setup(ctx) {
    const tools = ctx.resolve('tools');
    ctx.onStop(tools.register({ name: 'math.add', description: 'adds', input: z.object({ a: z.number(), b: z.number() }), handler: ({ a, b }) => a + b }));
    ctx.onStop(
      tools.register({
        name: 'disk.wipe',
        description: 'always fails',
        input: z.object({}),
        handler: () => {
          throw new Error('the disk said no');
        },
      }),
    );
    ctx.onStop(tools.register({ name: 'pay.send', description: 'needs a human', input: z.object({ amount: z.number() }), needsApproval: true, handler: ({ amount }) => `sent ${amount}` }));
  },
});

const usage = (inputTokens: number, outputTokens: number) => ({ inputTokens, outputTokens });

const scripts = {
  boss: [
    { toolCalls: [{ name: 'agent.helper', input: { prompt: 'add 2 and 3' } }], usage: usage(40, 6), costUsd: 0.002 },
    { toolCalls: [{ name: 'disk.wipe', input: {} }], usage: usage(50, 4) },
    { reply: 'boss done', usage: usage(60, 3) },
  ],
  helper: [{ toolCalls: [{ name: 'math.add', input: { a: 2, b: 3 } }], usage: usage(20, 5) }, { reply: '5', usage: usage(25, 1) }],
  payer: [{ toolCalls: [{ name: 'pay.send', input: { amount: 12 } }], usage: usage(10, 2) }, { reply: 'paid', usage: usage(12, 1) }],
};

const agentDefs = [
  { name: 'boss', provider: 'scripted', model: 'boss-model', tools: ['agent.*', 'disk.*', 'math.*'] },
  { name: 'helper', provider: 'scripted', model: 'helper-model', tools: ['math.*'] },
  { name: 'payer', provider: 'scripted', model: 'payer-model', tools: ['pay.*'], onInDoubt: 'suspend' },
];

function plugins(receiver: OtlpReceiver, events: unknown = 'events', agentsExtra: Record<string, unknown> = {}) {
  return [
    'supervision',
    events,
    'actors',
    'tools',
    'http',
    testTools,
    { use: agentsPlugin, options: { agents: agentDefs, ...agentsExtra } },
    { use: scriptedPlugin, options: { scripts: modelScripts() } },
    { use: otelPlugin, options: { endpoint: receiver.endpoint, serviceName: 'otel-test', batch: { scheduledDelayMs: 60_000 } } },
  ] as never[];
}

/** The scripts keyed by model name (the scripted provider picks a script by the agent's model). */
function modelScripts(): Record<string, unknown[]> {
  return { 'boss-model': scripts.boss, 'helper-model': scripts.helper, 'payer-model': scripts.payer };
}

function childrenOf(spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((s) => s.parentSpanId === parent.spanId);
}

async function receiverFor(t: { after(fn: () => unknown): void }): Promise<OtlpReceiver> {
  const receiver = await OtlpReceiver.start();
  t.after(() => receiver.close());
  return receiver;
}

describe('otel', () => {
  test('a delegating agent run arrives as one span tree: run → model calls and tool calls → the sub-run under its tool call', async (t) => {
    const receiver = await receiverFor(t);
    const kernel = await createTestKernel({ plugins: plugins(receiver), config: { name: 'traced' } });
    const agents = kernel.resolve('agents');
    agents.asTool('helper');
    const result = await agents.run('boss', 'go');
    assert.equal(result.output, 'boss done');
    const response = await fetch(`${kernel.resolve('http').url}/agents`);
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.equal(receiver.spans.length, 0, 'nothing is exported before the batch is due or the kernel stops');
    await kernel.stop('test over');

    const spans = receiver.spans;
    assert.ok(spans.every((s) => s.service === 'otel-test'));
    const boss = receiver.one('invoke_agent boss');
    assert.equal(boss.parentSpanId, undefined);
    assert.equal(boss.attributes['gen_ai.operation.name'], 'invoke_agent');
    assert.equal(boss.attributes['gen_ai.provider.name'], 'scripted');
    assert.equal(boss.attributes['gen_ai.request.model'], 'boss-model');
    assert.equal(boss.attributes['mister_smith.run_id'], result.runId);
    assert.equal(boss.attributes['gen_ai.usage.input_tokens'], 150);
    assert.equal(boss.attributes['gen_ai.usage.output_tokens'], 13);
    assert.equal(boss.attributes['mister_smith.usage.cost_usd'], 0.002);

    const bossChildren = childrenOf(spans, boss).map((s) => s.name).sort();
    assert.deepEqual(bossChildren, ['chat boss-model', 'chat boss-model', 'chat boss-model', 'execute_tool agent.helper', 'execute_tool disk.wipe']);
    const firstChat = childrenOf(spans, boss).find((s) => s.name === 'chat boss-model' && s.attributes['mister_smith.turn'] === 0)!;
    assert.equal(firstChat.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(firstChat.attributes['gen_ai.request.model'], 'boss-model');
    assert.equal(firstChat.attributes['gen_ai.usage.input_tokens'], 40);
    assert.equal(firstChat.attributes['gen_ai.usage.output_tokens'], 6);
    assert.equal(firstChat.attributes['mister_smith.usage.cost_usd'], 0.002);

    const delegation = receiver.one('execute_tool agent.helper');
    const helper = receiver.one('invoke_agent helper');
    assert.equal(helper.parentSpanId, delegation.spanId, 'the sub-run is a child of the tool call that started it');
    assert.equal(helper.traceId, boss.traceId, 'one trace for the run tree');
    assert.equal(helper.attributes['mister_smith.parent_run_id'], result.runId);
    const add = receiver.one('execute_tool math.add');
    assert.equal(add.parentSpanId, helper.spanId);
    assert.equal(add.attributes['gen_ai.tool.name'], 'math.add');
    assert.equal(add.attributes['mister_smith.tool.outcome'], 'ok');
    assert.equal(add.status.code, 0);
    assert.equal(add.attributes['mister_smith.tool.input'], undefined, 'payloads are not recorded unless allowed');

    const wipe = receiver.one('execute_tool disk.wipe');
    assert.equal(wipe.status.code, ERROR);
    assert.equal(wipe.attributes['error.type'], 'TOOL_FAILED');
    assert.equal(boss.status.code, 0, 'a failed tool call the model recovered from does not fail the run');
    for (const s of [firstChat, delegation, helper, add, wipe]) assert.ok(s.startMs >= boss.startMs && s.endMs <= boss.endMs, `${s.name} lies within the run`);

    const http = receiver.one('GET /agents');
    assert.equal(http.kind, SERVER);
    assert.equal(http.attributes['http.route'], '/agents');
    assert.equal(http.attributes['http.response.status_code'], 200);

    const start = receiver.one('kernel.start');
    const phases = childrenOf(spans, start).map((s) => s.name);
    assert.ok(phases.includes('setup otel') && phases.includes('start http') && phases.includes('setup agents'), phases.join(', '));
    const stop = receiver.one('kernel.stop');
    assert.ok(childrenOf(spans, stop).some((s) => s.name === 'stop agents'));
  });

  test('an incoming traceparent makes the HTTP span a child of the caller; a 5xx is an error span', async (t) => {
    const receiver = await receiverFor(t);
    const failing = definePlugin({
      name: 'failing-route',
      version: '1.0.0',
      dependsOn: ['http'],
      setup(ctx) {
        ctx.onStop(ctx.resolve('http').route('GET', '/boom/:id', () => ({ status: 503, body: { error: 'down' } })));
      },
    });
    const kernel = await createTestKernel({
      plugins: ['http', failing, { use: otelPlugin, options: { endpoint: receiver.endpoint } }] as never[],
    });
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const response = await fetch(`${kernel.resolve('http').url}/boom/42`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(response.status, 503);
    await response.arrayBuffer();
    await kernel.stop('test over');
    const span = receiver.one('GET /boom/:id');
    assert.equal(span.traceId, traceId);
    assert.equal(span.parentSpanId, 'b7ad6b7169203331');
    assert.equal(span.status.code, ERROR);
  });

  test('a run suspended across a restart is resumed in the same trace, linked to its first span', async (t) => {
    const receiver = await receiverFor(t);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'otel-resume-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const events = { use: 'events', options: { store: { type: 'file', dir } } };

    const first = await createTestKernel({ plugins: plugins(receiver, events, { recovery: 'resume' }) });
    const { runId } = await first.resolve('agents').start('payer', 'pay the bill');
    await until(() => first.resolve('agents').runs({ status: 'suspended' }).length === 1, 'the run to suspend for approval');
    await first.stop('restart');
    const before = receiver.one('invoke_agent payer');
    assert.equal(before.attributes['mister_smith.interrupted'], true, 'a run cut by a stop is exported as far as it got');

    const second = await createTestKernel({ plugins: plugins(receiver, events, { recovery: 'resume' }) });
    const agents = second.resolve('agents');
    await until(() => agents.runs({ status: 'suspended' }).length === 1, 'the run to be found suspended again');
    const pending = agents.runs({ status: 'suspended' })[0]!.pending![0]!;
    await agents.approve(runId, pending.callId, 'allow');
    assert.equal((await agents.wait(runId)).output, 'paid');
    await second.stop('done');

    const runs = receiver.named('invoke_agent payer');
    assert.equal(runs.length, 2);
    const resumed = runs[1]!;
    assert.equal(resumed.traceId, before.traceId, 'the resumed run continues the same trace');
    assert.notEqual(resumed.spanId, before.spanId);
    assert.equal(resumed.attributes['mister_smith.resumed'], true);
    assert.deepEqual(resumed.links, [{ traceId: before.traceId, spanId: before.spanId }]);
    assert.ok(childrenOf(receiver.spans, resumed).some((s) => s.name === 'execute_tool pay.send'));
  });

  test('tool calls outside agent runs become spans of their own, denials as errors', async (t) => {
    const receiver = await receiverFor(t);
    const kernel = await createTestKernel({
      plugins: ['events', 'tools', testTools, { use: otelPlugin, options: { endpoint: receiver.endpoint } }] as never[],
    });
    const tools = kernel.resolve('tools');
    tools.grant('ops', ['math.*']);
    assert.equal(await tools.call('ops', 'math.add', { a: 1, b: 2 }), 3);
    await assert.rejects(tools.call('ops', 'disk.wipe', {}), { code: 'TOOL_ACCESS_DENIED' });
    await kernel.stop('test over');
    const add = receiver.one('execute_tool math.add');
    assert.equal(add.attributes['mister_smith.agent'], 'ops');
    assert.equal(add.attributes['mister_smith.tool.outcome'], 'ok');
    const denied = receiver.one('execute_tool disk.wipe');
    assert.equal(denied.attributes['mister_smith.tool.outcome'], 'denied');
    assert.equal(denied.attributes['error.type'], 'TOOL_ACCESS_DENIED');
    assert.equal(denied.status.code, ERROR);
  });

  test('tool payloads are recorded only when allowed, and cut at maxPayloadChars', async (t) => {
    const receiver = await receiverFor(t);
    const base = plugins(receiver).slice(0, -1);
    const kernel = await createTestKernel({ plugins: [...base, { use: otelPlugin, options: { endpoint: receiver.endpoint, recordToolPayloads: true, maxPayloadChars: 8 } }] as never[] });
    assert.equal((await kernel.resolve('agents').run('helper', 'add')).output, '5');
    await kernel.stop('test over');
    const add = receiver.one('execute_tool math.add');
    assert.equal(add.attributes['mister_smith.tool.input'], '{"a":2,"…[5 more]');
    assert.equal(add.attributes['mister_smith.tool.output'], '5');
  });

  test('sampleRatio 0 records nothing; spans are flushed at stop even with a long batch delay', async (t) => {
    const receiver = await receiverFor(t);
    const kernel = await createTestKernel({ plugins: ['tools', 'events', testTools, { use: otelPlugin, options: { endpoint: receiver.endpoint, sampleRatio: 0 } }] as never[] });
    kernel.resolve('tools').grant('ops', ['*']);
    await kernel.resolve('tools').call('ops', 'math.add', { a: 1, b: 1 });
    await kernel.stop('test over');
    assert.deepEqual(receiver.spans, []);
  });

  test('an unreachable endpoint does not hold up the stop beyond flushTimeoutMs', async () => {
    const receiver = await OtlpReceiver.start();
    const endpoint = receiver.endpoint;
    await receiver.close();
    const kernel = await createTestKernel({ plugins: [{ use: otelPlugin, options: { endpoint, flushTimeoutMs: 200, batch: { exportTimeoutMs: 200 } } }] as never[] });
    const report = await kernel.stop('test over');
    assert.deepEqual(report.errors, []);
    assert.equal(kernel.state, 'stopped');
  });

  test('options are strict and checked: a bad ratio, a bad URL and an unknown key are config errors', async () => {
    for (const [options, pattern] of [
      [{ sampleRatio: 2 }, /sampleRatio/],
      [{ endpoint: 'not a url' }, /endpoint/],
      [{ endpont: 'http://127.0.0.1:4318/v1/traces' }, /endpont/],
    ] as const) {
      await assert.rejects(createKernel({ config: { plugins: [{ use: otelPlugin as never, options }] } }), (error: unknown) => error instanceof ConfigError && pattern.test(error.message));
    }
  });

  test('with the collector down, stop leaves no export retry timer behind (conformance against a closed port)', async () => {
    // The exporter retries a refused connection on its own timers; with exportTimeoutMs (10 s) above
    // flushTimeoutMs they outlived the stop's flush cut and kept the process alive.
    const receiver = await OtlpReceiver.start();
    const endpoint = receiver.endpoint;
    await receiver.close();
    await checkPluginConformance(otelPlugin, { options: { endpoint, flushTimeoutMs: 1500 } });
  });

  test('passes the conformance check', async (t) => {
    const receiver = await receiverFor(t);
    await checkPluginConformance(otelPlugin, { options: { endpoint: receiver.endpoint } });
  });
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
