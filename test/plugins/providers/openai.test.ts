import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { definePlugin, z } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import openaiPlugin, { OpenAIProvider } from '../../../plugins/provider-openai/index.js';
import { collect, failure, json, localApi, modelRequest, sse } from './helpers.js';

const mathTools = definePlugin({
  name: 'math-tools',
  version: '1.0.0',
  dependsOn: ['tools'],
  setup(ctx) {
    ctx.onStop(ctx.resolve('tools').register({ name: 'math.add', description: 'Adds two numbers', input: z.object({ a: z.number(), b: z.number() }), output: z.number(), handler: ({ a, b }) => a + b }));
  },
});

const provider = (baseUrl: string, extra: { timeoutMs?: number; apiKey?: string } = {}) =>
  new OpenAIProvider({ name: 'openai', baseUrl, apiKey: extra.apiKey ?? 'sk-test', timeoutMs: extra.timeoutMs ?? 10_000, headers: {} });

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Splits `{"a":2,"b":3}` over several deltas, as real servers do. */
function streamToolCall(res: Parameters<typeof sse>[0]) {
  const s = sse(res);
  s.send({ choices: [{ delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'math__add', arguments: '' } }] } }] });
  s.send({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":2,' } }] } }] });
  s.send({ choices: [{ delta: { tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'math__add', arguments: '{"a":1,"b":1}' } }] } }] });
  s.send({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '"b":3}' } }] } }] });
  s.send({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] });
  s.send({ choices: [], usage: { prompt_tokens: 30, completion_tokens: 5 } });
  s.send('[DONE]');
  s.end();
}

describe('provider-openai', () => {
  test('an agent run speaks chat completions with function tools and maps dotted tool names; the key comes from the env var named in options', async (t) => {
    const api = await localApi(t, (body, _req, res) => {
      const messages = body.messages as Array<{ role: string }>;
      if (messages.at(-1)!.role === 'user') {
        json(res, 200, { choices: [{ message: { content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'math__add', arguments: '{"a":2,"b":3}' } }] } }], usage: { prompt_tokens: 30, completion_tokens: 5 } });
      } else {
        json(res, 200, { choices: [{ message: { content: 'The sum is 5.' } }], usage: { prompt_tokens: 40, completion_tokens: 6 } });
      }
    });
    process.env.MS_TEST_OPENAI_KEY = 'sk-from-env';
    t.after(() => delete process.env.MS_TEST_OPENAI_KEY);
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        'supervision',
        'actors',
        'tools',
        mathTools,
        { use: agentsPlugin, options: { agents: [{ name: 'calculator', provider: 'openai', model: 'gpt-test', instructions: 'Add numbers.', tools: ['math.*'] }] } },
        { use: openaiPlugin, options: { baseUrl: `${api.origin}/v1`, apiKeyEnv: 'MS_TEST_OPENAI_KEY' } },
      ],
    });
    const result = await kernel.resolve('agents').run('calculator', 'add 2 and 3');
    assert.equal(result.output, 'The sum is 5.');
    assert.equal(result.usage.inputTokens, 70);
    assert.equal(result.usage.outputTokens, 11);
    assert.equal(result.usage.toolCalls, 1);
    const first = api.requests[0]!;
    const second = api.requests.at(-1)!;
    assert.equal(first.path, '/v1/chat/completions');
    assert.equal(first.headers.authorization, 'Bearer sk-from-env');
    assert.equal(first.body.model, 'gpt-test');
    assert.deepEqual((first.body.messages as unknown[])[0], { role: 'system', content: 'Add numbers.' });
    const tool = (first.body.tools as Array<{ function: { name: string; parameters: { properties: object } } }>)[0]!;
    assert.equal(tool.function.name, 'math__add');
    assert.deepEqual(Object.keys(tool.function.parameters.properties), ['a', 'b']);
    const toolMessage = (second.body.messages as Array<{ role: string; tool_call_id?: string; content?: string }>).at(-1);
    assert.deepEqual(toolMessage, { role: 'tool', tool_call_id: 'call_1', content: '5' });
  });

  test('stream: text deltas as they arrive, then the whole response with usage', async (t) => {
    const api = await localApi(t, (_b, _r, res) => {
      const s = sse(res);
      for (const piece of ['The ', 'sum ', 'is 5.']) s.send({ choices: [{ delta: { content: piece } }] });
      s.send({ choices: [{ delta: {}, finish_reason: 'stop' }] });
      s.send({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 4 } });
      s.send('[DONE]');
      s.end();
    });
    const { deltas, response } = await collect(provider(`${api.origin}/v1`).stream(modelRequest()));
    assert.deepEqual(deltas, ['The ', 'sum ', 'is 5.']);
    assert.deepEqual(response, { reply: 'The sum is 5.', usage: { inputTokens: 12, outputTokens: 4 } });
    assert.equal(api.requests[0]!.body.stream, true);
    assert.deepEqual(api.requests[0]!.body.stream_options, { include_usage: true });
  });

  test('stream: tool-call deltas are assembled by index (interleaved, arguments split)', async (t) => {
    const api = await localApi(t, (_b, _r, res) => streamToolCall(res));
    const { deltas, response } = await collect(provider(`${api.origin}/v1`).stream(modelRequest()));
    assert.deepEqual(deltas, []);
    assert.deepEqual(response, {
      toolCalls: [
        { id: 'call_1', name: 'math.add', input: { a: 2, b: 3 } },
        { id: 'call_2', name: 'math.add', input: { a: 1, b: 1 } },
      ],
      usage: { inputTokens: 30, outputTokens: 5 },
    });
  });

  test('complete: a server that streams although asked not to is still understood', async (t) => {
    const api = await localApi(t, (_b, _r, res) => streamToolCall(res));
    const response = await provider(`${api.origin}/v1`).complete(modelRequest());
    assert.equal(response.toolCalls?.length, 2);
    assert.equal(api.requests[0]!.body.stream, undefined);
  });

  test('429 with Retry-After (seconds) or retry-after-ms is retryable and carries the delay', async (t) => {
    let headers: Record<string, string> = { 'retry-after': '2' };
    const api = await localApi(t, (_b, _r, res) => json(res, 429, { error: { message: 'slow down' } }, headers));
    const p = provider(`${api.origin}/v1`);
    const seconds = await failure(p.complete(modelRequest()));
    assert.equal(seconds.code, 'OPENAI_HTTP_ERROR');
    assert.equal(seconds.retryable, true);
    assert.equal(seconds.retryAfterMs, 2000);
    assert.equal(seconds.context.status, 429);
    assert.match(seconds.message, /429: slow down/);
    headers = { 'retry-after-ms': '1500', 'retry-after': '9' };
    const ms = await failure(p.stream(modelRequest())[Symbol.asyncIterator]().next());
    assert.equal(ms.retryAfterMs, 1500);
  });

  test('401 and 403 are not retryable and say to check the key; 500 and 503 are retryable; 400 is not', async (t) => {
    let status = 401;
    const api = await localApi(t, (_b, _r, res) => json(res, status, { error: { message: `status ${status}` } }, { 'retry-after': '1' }));
    const p = provider(`${api.origin}/v1`);
    for (const [s, retryable] of [[401, false], [403, false], [500, true], [503, true], [400, false]] as const) {
      status = s;
      const error = await failure(p.complete(modelRequest()));
      assert.equal(error.code, 'OPENAI_HTTP_ERROR', String(s));
      assert.equal(error.retryable, retryable, String(s));
      assert.equal(error.context.status, s);
      assert.equal(error.retryAfterMs, retryable ? 1000 : undefined, String(s));
      if (s === 401) assert.match(error.message, /check the API key/);
    }
  });

  test('bad JSON: a body, a streamed event, or tool arguments that are not JSON are typed and not retryable', async (t) => {
    let mode = 'html';
    const api = await localApi(t, (_b, _r, res) => {
      if (mode === 'html') return (res.writeHead(200, { 'content-type': 'text/html' }), res.end('<html>gateway</html>'));
      const s = sse(res);
      if (mode === 'event') s.send('{"choices": [');
      else s.send({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'c1', function: { name: 'math__add', arguments: '{"a":' } }] }, finish_reason: 'tool_calls' }] });
      s.send('[DONE]');
      s.end();
    });
    const p = provider(`${api.origin}/v1`);
    for (const m of ['html', 'event', 'arguments']) {
      mode = m;
      const error = await failure(collect(p.stream(modelRequest())));
      assert.equal(error.code, 'OPENAI_BAD_RESPONSE', m);
      assert.equal(error.retryable, false, m);
    }
  });

  test('a stream cut in the middle (socket destroyed, or closed before its end) is a retryable interruption', async (t) => {
    let mode = 'destroy';
    const api = await localApi(t, (_b, _r, res) => {
      const s = sse(res);
      s.send({ choices: [{ delta: { content: 'The sum' } }] });
      if (mode === 'destroy') setImmediate(() => s.cut());
      else s.end();
    });
    const p = provider(`${api.origin}/v1`);
    for (const m of ['destroy', 'close']) {
      mode = m;
      const deltas: string[] = [];
      const error = await failure(
        (async () => {
          for await (const chunk of p.stream(modelRequest())) if (chunk.type === 'text.delta') deltas.push(chunk.text);
        })(),
      );
      assert.equal(error.code, 'OPENAI_STREAM_INTERRUPTED', m);
      assert.equal(error.retryable, true, m);
      assert.deepEqual(deltas, ['The sum'], m);
    }
  });

  test('an error event in a stream is typed by its kind', async (t) => {
    const api = await localApi(t, (_b, _r, res) => {
      const s = sse(res);
      s.send({ error: { message: 'The server had an error', type: 'server_error' } });
      s.end();
    });
    const error = await failure(collect(provider(`${api.origin}/v1`).stream(modelRequest())));
    assert.equal(error.code, 'OPENAI_API_ERROR');
    assert.equal(error.retryable, true);
  });

  test('a server that never answers times out (retryable); a caller abort is a cancellation, not a timeout', async (t) => {
    const api = await localApi(t, () => undefined);
    const timedOut = await failure(provider(`${api.origin}/v1`, { timeoutMs: 100 }).complete(modelRequest()));
    assert.equal(timedOut.code, 'OPENAI_TIMEOUT');
    assert.equal(timedOut.retryable, true);
    const controller = new AbortController();
    const pending = failure(provider(`${api.origin}/v1`).complete(modelRequest({ signal: controller.signal })));
    while (api.requests.length < 2) await new Promise((r) => setImmediate(r));
    controller.abort();
    const cancelled = await pending;
    assert.notEqual(cancelled.code, 'OPENAI_TIMEOUT');
    assert.equal(cancelled.retryable, false);
  });

  test('a server that is not there is unreachable (retryable)', async () => {
    const error = await failure(provider(`http://127.0.0.1:${await closedPort()}/v1`).complete(modelRequest()));
    assert.equal(error.code, 'OPENAI_UNREACHABLE');
    assert.equal(error.retryable, true);
    assert.match(error.message, /ECONNREFUSED/);
  });

  test('requireApiKey without a key fails the start, naming the variable', async () => {
    await assert.rejects(
      createTestKernel({ plugins: ['supervision', 'actors', 'tools', agentsPlugin, { use: openaiPlugin, options: { requireApiKey: true, apiKeyEnv: 'MS_TEST_NO_SUCH_KEY' } }] }),
      /MS_TEST_NO_SUCH_KEY/,
    );
  });

  test('passes the conformance check', async () => {
    await checkPluginConformance(openaiPlugin, { with: ['supervision', 'actors', 'tools', agentsPlugin] });
  });
});

