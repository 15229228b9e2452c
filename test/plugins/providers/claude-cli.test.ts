// provider-claude-cli with a stand-in executable: the failure modes the real CLI cannot be made to
// show on demand (hang, crash, garbage), the flags it gets, stop and abort.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import claudePlugin, { ClaudeCliProvider } from '../../../plugins/provider-claude-cli/index.js';
import { failure, modelRequest, type TestContext } from './helpers.js';

const fakeClaude = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fake-claude.mjs');

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ms-claude-fake-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function provider(t: TestContext, mode: string, extra: Partial<ConstructorParameters<typeof ClaudeCliProvider>[0]> = {}) {
  const p = new ClaudeCliProvider({
    name: 'claude-cli',
    command: process.execPath,
    args: [fakeClaude],
    builtinTools: [],
    maxTurns: undefined,
    maxRetries: 0,
    timeoutMs: 20_000,
    killGraceMs: 100,
    maxOutputBytes: 1 << 20,
    cwd: process.cwd(),
    env: { FAKE_CLAUDE_MODE: mode },
    tools: undefined,
    mcp: undefined,
    ...extra,
  });
  t.after(() => p.stop());
  return p;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('provider-claude-cli (stand-in executable)', () => {
  test('an agent run passes model, instructions, no built-in tools, CLAUDE_CODE_MAX_RETRIES=0 and the prompt on stdin; cost and session id are kept', async (t) => {
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        'supervision',
        'actors',
        'tools',
        { use: agentsPlugin, options: { agents: [{ name: 'coder', provider: 'claude-cli', model: 'claude-sonnet', instructions: 'Be brief.' }] } },
        { use: claudePlugin, options: { command: process.execPath, args: [fakeClaude], env: { FAKE_CLAUDE_MODE: 'ok' } } },
      ],
    });
    const result = await kernel.resolve('agents').run('coder', 'write a haiku');
    assert.deepEqual(JSON.parse(String(result.output)), { model: 'claude-sonnet', system: 'Be brief.', tools: '', allowed: null, retries: '0', prompt: 'write a haiku' });
    const response = await provider(t, 'ok').complete(modelRequest({ tools: [] }));
    assert.equal(response.costUsd, 0.25);
    assert.equal(response.providerSessionId, 'session-1');
  });

  test('built-in tools are offered only to an agent granted claude.<Tool>', async (t) => {
    const kernel = await createTestKernel({ test: t, plugins: ['supervision', 'tools'] });
    const tools = kernel.resolve('tools');
    tools.grant('reader', 'claude.Read');
    const p = provider(t, 'ok', { builtinTools: ['Read', 'Bash'], tools });
    const reader = JSON.parse((await p.complete(modelRequest({ tools: [], agent: 'reader' }))).reply!);
    assert.equal(reader.tools, 'Read');
    assert.equal(reader.allowed, 'Read');
    const other = JSON.parse((await p.complete(modelRequest({ tools: [], agent: 'other' }))).reply!);
    assert.equal(other.tools, '');
    assert.equal(other.allowed, null);
  });

  test('an agent granted Mister Smith tools without the mcp endpoint is refused, naming what to load', async (t) => {
    const error = await failure(provider(t, 'ok').complete(modelRequest()));
    assert.equal(error.code, 'CLAUDE_CLI_NO_MCP');
    assert.equal(error.retryable, false);
    assert.match(error.message, /load "http" and "mcp"/);
  });

  test('an error result, a crash and garbage output are typed and not retryable', async (t) => {
    for (const [mode, code, pattern] of [
      ['error', 'CLAUDE_CLI_FAILED', /reported an error \(error_max_turns\): gave up/],
      ['crash', 'CLAUDE_CLI_CRASHED', /exited with 3 without a result: claude: something broke/],
      ['garbage', 'CLAUDE_CLI_BAD_OUTPUT', /not its JSON result: this is not json/],
    ] as const) {
      const error = await failure(provider(t, mode).complete(modelRequest({ tools: [] })));
      assert.equal(error.code, code, mode);
      assert.equal(error.retryable, false, mode);
      assert.match(error.message, pattern, mode);
    }
  });

  test('a CLI that hangs and ignores SIGTERM is killed at the deadline (retryable timeout)', async (t) => {
    const pidFile = path.join(tempDir(t), 'pid');
    // The deadline leaves a loaded machine time to start Node and install the SIGTERM handler (the
    // pid file says it did), so the kill needs the SIGKILL after the grace period.
    const p = provider(t, 'hang', { timeoutMs: 3_000, killGraceMs: 100, env: { FAKE_CLAUDE_MODE: 'hang', FAKE_CLAUDE_PID_FILE: pidFile } });
    const error = await failure(p.complete(modelRequest({ tools: [] })));
    assert.equal(error.code, 'CLAUDE_CLI_TIMEOUT');
    assert.equal(error.retryable, true);
    assert.ok(existsSync(pidFile), 'the stand-in was ignoring SIGTERM when the deadline came');
    assert.equal(alive(Number(readFileSync(pidFile, 'utf8'))), false);
    assert.deepEqual(p.running(), []);
  });

  test('stop ends a running process (no process outlives it) and refuses new calls', async (t) => {
    const pidFile = path.join(tempDir(t), 'pid');
    const p = provider(t, 'hang', { killGraceMs: 100, env: { FAKE_CLAUDE_MODE: 'hang', FAKE_CLAUDE_PID_FILE: pidFile } });
    const pending = failure(p.complete(modelRequest({ tools: [] })));
    while (p.running().length === 0) await new Promise((r) => setImmediate(r));
    const [pid] = p.running();
    await p.stop();
    assert.equal(alive(pid!), false);
    assert.equal((await pending).code, 'CLAUDE_CLI_STOPPED');
    assert.equal((await failure(p.complete(modelRequest({ tools: [] })))).code, 'CLAUDE_CLI_STOPPED');
  });

  test("the caller's abort ends the process", async (t) => {
    const p = provider(t, 'hang', { killGraceMs: 50 });
    const controller = new AbortController();
    const pending = failure(p.complete(modelRequest({ tools: [], signal: controller.signal })));
    while (p.running().length === 0) await new Promise((r) => setImmediate(r));
    const [pid] = p.running();
    controller.abort(new Error('user cancelled'));
    assert.match((await pending).message, /user cancelled/);
    assert.equal(alive(pid!), false);
    assert.deepEqual(p.running(), []);
  });

  test('a stream abandoned after its first delta ends the process', async (t) => {
    const pidFile = path.join(tempDir(t), 'pid');
    const p = provider(t, 'stream-then-hang', { env: { FAKE_CLAUDE_MODE: 'stream-then-hang', FAKE_CLAUDE_PID_FILE: pidFile } });
    const seen: string[] = [];
    for await (const chunk of p.stream(modelRequest({ tools: [] }))) {
      if (chunk.type === 'text.delta') seen.push(chunk.text);
      break;
    }
    assert.deepEqual(seen, ['partial']);
    assert.deepEqual(p.running(), []);
    assert.ok(existsSync(pidFile), 'the stand-in writes its pid before its first line');
    assert.equal(alive(Number(readFileSync(pidFile, 'utf8'))), false);
  });

  test('a missing executable is named', async (t) => {
    const error = await failure(provider(t, 'ok', { command: 'claude-does-not-exist-here', args: [] }).complete(modelRequest({ tools: [] })));
    assert.equal(error.code, 'CLAUDE_CLI_NOT_FOUND');
  });

  test('TRACEPARENT is the request’s trace context, plain and streamed; a stray one from this process or the config never reaches the CLI', async (t) => {
    const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const STALE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    // What whatever started this process may have left in its environment.
    const before = { TRACEPARENT: process.env.TRACEPARENT, TRACESTATE: process.env.TRACESTATE };
    process.env.TRACEPARENT = STALE;
    process.env.TRACESTATE = 'vendor=stale';
    t.after(() => {
      for (const [k, v] of Object.entries(before)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    const p = provider(t, 'env', { env: { FAKE_CLAUDE_MODE: 'env', traceparent: STALE } });
    const env = async (traceparent?: string) => {
      const request = traceparent === undefined ? modelRequest({ tools: [] }) : { ...modelRequest({ tools: [] }), traceparent };
      const plain = JSON.parse((await p.complete(request)).reply!) as Record<string, string>;
      let streamed: Record<string, string> | undefined;
      for await (const chunk of p.stream(request)) if (chunk.type === 'response') streamed = JSON.parse(chunk.response.reply!) as Record<string, string>;
      assert.deepEqual(streamed, plain, 'stream and complete start the CLI alike');
      return plain;
    };
    assert.deepEqual(await env(TP), { TRACEPARENT: TP });
    assert.deepEqual(await env(), {});
    assert.deepEqual(await env('not-a-traceparent'), {});
  });

  test('passes the conformance check', async () => {
    await checkPluginConformance(claudePlugin, { with: ['supervision', 'actors', 'tools', agentsPlugin] });
  });
});
