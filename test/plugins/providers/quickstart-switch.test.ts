// The quickstart's calculator agent switched from the scripted model to each real provider by
// config alone: the same config file, with the agent's `provider`/`model` changed and the
// provider plugin added, runs against a local server speaking that provider's API (for
// claude-cli, the real Claude Code CLI, its tool call reaching the quickstart's math.add over MCP).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createKernel, loadConfig } from '../../../kernel/index.js';
import { json, lastUserText, localAnthropic, localApi, type TestContext } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const quickstart = path.join(root, 'examples', 'quickstart', 'mister-smith.config.json');

type Entry = string | { use: string; options?: Record<string, unknown>; enabled?: boolean };

/** The quickstart config with its agent on another provider: the only edits a user would make. */
async function switched(provider: string, model: string, plugins: Entry[]) {
  const loaded = await loadConfig(quickstart);
  const { configPath: _path, ...raw } = loaded;
  const config = structuredClone(raw) as unknown as { plugins: Entry[]; log: { level: string } };
  config.log = { level: 'warn' };
  config.plugins = config.plugins.filter((p) => (typeof p === 'string' ? p : p.use) !== 'provider-scripted');
  const agents = config.plugins.find((p) => typeof p !== 'string' && p.use === 'agents') as unknown as { options: { agents: Array<Record<string, unknown>> } };
  Object.assign(agents.options.agents[0]!, { provider, model });
  config.plugins.push(...plugins);
  return config as unknown as Record<string, unknown>;
}

async function runQuickstart(t: TestContext, config: Record<string, unknown>): Promise<void> {
  const kernel = await createKernel({ config: config as never, configDir: path.dirname(quickstart), logger: pino({ level: 'silent' }) });
  await kernel.start();
  t.after(() => kernel.stop());
  assert.equal(await kernel.settled({ timeoutMs: 90_000 }), 0, 'the quickstart work settled without a failure');
}

describe('the quickstart switches providers by config alone', () => {
  test('provider-openai (an OpenAI-compatible local server)', async (t) => {
    const api = await localApi(t, (body, _req, res) => {
      const last = (body.messages as Array<{ role: string; content?: string }>).at(-1)!;
      if (last.role === 'user') json(res, 200, { choices: [{ message: { content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'math__add', arguments: '{"a":2,"b":3}' } }] } }], usage: { prompt_tokens: 20, completion_tokens: 5 } });
      else json(res, 200, { choices: [{ message: { content: `The sum is ${last.content}.` } }], usage: { prompt_tokens: 30, completion_tokens: 5 } });
    });
    await runQuickstart(t, await switched('openai', 'llama3.1', [{ use: 'provider-openai', options: { baseUrl: `${api.origin}/v1` } }]));
    assert.equal(api.requests.length, 2);
    assert.deepEqual((api.requests[1]!.body.messages as Array<{ role: string; content?: string }>).at(-1), { role: 'tool', tool_call_id: 'c1', content: '5' });
  });

  test('provider-anthropic (the Messages API)', async (t) => {
    const api = await localAnthropic(t, 'sse', (body) => {
      const last = lastUserText(body);
      return last.includes('[tool_result') ? { text: `The sum is ${last}.` } : { toolUses: [{ name: 'math__add', input: { a: 2, b: 3 } }] };
    });
    await runQuickstart(t, await switched('anthropic', 'claude-sonnet-4-5', [{ use: 'provider-anthropic', options: { baseUrl: api.origin, apiKey: 'sk-ant-local' } }]));
    assert.equal(api.requests.length, 2);
    assert.match(lastUserText(api.requests[1]!.body), /\[tool_result 5\]/);
  });

  test('provider-claude-cli (the real Claude Code CLI; math.add over MCP)', async (t) => {
    const api = await localAnthropic(t, 'sse', (body) => {
      const last = lastUserText(body);
      return last.includes('[tool_result') ? { text: `The sum is ${last}.` } : { toolUses: [{ name: 'mcp__ms__math_add', input: { a: 2, b: 3 } }] };
    });
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
    await runQuickstart(t, await switched('claude-cli', 'claude-sonnet-4-5', ['mcp', { use: 'provider-claude-cli', options: { command: '../../node_modules/.bin/claude', cwd: home, env, killGraceMs: 2000 } }]));
    const withResult = api.requests.find((r) => lastUserText(r.body).includes('[tool_result'));
    assert.ok(withResult, 'the CLI sent the tool result back');
    assert.match(lastUserText(withResult.body), /\[tool_result .*5/);
  });
});
