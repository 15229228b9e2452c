/** provider-scripted: steps by the request's turn, `match` alternatives, cost, failures, streaming, strict options. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScriptedProvider } from '../../../plugins/provider-scripted/index.js';
import scriptedPlugin from '../../../plugins/provider-scripted/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import { createTestKernel } from '../../../testing/index.js';
import type { ChatMessage, ModelRequest, ModelStreamChunk } from '../../../plugins/agents/types.js';

function request(turn: number, last: string, extra: Partial<ModelRequest> = {}): ModelRequest {
  const messages: ChatMessage[] = [{ role: 'user', content: last }];
  return { runId: 'r', agent: 'a', model: 'm', instructions: '', messages, tools: [], turn, signal: new AbortController().signal, ...extra };
}

describe('provider-scripted', () => {
  test('turn N answers with step N, whatever came before (a resumed run gets the step it would have had)', async () => {
    const p = new ScriptedProvider({ m: [{ reply: 'zero' }, { reply: 'one', costUsd: 0.5, usage: { inputTokens: 3, outputTokens: 4 } }] });
    assert.equal((await p.complete(request(1, 'x'))).reply, 'one');
    assert.equal((await p.complete(request(1, 'x'))).costUsd, 0.5);
    assert.deepEqual((await p.complete(request(0, 'x'))).usage, { inputTokens: 0, outputTokens: 0 });
    await assert.rejects(p.complete(request(2, 'x')), { code: 'SCRIPT_EXHAUSTED' });
    await assert.rejects(p.complete(request(0, 'x', { model: 'nope' })), { code: 'SCRIPT_NOT_FOUND' });
  });

  test('match picks among alternatives by the last message: /regex/flags, substring, default', async () => {
    const p = new ScriptedProvider({
      m: [[{ match: '/^add (\\d+)/i', reply: 'adding' }, { match: 'weather', reply: 'sunny' }, { reply: 'default' }]],
      strict: [[{ match: 'only this', reply: 'x' }]],
    });
    assert.equal((await p.complete(request(0, 'ADD 2 and 3'))).reply, 'adding');
    assert.equal((await p.complete(request(0, 'how is the weather?'))).reply, 'sunny');
    assert.equal((await p.complete(request(0, 'something else'))).reply, 'default');
    await assert.rejects(p.complete(request(0, 'other', { model: 'strict' })), { code: 'SCRIPT_NO_MATCH' });
  });

  test('fail: a message (not retryable) or a provider-like error failing the first `times` attempts', async () => {
    const p = new ScriptedProvider({ m: [{ fail: 'bad key' }], n: [{ fail: { message: '429', code: 'RATE', retryable: true, retryAfterMs: 7, times: 1 }, reply: 'ok' }] });
    await assert.rejects(p.complete(request(0, 'x')), (e: { code: string; retryable: boolean }) => e.code === 'SCRIPT_STEP_FAILED' && e.retryable === false);
    await assert.rejects(p.complete(request(0, 'x', { model: 'n' })), (e: { code: string; retryable: boolean; retryAfterMs: number }) => e.code === 'RATE' && e.retryable && e.retryAfterMs === 7);
    assert.equal((await p.complete(request(0, 'x', { model: 'n' }))).reply, 'ok');
  });

  test('stream yields the reply in text deltas, then the response; delayMs honours the signal', async () => {
    const p = new ScriptedProvider({ m: [{ reply: 'a b c', providerSessionId: 'ps' }], slow: [{ reply: 'late', delayMs: 60_000 }] });
    const chunks: ModelStreamChunk[] = [];
    for await (const c of p.stream(request(0, 'x'))) chunks.push(c);
    assert.deepEqual(chunks.slice(0, 3), [{ type: 'text.delta', text: 'a ' }, { type: 'text.delta', text: 'b ' }, { type: 'text.delta', text: 'c' }]);
    assert.equal(chunks[3]!.type === 'response' ? chunks[3]!.response.providerSessionId : undefined, 'ps');
    const controller = new AbortController();
    const pending = p.complete(request(0, 'x', { model: 'slow', signal: controller.signal }));
    controller.abort();
    await assert.rejects(pending);
  });

  test('options are strict: an unknown key in a step is a config error', async (t) => {
    await assert.rejects(
      createTestKernel({ test: t, plugins: ['supervision', 'actors', 'tools', agentsPlugin, { use: scriptedPlugin, options: { scripts: { m: [{ reply: 'x', cost: 1 }] } } }] }),
      /cost/,
    );
  });
});
