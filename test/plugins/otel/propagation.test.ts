/**
 * W3C trace context leaving the process: a traced run's model requests, the HTTP calls its tools
 * make, its journal records and the tool bus's events each carry the `traceparent` of a span the
 * collector receives; a run started from a traced caller (an HTTP request, user code, a tool call on
 * another node over NATS) joins the caller's trace. With otel absent nothing carries one.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { parseTraceparent } from '../../../sdk/util/index.js';
import { createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import builtinTools from '../../../plugins/builtin-tools/index.js';
import openaiPlugin from '../../../plugins/provider-openai/index.js';
import scriptedPlugin from '../../../plugins/provider-scripted/index.js';
import otelPlugin from '../../../plugins/otel/index.js';
import type { StoredEvent } from '../../../plugins/events/types.js';
import { json, localApi } from '../providers/helpers.js';
import { natsKernel } from '../transport-nats/helpers.js';
import { skipWithoutNats, startNats } from '../transport-nats/natsServer.js';
import { OtlpReceiver, type ReceivedSpan } from './OtlpReceiver.js';

type Context = { after(fn: () => unknown): void };

async function receiverFor(t: Context): Promise<OtlpReceiver> {
  const receiver = await OtlpReceiver.start();
  t.after(() => receiver.close());
  return receiver;
}

/** A local HTTP server an agent's `http.fetch` calls; keeps each request's headers. */
async function pageServer(t: Context): Promise<{ url: string; host: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    res.end('the page says hi');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `http://${host}/page`, host, seen };
}

/** An OpenAI-compatible model that fetches `url` with `http.fetch`, then replies. */
async function fetchingModel(t: Context, url: string) {
  return localApi(t, (body, _req, res) => {
    const messages = body.messages as Array<{ role: string }>;
    if (messages.at(-1)!.role === 'user') {
      json(res, 200, {
        choices: [{ message: { content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'http__fetch', arguments: JSON.stringify({ url }) } }] } }],
        usage: { prompt_tokens: 30, completion_tokens: 5 },
      });
    } else {
      json(res, 200, { choices: [{ message: { content: 'read it' } }], usage: { prompt_tokens: 40, completion_tokens: 2 } });
    }
  });
}

function readerSystem(modelOrigin: string, pageHost: string, receiver: OtlpReceiver | undefined) {
  return [
    'supervision',
    'events',
    'actors',
    'tools',
    { use: builtinTools, options: { http: { allowHosts: [pageHost] } } },
    { use: agentsPlugin, options: { agents: [{ name: 'reader', provider: 'openai', model: 'gpt-test', tools: ['http.fetch'] }] } },
    { use: openaiPlugin, options: { baseUrl: `${modelOrigin}/v1`, apiKey: 'sk-test' } },
    ...(receiver !== undefined ? [{ use: otelPlugin, options: { endpoint: receiver.endpoint, serviceName: 'reader', batch: { scheduledDelayMs: 60_000 } } }] : []),
  ] as never[];
}

const tp = (span: ReceivedSpan): string => `00-${span.traceId}-${span.spanId}-01`;

describe('otel trace context propagation', () => {
  test("a run's model requests, its tools' HTTP calls, its journal and the tool bus's events each carry the traceparent of an exported span", async (t) => {
    const receiver = await receiverFor(t);
    const page = await pageServer(t);
    const model = await fetchingModel(t, page.url);
    const kernel = await createTestKernel({ plugins: readerSystem(model.origin, page.host, receiver), test: t });
    const result = await kernel.resolve('agents').run('reader', 'read the page');
    assert.equal(result.output, 'read it');
    const events = await kernel.resolve('events').byCorrelation(result.runId, { limit: 100 });
    await kernel.stop('test over');

    const run = receiver.one('invoke_agent reader');
    const chats = receiver.named('chat gpt-test').sort((a, b) => Number(a.attributes['mister_smith.turn']) - Number(b.attributes['mister_smith.turn']));
    const tool = receiver.one('execute_tool http.fetch');
    assert.equal(chats.length, 2);
    for (const span of [...chats, tool]) {
      assert.equal(span.traceId, run.traceId);
      assert.equal(span.parentSpanId, run.spanId);
    }

    // The model API saw each call's own span; the page saw the tool call's.
    assert.deepEqual(
      model.requests.map((r) => r.headers.traceparent),
      chats.map(tp),
    );
    assert.deepEqual(
      page.seen.map((h) => h.traceparent),
      [tp(tool)],
    );

    // Every journal record names the span it belongs to.
    const expected: Record<string, (e: StoredEvent) => string> = {
      'agent.run.started': () => tp(run),
      'agent.model.requested': () => tp(run),
      'agent.model.responded': (e) => tp(chats[(e.data as { turn: number }).turn]!),
      'agent.tool.called': () => tp(tool),
      'agent.tool.returned': () => tp(tool),
      'agent.run.completed': () => tp(run),
      // The tool bus's own event of the call.
      'tool.called': () => tp(tool),
    };
    assert.deepEqual(new Set(events.map((e) => e.type)), new Set(Object.keys(expected)));
    for (const event of events) assert.equal(event.traceparent, expected[event.type]!(event), `${event.type} carries its span's traceparent`);
  });

  test('with otel not loaded, no record, model request or tool HTTP call carries a traceparent', async (t) => {
    const page = await pageServer(t);
    const model = await fetchingModel(t, page.url);
    const kernel = await createTestKernel({ plugins: readerSystem(model.origin, page.host, undefined), test: t });
    const result = await kernel.resolve('agents').run('reader', 'read the page');
    assert.equal(result.output, 'read it');
    const events = await kernel.resolve('events').byCorrelation(result.runId, { limit: 100 });
    assert.ok(events.length >= 7);
    assert.ok(events.every((e) => !('traceparent' in e)));
    assert.equal(model.requests.length, 2);
    assert.ok(model.requests.every((r) => r.headers.traceparent === undefined));
    assert.deepEqual(
      page.seen.map((h) => h.traceparent),
      [undefined],
    );
  });

  test("a run started from a traced caller — user code or an HTTP request — is a child of the caller's span, in its trace; a bad traceparent is AGENT_BAD_INPUT", async (t) => {
    const receiver = await receiverFor(t);
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        'supervision',
        'events',
        'actors',
        'tools',
        'http',
        { use: agentsPlugin, options: { agents: [{ name: 'echo', provider: 'scripted', model: 'echo-model' }] } },
        { use: scriptedPlugin, options: { scripts: { 'echo-model': [{ reply: 'hi', usage: { inputTokens: 1, outputTokens: 1 } }] } } },
        { use: otelPlugin, options: { endpoint: receiver.endpoint, batch: { scheduledDelayMs: 60_000 } } },
      ] as never[],
    });
    const agents = kernel.resolve('agents');
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const fromCode = await agents.run('echo', 'hello', { traceparent: caller });

    const httpCaller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const response = await fetch(`${kernel.resolve('http').url}/agents/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: httpCaller },
      body: JSON.stringify({ agent: 'echo', input: 'hello' }),
    });
    assert.equal(response.status, 202);
    const { runId: fromHttp } = (await response.json()) as { runId: string };
    await agents.wait(fromHttp);

    for (const bad of ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', '00-00000000000000000000000000000000-b7ad6b7169203331-01', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']) {
      await assert.rejects(agents.run('echo', 'hello', { traceparent: bad }), (error: Error & { code?: string }) => error.code === 'AGENT_BAD_INPUT' && /traceparent/.test(error.message));
    }
    assert.equal(agents.runs().length, 2, 'a rejected start journals nothing');
    await kernel.stop('test over');

    const runs = receiver.named('invoke_agent echo');
    const byRun = new Map(runs.map((s) => [s.attributes['mister_smith.run_id'], s]));
    for (const [runId, callerTp] of [
      [fromCode.runId, caller],
      [fromHttp, httpCaller],
    ] as const) {
      const span = byRun.get(runId)!;
      const parent = parseTraceparent(callerTp)!;
      assert.equal(span.traceId, parent.traceId, 'in the caller trace');
      assert.equal(span.parentSpanId, parent.spanId, "a child of the caller's span");
      const chat = receiver.named('chat echo-model').find((s) => s.parentSpanId === span.spanId);
      assert.equal(chat?.traceId, parent.traceId);
    }
  });

  test("a tool call outside any run with a traceparent is a span under the caller's; sampleRatio 0 propagates an unsampled context", async (t) => {
    const receiver = await receiverFor(t);
    const sampledOut = await receiverFor(t);
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const kernel = await createTestKernel({
      test: t,
      plugins: ['supervision', 'events', 'tools', 'builtin-tools', { use: otelPlugin, options: { endpoint: receiver.endpoint, batch: { scheduledDelayMs: 60_000 } } }] as never[],
    });
    const tools = kernel.resolve('tools');
    tools.grant('ops', 'echo');
    await tools.call('ops', 'echo', { message: 'x' }, { traceparent: caller });
    await tools.call('ops', 'echo', { message: 'untraced' });
    await kernel.stop('test over');
    const spans = receiver.named('execute_tool echo');
    assert.equal(spans.length, 2);
    const traced = spans.find((s) => s.parentSpanId !== undefined);
    const untraced = spans.find((s) => s !== traced);
    assert.equal(traced!.traceId, parseTraceparent(caller)!.traceId);
    assert.equal(traced!.parentSpanId, parseTraceparent(caller)!.spanId);
    assert.notEqual(untraced!.traceId, traced!.traceId, 'an untraced call starts a trace of its own');
    assert.equal(untraced!.parentSpanId, undefined);

    // Not sampled: the context still travels (flags 00) so downstream services agree, and nothing is exported.
    const page = await pageServer(t);
    const model = await fetchingModel(t, page.url);
    const quiet = await createTestKernel({
      test: t,
      plugins: readerSystem(model.origin, page.host, undefined).concat([{ use: otelPlugin, options: { endpoint: sampledOut.endpoint, sampleRatio: 0 } }] as never[]),
    });
    await quiet.resolve('agents').run('reader', 'read the page');
    await quiet.stop('test over');
    assert.equal(sampledOut.spans.length, 0);
    const sent = [...model.requests.map((r) => r.headers.traceparent), page.seen[0]!.traceparent];
    assert.equal(sent.length, 3);
    for (const value of sent) {
      const parsed = parseTraceparent(value);
      assert.ok(parsed !== undefined, `a valid traceparent: ${String(value)}`);
      assert.equal(parsed.sampled, false);
    }
  });

  test("over NATS, a sub-run on another node joins the caller's trace under the tool call that started it", skipWithoutNats(), async (t) => {
    const receiver = await receiverFor(t);
    const server = await startNats(t);
    const otel = (service: string) => ({ use: otelPlugin, options: { endpoint: receiver.endpoint, serviceName: service, batch: { scheduledDelayMs: 60_000 } } });
    const scripted = {
      use: scriptedPlugin,
      options: {
        scripts: {
          'boss-model': [
            { toolCalls: [{ name: 'agent.helper', input: { prompt: 'add 2 and 3' } }], usage: { inputTokens: 10, outputTokens: 2 } },
            { reply: 'boss done', usage: { inputTokens: 12, outputTokens: 2 } },
          ],
          'helper-model': [{ reply: '5', usage: { inputTokens: 5, outputTokens: 1 } }],
        },
      },
    };
    const common = ['supervision', 'events', 'actors', 'tools'];
    const b = await natsKernel(t, server.url, { system: 'tp', discoveryStallMs: 100, exposeTools: ['agent.*'] }, [
      ...common,
      { use: agentsPlugin, options: { agents: [{ name: 'helper', provider: 'scripted', model: 'helper-model' }] } },
      scripted,
      otel('node-b'),
    ] as never[]);
    const bAgents = b.kernel.resolve('agents');
    bAgents.asTool('helper');
    b.kernel.resolve('tools').grant('boss', 'agent.*');
    await b.nats.exposeTools('agent.*');

    const a = await natsKernel(t, server.url, { system: 'tp', discoveryStallMs: 100 }, [
      ...common,
      { use: agentsPlugin, options: { agents: [{ name: 'boss', provider: 'scripted', model: 'boss-model', tools: ['agent.*'] }] } },
      scripted,
      otel('node-a'),
    ] as never[]);
    assert.deepEqual(await a.nats.importTools('agent.*'), ['agent.helper']);
    const result = await a.kernel.resolve('agents').run('boss', 'go');
    assert.equal(result.output, 'boss done');
    await a.kernel.stop('test over');
    await b.kernel.stop('test over');

    const boss = receiver.one('invoke_agent boss');
    const calls = receiver.named('execute_tool agent.helper');
    const call = calls.find((s) => s.service === 'node-a')!;
    // The owner's tool bus records the call it served, under the caller's tool span.
    const served = calls.find((s) => s.service === 'node-b')!;
    assert.equal(served.traceId, boss.traceId);
    assert.equal(served.parentSpanId, call.spanId);
    const helper = receiver.one('invoke_agent helper');
    assert.equal(boss.service, 'node-a');
    assert.equal(call.service, 'node-a');
    assert.equal(helper.service, 'node-b');
    assert.equal(call.parentSpanId, boss.spanId);
    assert.equal(helper.traceId, boss.traceId, 'one trace across both nodes');
    assert.equal(helper.parentSpanId, call.spanId, 'the sub-run hangs under the tool call on the other node');
    const helperChat = receiver.one('chat helper-model');
    assert.equal(helperChat.traceId, boss.traceId);
    assert.equal(helperChat.parentSpanId, helper.spanId);
  });
});
