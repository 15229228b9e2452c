import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { definePlugin, z, type MisterSmithError } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import openaiPlugin from '../../../plugins/provider-openai/index.js';

type Handler = (body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse) => void;

/** A chat-completions endpoint on 127.0.0.1: the edge of the world this machine cannot reach. */
async function fakeApi(t: { after(fn: () => unknown): void }, handler: Handler) {
  const requests: Array<{ body: Record<string, unknown>; auth: string | undefined; path: string | undefined }> = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      requests.push({ body, auth: req.headers.authorization, path: req.url });
      handler(body, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...headers });
  res.end(JSON.stringify(body));
};

const mathTools = definePlugin({
  name: 'math-tools',
  version: '1.0.0',
  dependsOn: ['tools'],
  setup(ctx) {
    ctx.onStop(ctx.resolve('tools').register({ name: 'math.add', description: 'Adds two numbers', input: z.object({ a: z.number(), b: z.number() }), output: z.number(), handler: ({ a, b }) => a + b }));
  },
});

async function system(t: { after(fn: () => unknown): void }, baseUrl: string, extra: Record<string, unknown> = {}) {
  return createTestKernel({
    test: t,
    plugins: [
      'supervision',
      'actors',
      'tools',
      mathTools,
      { use: agentsPlugin, options: { agents: [{ name: 'calculator', provider: 'openai', model: 'gpt-test', instructions: 'Add numbers.', tools: ['math.*'] }] } },
      { use: openaiPlugin, options: { baseUrl, apiKey: 'sk-test', ...extra } },
    ],
  });
}

const failure = (p: Promise<unknown>) => p.then(() => assert.fail('expected a rejection'), (e: unknown) => e as MisterSmithError & { cause?: MisterSmithError });

describe('provider-openai', () => {
  test('speaks chat completions with function tools and maps dotted tool names', async (t) => {
    const api = await fakeApi(t, (body, _req, res) => {
      const messages = body.messages as Array<{ role: string }>;
      if (messages.at(-1)!.role === 'user') {
        json(res, 200, { choices: [{ message: { content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'math__add', arguments: '{"a":2,"b":3}' } }] } }], usage: { prompt_tokens: 30, completion_tokens: 5 } });
      } else {
        json(res, 200, { choices: [{ message: { content: 'The sum is 5.' } }], usage: { prompt_tokens: 40, completion_tokens: 6 } });
      }
    });
    const kernel = await system(t, api.url);
    const result = await kernel.resolve('agents').run('calculator', 'add 2 and 3');
    assert.equal(result.output, 'The sum is 5.');
    assert.deepEqual(result.usage, { inputTokens: 70, outputTokens: 11, totalTokens: 81, toolCalls: 1, turns: 2 });
    const [first, second] = api.requests;
    assert.equal(first!.path, '/v1/chat/completions');
    assert.equal(first!.auth, 'Bearer sk-test');
    assert.equal(first!.body.model, 'gpt-test');
    assert.deepEqual((first!.body.messages as unknown[])[0], { role: 'system', content: 'Add numbers.' });
    const tool = (first!.body.tools as Array<{ function: { name: string; parameters: { properties: object } } }>)[0]!;
    assert.equal(tool.function.name, 'math__add');
    assert.deepEqual(Object.keys(tool.function.parameters.properties), ['a', 'b']);
    const toolMessage = (second!.body.messages as Array<{ role: string; tool_call_id?: string; content?: string }>).at(-1);
    assert.deepEqual(toolMessage, { role: 'tool', tool_call_id: 'call_1', content: '5' });
  });

  test('429 with Retry-After is a retryable failure carrying the delay', async (t) => {
    const api = await fakeApi(t, (_b, _r, res) => json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '2' }));
    const kernel = await system(t, api.url);
    const error = await failure(kernel.resolve('agents').run('calculator', 'hi'));
    assert.equal(error.code, 'AGENT_PROVIDER_FAILED');
    assert.equal(error.cause?.code, 'OPENAI_HTTP_ERROR');
    assert.equal(error.cause?.retryable, true);
    assert.equal(error.cause?.retryAfterMs, 2000);
    assert.match(error.message, /429: slow down/);
  });

  test('a 400 is not retryable; a body that is not JSON is named', async (t) => {
    let mode = 'bad-request';
    const api = await fakeApi(t, (_b, _r, res) => {
      if (mode === 'bad-request') json(res, 400, { error: { message: 'unknown model' } });
      else (res.writeHead(200, { connection: 'close' }), res.end('<html>gateway</html>'));
    });
    const kernel = await system(t, api.url);
    const bad = await failure(kernel.resolve('agents').run('calculator', 'hi'));
    assert.equal(bad.cause?.retryable, false);
    mode = 'html';
    const html = await failure(kernel.resolve('agents').run('calculator', 'hi'));
    assert.equal(html.cause?.code, 'OPENAI_BAD_RESPONSE');
  });

  test('a server that never answers times out', async (t) => {
    const api = await fakeApi(t, () => undefined);
    const kernel = await system(t, api.url, { timeoutMs: 100 });
    const error = await failure(kernel.resolve('agents').run('calculator', 'hi'));
    assert.equal(error.cause?.code, 'OPENAI_TIMEOUT');
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
