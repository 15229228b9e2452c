import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MisterSmithError } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import claudePlugin from '../../../plugins/provider-claude-cli/index.js';

const fakeClaude = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fake-claude.mjs');

async function system(t: { after(fn: () => unknown): void }, mode: string, extra: Record<string, unknown> = {}) {
  return createTestKernel({
    test: t,
    plugins: [
      'supervision',
      'actors',
      'tools',
      { use: agentsPlugin, options: { agents: [{ name: 'coder', provider: 'claude-cli', model: 'claude-sonnet', instructions: 'Be brief.', timeoutMs: 20_000 }] } },
      { use: claudePlugin, options: { command: process.execPath, args: [fakeClaude], env: { FAKE_CLAUDE_MODE: mode }, allowedTools: ['Read', 'Grep'], ...extra } },
    ],
  });
}

const failure = (p: Promise<unknown>) => p.then(() => assert.fail('expected a rejection'), (e: unknown) => e as MisterSmithError & { cause?: MisterSmithError });

describe('provider-claude-cli', () => {
  test('runs the CLI as a subprocess with the prompt on stdin and parses its JSON result', async (t) => {
    const kernel = await system(t, 'ok');
    const result = await kernel.resolve('agents').run('coder', 'write a haiku');
    assert.equal(result.output, 'model=claude-sonnet system=Be brief. tools=Read,Grep prompt=write a haiku');
    assert.deepEqual({ input: result.usage.inputTokens, output: result.usage.outputTokens }, { input: 12, output: 7 });
  });

  test('an error result, a crash and unparsable output are provider failures with the reason', async (t) => {
    for (const [mode, pattern] of [['error', /reported an error \(error_max_turns\): gave up/], ['crash', /exited with 3: claude: authentication required/], ['garbage', /not its JSON result/]] as const) {
      const kernel = await system(t, mode);
      const error = await failure(kernel.resolve('agents').run('coder', 'hi'));
      assert.equal(error.code, 'AGENT_PROVIDER_FAILED', mode);
      assert.match(error.message, pattern, mode);
      await kernel.stop();
    }
  });

  test('a CLI that hangs and ignores SIGTERM is killed at the deadline', async (t) => {
    const kernel = await system(t, 'hang', { timeoutMs: 300, killGraceMs: 100 });
    const began = Date.now();
    const error = await failure(kernel.resolve('agents').run('coder', 'hi'));
    assert.equal(error.code, 'AGENT_PROVIDER_FAILED');
    assert.equal(error.cause?.code, 'CLAUDE_CLI_TIMEOUT');
    assert.ok(Date.now() - began < 5_000);
  });

  test('a missing executable is named', async (t) => {
    const kernel = await system(t, 'ok', { command: 'claude-does-not-exist-here', args: [] });
    const error = await failure(kernel.resolve('agents').run('coder', 'hi'));
    assert.equal(error.cause?.code, 'CLAUDE_CLI_NOT_FOUND');
  });

  test('passes the conformance check', async () => {
    await checkPluginConformance(claudePlugin, { with: ['supervision', 'actors', 'tools', agentsPlugin] });
  });
});
