// provider-claude-cli with the real Claude Code CLI (the devDependency), offline: it talks to a
// local server speaking the Anthropic Messages API that the test starts, never to the network.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { definePlugin, z } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import type { EventBus } from '../../../plugins/events/types.js';
import claudePlugin, { ClaudeCliProvider } from '../../../plugins/provider-claude-cli/index.js';
import { collect, failure, lastUserText, localAnthropic, modelRequest, type AnthropicReply, type TestContext } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const claudeBin = path.join(root, 'node_modules', '.bin', 'claude');

/** A port nothing listens on: the proxy every request to the internet would have to go through. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The environment that keeps the CLI offline and out of the user's home. */
async function offlineEnv(t: TestContext, apiOrigin: string): Promise<{ env: Record<string, string>; cwd: string }> {
  const home = mkdtempSync(path.join(tmpdir(), 'ms-claude-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const proxy = `http://127.0.0.1:${await closedPort()}`;
  return {
    cwd: home,
    env: {
      ANTHROPIC_BASE_URL: apiOrigin,
      ANTHROPIC_API_KEY: 'sk-ant-dummy-offline',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      HTTPS_PROXY: proxy,
      HTTP_PROXY: proxy,
      NO_PROXY: '127.0.0.1,localhost',
      HOME: home,
    },
  };
}

async function directProvider(t: TestContext, apiOrigin: string) {
  const { env, cwd } = await offlineEnv(t, apiOrigin);
  const p = new ClaudeCliProvider({
    name: 'claude-cli',
    command: claudeBin,
    args: [],
    builtinTools: [],
    maxTurns: undefined,
    maxRetries: 0,
    timeoutMs: 60_000,
    killGraceMs: 2_000,
    maxOutputBytes: 10 << 20,
    cwd,
    env,
    tools: undefined,
    mcp: undefined,
  });
  t.after(() => p.stop());
  return p;
}

const hello = (): AnthropicReply => ({ text: 'hello from the local model', usage: { input_tokens: 1000, output_tokens: 100 } });

describe('provider-claude-cli with the real Claude Code CLI, offline', () => {
  for (const mode of ['sse', 'json'] as const) {
    test(`success (${mode === 'sse' ? 'streamed message_start … message_stop' : 'plain JSON'} reply): reply, usage, cost and session id`, async (t) => {
      const api = await localAnthropic(t, mode, hello);
      const p = await directProvider(t, api.origin);
      const response = await p.complete(modelRequest({ tools: [], model: 'claude-sonnet-4-5', instructions: 'Answer briefly.', messages: [{ role: 'user', content: 'say hello' }] }));
      assert.equal(response.reply, 'hello from the local model');
      assert.equal(response.usage?.inputTokens, 1000);
      assert.equal(response.usage?.outputTokens, 100);
      assert.ok(response.costUsd !== undefined && response.costUsd > 0, `costUsd ${response.costUsd}`);
      assert.match(response.providerSessionId ?? '', /^[0-9a-f-]{36}$/);
      const main = api.requests.find((r) => Array.isArray(r.body.messages))!;
      assert.equal(main.body.model, 'claude-sonnet-4-5');
      assert.match(JSON.stringify(main.body.system), /Answer briefly\./);
      assert.match(lastUserText(main.body), /say hello/);
      assert.deepEqual(main.body.tools ?? [], [], 'no built-in tools without a grant');
    });
  }

  test('stream: --output-format stream-json gives text deltas, then the response', async (t) => {
    const api = await localAnthropic(t, 'sse', hello);
    const p = await directProvider(t, api.origin);
    const { deltas, response } = await collect(p.stream(modelRequest({ tools: [], model: 'claude-sonnet-4-5' })));
    assert.deepEqual(deltas, ['hello from the local model']);
    assert.equal(response.reply, 'hello from the local model');
    assert.ok(response.costUsd! > 0);
  });

  test('401 is not retryable and is not retried by the CLI (one request)', async (t) => {
    const api = await localAnthropic(t, 'sse', () => ({ status: 401 }));
    const p = await directProvider(t, api.origin);
    const error = await failure(p.complete(modelRequest({ tools: [], model: 'claude-sonnet-4-5' })));
    assert.equal(error.code, 'CLAUDE_CLI_API_ERROR');
    assert.equal(error.retryable, false);
    assert.equal(error.context.status, 401);
    assert.match(error.message, /401/);
    assert.equal(api.requests.length, 1);
  });

  test('429 and 500 are retryable; CLAUDE_CODE_MAX_RETRIES=0 leaves the retrying to Mister Smith', async (t) => {
    for (const status of [429, 500]) {
      const api = await localAnthropic(t, 'sse', () => ({ status, headers: { 'retry-after': '1' } }));
      const p = await directProvider(t, api.origin);
      const error = await failure(p.complete(modelRequest({ tools: [], model: 'claude-sonnet-4-5' })));
      assert.equal(error.code, 'CLAUDE_CLI_API_ERROR', String(status));
      assert.equal(error.retryable, true, String(status));
      assert.equal(error.context.status, status);
      assert.equal(api.requests.length, 1, `${status}: one request`);
    }
  });

  test('a resumed session continues with --resume: the CLI sends the earlier turns, the response keeps the session id and its own cost', async (t) => {
    const api = await localAnthropic(t, 'sse', (body) => ({ text: `turn with ${(body.messages as unknown[]).length} messages`, usage: { input_tokens: 1000, output_tokens: 100 } }));
    const p = await directProvider(t, api.origin);
    const first = await p.complete(modelRequest({ tools: [], model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'my name is Ada' }] }));
    const second = await p.complete(
      modelRequest({
        tools: [],
        model: 'claude-sonnet-4-5',
        providerSessionId: first.providerSessionId!,
        messages: [
          { role: 'user', content: 'my name is Ada' },
          { role: 'assistant', content: first.reply! },
          { role: 'user', content: 'what is my name?' },
        ],
      }),
    );
    assert.equal(second.providerSessionId, first.providerSessionId);
    assert.equal(second.reply, 'turn with 3 messages');
    const resumed = api.requests.at(-1)!.body;
    assert.match(lastUserText(resumed), /what is my name\?/);
    assert.doesNotMatch(lastUserText(resumed), /User:/, 'only the new message is sent; the CLI holds the rest');
    assert.match(JSON.stringify((resumed.messages as unknown[])[0]), /my name is Ada/);
    assert.ok(Math.abs(second.costUsd! - first.costUsd!) < 1e-9, `each response carries its own cost (${first.costUsd}, ${second.costUsd})`);
  });

  test('a session the CLI does not know (another machine, another HOME) starts afresh with the whole conversation', async (t) => {
    const api = await localAnthropic(t, 'sse', (body) => ({ text: `turn with ${(body.messages as unknown[]).length} messages` }));
    const p = await directProvider(t, api.origin);
    const response = await p.complete(
      modelRequest({
        tools: [],
        model: 'claude-sonnet-4-5',
        providerSessionId: '4b1c0f5e-0000-4000-8000-000000000000',
        messages: [
          { role: 'user', content: 'my name is Ada' },
          { role: 'assistant', content: 'hello Ada' },
          { role: 'user', content: 'what is my name?' },
        ],
      }),
    );
    assert.equal(response.reply, 'turn with 1 messages');
    assert.notEqual(response.providerSessionId, '4b1c0f5e-0000-4000-8000-000000000000');
    assert.match(lastUserText(api.requests.at(-1)!.body), /User: my name is Ada[\s\S]*Assistant: hello Ada[\s\S]*User: what is my name\?/);
  });

  test('the model calls a Mister Smith tool over MCP: it runs through the bus under the agent id; a tool the agent is not granted is refused', async (t) => {
    const toolsPlugin = definePlugin({
      name: 'cli-test-tools',
      version: '1.0.0',
      dependsOn: ['tools'],
      setup(ctx) {
        const tools = ctx.resolve('tools');
        ctx.onStop(tools.register({ name: 'math.add', description: 'Adds two numbers', input: z.object({ a: z.number(), b: z.number() }), output: z.number(), handler: ({ a, b }) => a + b }));
        ctx.onStop(tools.register({ name: 'secret.read', description: 'Reads the secret', input: z.object({}), handler: () => 'the secret' }));
      },
    });
    let offered: string[] = [];
    const api = await localAnthropic(t, 'sse', (body) => {
      const last = lastUserText(body);
      if (last.includes('[tool_result')) return { text: `the model saw: ${last.slice(last.indexOf('[tool_result'))}` };
      offered = ((body.tools as Array<{ name: string }> | undefined) ?? []).map((x) => x.name);
      if (last.includes('secret')) return { toolUses: [{ name: 'mcp__ms__secret_read', input: {} }] };
      return { toolUses: [{ name: 'mcp__ms__math_add', input: { a: 2, b: 3 } }] };
    });
    const { env, cwd } = await offlineEnv(t, api.origin);
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        'supervision',
        'actors',
        'events',
        'tools',
        'http',
        'mcp',
        toolsPlugin,
        { use: agentsPlugin, options: { agents: [{ name: 'coder', provider: 'claude-cli', model: 'claude-sonnet-4-5', tools: ['math.*'], timeoutMs: 90_000 }] } },
        { use: claudePlugin, options: { command: claudeBin, env, cwd, timeoutMs: 80_000, killGraceMs: 2_000 } },
      ],
    });
    const events: Array<{ type: string; data: Record<string, unknown> }> = [];
    (kernel.resolve('events') as EventBus).subscribe('tool.*', (e) => void events.push(e as never));

    const sum = await kernel.resolve('agents').run('coder', 'add 2 and 3');
    assert.deepEqual(offered, ['mcp__ms__math_add'], 'the model is offered exactly the granted tools, no built-ins');
    assert.match(String(sum.output), /the model saw: \[tool_result .*5/);
    const calls = () => events.filter((e) => e.type === 'tool.called' && e.data.tool === 'math.add');
    for (let i = 0; i < 500 && calls().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(calls().length, 1);
    assert.equal(calls()[0]!.data.agentId, 'coder');

    const secret = await kernel.resolve('agents').run('coder', 'read the secret');
    // The CLI was never offered the tool (not on the agent's MCP list, not in --allowedTools).
    assert.match(String(secret.output), /the model saw: \[tool_result .*No such tool available: mcp__ms__secret_read/);
    assert.doesNotMatch(String(secret.output), /the secret\b/);
    assert.ok(!events.some((e) => e.type === 'tool.called' && e.data.tool === 'secret.read'));
  });
});
