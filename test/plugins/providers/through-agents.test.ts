// The providers as the agents plugin uses them: streaming into agents.stream, retryable errors
// retried (honouring the server's Retry-After) and final ones not, and a session continued with the
// real Claude Code CLI's --resume.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import anthropicPlugin from '../../../plugins/provider-anthropic/index.js';
import claudePlugin from '../../../plugins/provider-claude-cli/index.js';
import openaiPlugin from '../../../plugins/provider-openai/index.js';
import { failure, json, lastUserText, localAnthropic, localApi, sse, type TestContext } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function openaiSystem(t: TestContext, origin: string) {
  return createTestKernel({
    test: t,
    plugins: [
      'supervision',
      'actors',
      'tools',
      { use: agentsPlugin, options: { providerRetries: 2, agents: [{ name: 'writer', provider: 'openai', model: 'gpt-test' }] } },
      { use: openaiPlugin, options: { baseUrl: `${origin}/v1`, apiKey: 'sk-test' } },
    ],
  });
}

describe('providers through the agents plugin', () => {
  test('agents.stream carries the OpenAI stream as text.delta chunks, ending with the completed record', async (t) => {
    const api = await localApi(t, (_b, _r, res) => {
      const s = sse(res);
      for (const piece of ['Once ', 'upon ', 'a time.']) s.send({ choices: [{ delta: { content: piece } }] });
      s.send({ choices: [{ delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 3 } });
      s.send('[DONE]');
      s.end();
    });
    const kernel = await openaiSystem(t, api.origin);
    const deltas: string[] = [];
    let last = '';
    for await (const chunk of kernel.resolve('agents').stream('writer', 'tell a story')) {
      if (chunk.type === 'text.delta') deltas.push((chunk as { text: string }).text);
      last = chunk.type;
    }
    assert.deepEqual(deltas, ['Once ', 'upon ', 'a time.']);
    assert.equal(last, 'agent.run.completed');
    assert.equal(api.requests[0]!.body.stream, true);
  });

  test('a 429 with retry-after-ms is retried after that delay and the run completes; a 401 fails at once, not retryable', async (t) => {
    let mode: 'busy-once' | 'auth' = 'busy-once';
    let n = 0;
    const api = await localApi(t, (_b, _r, res) => {
      n++;
      if (mode === 'auth') return json(res, 401, { error: { message: 'bad key' } });
      if (n === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after-ms': '20' });
      json(res, 200, { choices: [{ message: { content: 'done' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } });
    });
    const kernel = await openaiSystem(t, api.origin);
    const result = await kernel.resolve('agents').run('writer', 'hi');
    assert.equal(result.output, 'done');
    assert.equal(api.requests.length, 2);

    mode = 'auth';
    const before = api.requests.length;
    const error = await failure(kernel.resolve('agents').run('writer', 'hi'));
    assert.equal(error.code, 'AGENT_PROVIDER_FAILED');
    assert.equal(error.retryable, false);
    assert.match(error.message, /answered 401: bad key \(check the API key/);
    assert.equal(api.requests.length - before, 1, 'a 401 is not retried');
  });

  test('an Anthropic 529 overloaded twice is retried, then the run completes with the usage of the answer', async (t) => {
    let n = 0;
    const api = await localAnthropic(t, 'sse', () => (++n <= 2 ? { status: 529, headers: { 'retry-after': '0' } } : { text: 'fine now', usage: { input_tokens: 7, output_tokens: 3 } }));
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        'supervision',
        'actors',
        'tools',
        { use: agentsPlugin, options: { providerRetries: 2, agents: [{ name: 'writer', provider: 'anthropic', model: 'claude-test' }] } },
        { use: anthropicPlugin, options: { baseUrl: api.origin, apiKey: 'sk-ant-test' } },
      ],
    });
    const result = await kernel.resolve('agents').run('writer', 'hi');
    assert.equal(result.output, 'fine now');
    assert.equal(result.usage.inputTokens, 7);
    assert.equal(api.requests.length, 3);
  });

  test('a session of two runs continues the Claude Code session with --resume; cost reaches the run usage', async (t) => {
    const api = await localAnthropic(t, 'sse', (body) => ({ text: `I see ${(body.messages as unknown[]).length} messages`, usage: { input_tokens: 1000, output_tokens: 100 } }));
    const home = mkdtempSync(path.join(tmpdir(), 'ms-claude-home-'));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    const env = {
      ANTHROPIC_BASE_URL: api.origin,
      ANTHROPIC_API_KEY: 'sk-ant-dummy-offline',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '127.0.0.1,localhost',
      HOME: home,
    };
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        'supervision',
        'actors',
        'tools',
        { use: agentsPlugin, options: { agents: [{ name: 'chat', provider: 'claude-cli', model: 'claude-sonnet-4-5', timeoutMs: 90_000 }] } },
        { use: claudePlugin, options: { command: path.join(root, 'node_modules', '.bin', 'claude'), cwd: home, env, killGraceMs: 2000 } },
      ],
    });
    const agents = kernel.resolve('agents');
    const first = await agents.run('chat', 'my name is Ada', { sessionId: 'conversation-1' });
    assert.equal(first.output, 'I see 1 messages');
    assert.ok(first.usage.costUsd > 0);
    const second = await agents.run('chat', 'what is my name?', { sessionId: 'conversation-1' });
    assert.equal(second.output, 'I see 3 messages', 'the CLI resumed its session: the earlier turn is in the request');
    assert.match(lastUserText(api.requests.at(-1)!.body), /what is my name\?/);
    assert.doesNotMatch(lastUserText(api.requests.at(-1)!.body), /my name is Ada/);
    assert.ok(Math.abs(second.usage.costUsd - first.usage.costUsd) < 1e-9, `each run counts its own cost (${first.usage.costUsd}, ${second.usage.costUsd})`);
  });
});
