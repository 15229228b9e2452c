/**
 * Trace context on model API requests: a `ModelRequest.traceparent` reaches the API as exactly one
 * `traceparent` header, for plain and streamed requests, over configured headers that name one; a
 * request without one (or with a malformed one) sends none.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import type { ModelProvider } from '../../../plugins/agents/types.js';
import { AnthropicProvider } from '../../../plugins/provider-anthropic/index.js';
import { OpenAIProvider } from '../../../plugins/provider-openai/index.js';
import { collect, json, localApi, modelRequest, sse, type TestContext } from './helpers.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const STALE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

/** Answers "ok" in the shape each API uses, streamed when the request asked for a stream. */
const answers: Record<string, (streamed: boolean, res: ServerResponse) => void> = {
  openai(streamed, res) {
    if (!streamed) return json(res, 200, { choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } });
    const s = sse(res);
    s.send({ choices: [{ delta: { content: 'ok' } }] });
    s.send({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    s.send('[DONE]');
    s.end();
  },
  anthropic(streamed, res) {
    if (!streamed) return json(res, 200, { type: 'message', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } });
    const s = sse(res);
    s.send({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 1, output_tokens: 0 } } }, 'message_start');
    s.send({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
    s.send({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } }, 'content_block_delta');
    s.send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
    s.send({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }, 'message_delta');
    s.send({ type: 'message_stop' }, 'message_stop');
    s.end();
  },
};

const providers: Record<string, (origin: string, headers: Record<string, string>) => ModelProvider> = {
  openai: (origin, headers) => new OpenAIProvider({ name: 'openai', baseUrl: `${origin}/v1`, apiKey: 'sk-test', timeoutMs: 10_000, headers }),
  anthropic: (origin, headers) =>
    new AnthropicProvider({ name: 'anthropic', baseUrl: origin, apiKey: 'sk-ant-test', apiVersion: '2023-06-01', maxOutputTokens: 64, timeoutMs: 10_000, headers }),
};

async function api(t: TestContext, kind: string) {
  return localApi(t, (body, _req, res) => answers[kind]!(body.stream === true, res));
}

/** The trace headers a request arrived with, as sent (raw names; a duplicate would show twice). */
function traceHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (/^trace(parent|state)$/i.test(raw[i]!)) out.push(`${raw[i]!.toLowerCase()}: ${raw[i + 1]!}`);
  return out;
}

for (const kind of ['openai', 'anthropic']) {
  describe(`${kind}: traceparent header`, () => {
    test('a traced request sends exactly its traceparent, plain and streamed; an untraced one sends none', async (t) => {
      const server = await api(t, kind);
      const seen: string[][] = [];
      const p = providers[kind]!(server.origin, {});
      const traced = { ...modelRequest(), traceparent: TP };
      assert.equal((await p.complete(traced)).reply, 'ok');
      assert.equal((await collect(p.stream!(traced))).response?.reply, 'ok');
      assert.equal((await p.complete(modelRequest())).reply, 'ok');
      assert.equal((await collect(p.stream!(modelRequest()))).response?.reply, 'ok');
      for (const r of server.requests) seen.push(traceHeaders(r.rawHeaders));
      assert.deepEqual(
        server.requests.map((r) => r.body.stream === true),
        [false, true, false, true],
      );
      assert.deepEqual(seen, [[`traceparent: ${TP}`], [`traceparent: ${TP}`], [], []]);
    });

    test('the request’s traceparent replaces configured trace headers; a malformed one is not sent', async (t) => {
      const server = await api(t, kind);
      const p = providers[kind]!(server.origin, { TraceParent: STALE, tracestate: 'vendor=stale', 'x-gateway': 'kept' });
      await p.complete({ ...modelRequest(), traceparent: TP });
      await collect(p.stream!({ ...modelRequest(), traceparent: TP }));
      // Malformed (uppercase, a header injection): never sent; the configured headers go as they are.
      await p.complete({ ...modelRequest(), traceparent: TP.toUpperCase() });
      await p.complete({ ...modelRequest(), traceparent: `${TP}\r\nx-injected: 1` });
      assert.deepEqual(
        server.requests.map((r) => traceHeaders(r.rawHeaders)),
        [[`traceparent: ${TP}`], [`traceparent: ${TP}`], [`traceparent: ${STALE}`, 'tracestate: vendor=stale'], [`traceparent: ${STALE}`, 'tracestate: vendor=stale']],
      );
      for (const r of server.requests) {
        assert.equal(r.headers['x-gateway'], 'kept');
        assert.equal(r.headers['x-injected'], undefined);
      }
    });
  });
}
