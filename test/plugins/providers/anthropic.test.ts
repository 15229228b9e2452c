import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { definePlugin, z } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import anthropicPlugin, { AnthropicProvider } from '../../../plugins/provider-anthropic/index.js';
import { collect, failure, json, localApi, modelRequest, sse } from './helpers.js';

const mathTools = definePlugin({
  name: 'math-tools',
  version: '1.0.0',
  dependsOn: ['tools'],
  setup(ctx) {
    ctx.onStop(ctx.resolve('tools').register({ name: 'math.add', description: 'Adds two numbers', input: z.object({ a: z.number(), b: z.number() }), output: z.number(), handler: ({ a, b }) => a + b }));
  },
});

const provider = (baseUrl: string, extra: { timeoutMs?: number } = {}) =>
  new AnthropicProvider({ name: 'anthropic', baseUrl, apiKey: 'sk-ant-test', apiVersion: '2023-06-01', maxOutputTokens: 1024, timeoutMs: extra.timeoutMs ?? 10_000, headers: {} });

/** A streamed answer with some text, then a tool use whose input arrives in pieces. */
function streamToolUse(res: Parameters<typeof sse>[0], opts: { stopAfter?: number } = {}) {
  const s = sse(res);
  const events: Array<[string, unknown]> = [
    ['message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], stop_reason: null, usage: { input_tokens: 25, cache_read_input_tokens: 5, output_tokens: 1 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', { type: 'ping' }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'add.' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'math__add', input: {} } }],
    ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a": 2' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ', "b": 3}' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 1 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 17 } }],
    ['message_stop', { type: 'message_stop' }],
  ];
  for (const [i, [name, data]] of events.entries()) {
    if (opts.stopAfter !== undefined && i === opts.stopAfter) return s;
    s.send(data, name);
  }
  s.end();
  return s;
}

describe('provider-anthropic', () => {
  test('an agent run speaks the Messages API: system, tools as input_schema, tool_use → tool_result, usage', async (t) => {
    const api = await localApi(t, (body, _req, res) => {
      const messages = body.messages as Array<{ role: string; content: unknown }>;
      if (messages.length === 1) {
        json(res, 200, { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'math__add', input: { a: 2, b: 3 } }], stop_reason: 'tool_use', usage: { input_tokens: 30, output_tokens: 5 } });
      } else {
        json(res, 200, { id: 'msg_2', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'The sum is 5.' }], stop_reason: 'end_turn', usage: { input_tokens: 40, output_tokens: 6 } });
      }
    });
    process.env.MS_TEST_ANTHROPIC_KEY = 'sk-ant-env';
    t.after(() => delete process.env.MS_TEST_ANTHROPIC_KEY);
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        'supervision',
        'actors',
        'tools',
        mathTools,
        { use: agentsPlugin, options: { agents: [{ name: 'calculator', provider: 'anthropic', model: 'claude-test', instructions: 'Add numbers.', tools: ['math.*'] }] } },
        { use: anthropicPlugin, options: { baseUrl: api.origin, apiKeyEnv: 'MS_TEST_ANTHROPIC_KEY', maxOutputTokens: 512 } },
      ],
    });
    const result = await kernel.resolve('agents').run('calculator', 'add 2 and 3');
    assert.equal(result.output, 'The sum is 5.');
    assert.equal(result.usage.inputTokens, 70);
    assert.equal(result.usage.outputTokens, 11);
    const first = api.requests[0]!;
    const last = api.requests.at(-1)!;
    assert.equal(first.path, '/v1/messages');
    assert.equal(first.headers['x-api-key'], 'sk-ant-env');
    assert.equal(first.headers['anthropic-version'], '2023-06-01');
    assert.equal(first.body.system, 'Add numbers.');
    assert.equal(first.body.max_tokens, 512);
    const tool = (first.body.tools as Array<{ name: string; input_schema: { properties: object } }>)[0]!;
    assert.equal(tool.name, 'math__add');
    assert.deepEqual(Object.keys(tool.input_schema.properties), ['a', 'b']);
    const messages = last.body.messages as Array<{ role: string; content: unknown }>;
    assert.deepEqual(messages.at(-2), { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'math__add', input: { a: 2, b: 3 } }] });
    assert.deepEqual(messages.at(-1), { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '5' }] });
  });

  test('parallel tool results share one user message', async (t) => {
    const api = await localApi(t, (_b, _r, res) => json(res, 200, { type: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 1, output_tokens: 1 } }));
    await provider(api.origin).complete(
      modelRequest({
        messages: [
          { role: 'user', content: 'two sums' },
          { role: 'assistant', toolCalls: [{ id: 't1', name: 'math.add', input: { a: 1, b: 1 } }, { id: 't2', name: 'math.add', input: { a: 2, b: 2 } }] },
          { role: 'tool', toolCallId: 't1', name: 'math.add', content: '2', isError: false },
          { role: 'tool', toolCallId: 't2', name: 'math.add', content: 'boom', isError: true },
        ],
      }),
    );
    const messages = api.requests[0]!.body.messages as Array<{ role: string; content: unknown }>;
    assert.equal(messages.length, 3);
    assert.deepEqual(messages[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '2' }, { type: 'tool_result', tool_use_id: 't2', content: 'boom', is_error: true }] });
  });

  test('stream: message_start … message_stop, text deltas as they arrive, tool input assembled, usage with cached tokens', async (t) => {
    const api = await localApi(t, (_b, _r, res) => void streamToolUse(res));
    const { deltas, response } = await collect(provider(api.origin).stream(modelRequest()));
    assert.deepEqual(deltas, ['Let me ', 'add.']);
    assert.deepEqual(response, { reply: 'Let me add.', toolCalls: [{ id: 'toolu_1', name: 'math.add', input: { a: 2, b: 3 } }], usage: { inputTokens: 30, outputTokens: 17 } });
    assert.equal(api.requests[0]!.body.stream, true);
  });

  test('complete reads a streamed answer too', async (t) => {
    const api = await localApi(t, (_b, _r, res) => void streamToolUse(res));
    const response = await provider(api.origin).complete(modelRequest());
    assert.equal(response.toolCalls?.[0]?.name, 'math.add');
  });

  test('429 with retry-after is retryable with the delay; 529 overloaded and 500 are retryable; 401 and 403 are not', async (t) => {
    let status = 429;
    const api = await localApi(t, (_b, _r, res) =>
      json(res, status, { type: 'error', error: { type: status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : 'overloaded_error', message: `status ${status}` } }, { 'retry-after': '3' }),
    );
    const p = provider(api.origin);
    for (const [s, retryable] of [[429, true], [529, true], [500, true], [401, false], [403, false]] as const) {
      status = s;
      const error = await failure(p.complete(modelRequest()));
      assert.equal(error.code, 'ANTHROPIC_HTTP_ERROR', String(s));
      assert.equal(error.retryable, retryable, String(s));
      assert.equal(error.retryAfterMs, retryable ? 3000 : undefined, String(s));
      assert.equal(error.context.status, s);
    }
    status = 401;
    const auth = await failure(p.complete(modelRequest()));
    assert.equal(auth.context.type, 'authentication_error');
    assert.match(auth.message, /check the API key/);
  });

  test('an error event mid-stream is typed by its error type (overloaded: retryable; invalid_request: not)', async (t) => {
    let type = 'overloaded_error';
    const api = await localApi(t, (_b, _r, res) => {
      const s = streamToolUse(res, { stopAfter: 4 });
      s.send({ type: 'error', error: { type, message: 'Overloaded' } }, 'error');
      s.end();
    });
    const p = provider(api.origin);
    const overloaded = await failure(collect(p.stream(modelRequest())));
    assert.equal(overloaded.code, 'ANTHROPIC_API_ERROR');
    assert.equal(overloaded.retryable, true);
    type = 'invalid_request_error';
    const invalid = await failure(collect(p.stream(modelRequest())));
    assert.equal(invalid.retryable, false);
  });

  test('bad JSON in a body, an event or a tool input is typed and not retryable', async (t) => {
    let mode = 'body';
    const api = await localApi(t, (_b, _r, res) => {
      if (mode === 'body') return (res.writeHead(200, { 'content-type': 'application/json' }), res.end('{"content": ['));
      const s = sse(res);
      if (mode === 'event') s.send('{"type":"message_start",', 'message_start');
      else {
        s.send({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't', name: 'math__add', input: {} } }, 'content_block_start');
        s.send({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"a": ' } }, 'content_block_delta');
        s.send({ type: 'message_stop' }, 'message_stop');
      }
      s.end();
    });
    const p = provider(api.origin);
    for (const m of ['body', 'event', 'input']) {
      mode = m;
      const error = await failure(collect(p.stream(modelRequest())));
      assert.equal(error.code, 'ANTHROPIC_BAD_RESPONSE', m);
      assert.equal(error.retryable, false, m);
    }
  });

  test('a stream cut in the middle (socket destroyed, or closed before message_stop) is a retryable interruption', async (t) => {
    let mode = 'destroy';
    const api = await localApi(t, (_b, _r, res) => {
      const s = streamToolUse(res, { stopAfter: 8 });
      if (mode === 'destroy') setImmediate(() => s.cut());
      else s.end();
    });
    const p = provider(api.origin);
    for (const m of ['destroy', 'close']) {
      mode = m;
      const deltas: string[] = [];
      const error = await failure(
        (async () => {
          for await (const chunk of p.stream(modelRequest())) if (chunk.type === 'text.delta') deltas.push(chunk.text);
        })(),
      );
      assert.equal(error.code, 'ANTHROPIC_STREAM_INTERRUPTED', m);
      assert.equal(error.retryable, true, m);
      assert.deepEqual(deltas, ['Let me ', 'add.'], m);
    }
  });

  test('a server that never answers times out (retryable)', async (t) => {
    const api = await localApi(t, () => undefined);
    const error = await failure(provider(api.origin, { timeoutMs: 100 }).complete(modelRequest()));
    assert.equal(error.code, 'ANTHROPIC_TIMEOUT');
    assert.equal(error.retryable, true);
  });

  test('requireApiKey without a key fails the start, naming the variable', async () => {
    await assert.rejects(
      createTestKernel({ plugins: ['supervision', 'actors', 'tools', agentsPlugin, { use: anthropicPlugin, options: { requireApiKey: true, apiKeyEnv: 'MS_TEST_NO_SUCH_KEY' } }] }),
      /MS_TEST_NO_SUCH_KEY/,
    );
  });

  test('passes the conformance check', async () => {
    await checkPluginConformance(anthropicPlugin, { with: ['supervision', 'actors', 'tools', agentsPlugin] });
  });
});
