/** Local protocol servers and request builders for the provider tests. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MisterSmithError } from '../../../sdk/index.js';
import type { ChatMessage } from '../../../plugins/agents/types.js';
import type { ToolInfo } from '../../../plugins/tools/types.js';

export type TestContext = { after(fn: () => unknown): void };
export type Handler = (body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse) => void;

export interface RecordedRequest {
  readonly body: Record<string, unknown>;
  readonly headers: IncomingMessage['headers'];
  /** Header names and values as sent, in order (duplicates kept). */
  readonly rawHeaders: readonly string[];
  readonly path: string | undefined;
}

/** An HTTP server on 127.0.0.1 speaking a model API: the edge of the world this machine cannot reach. */
export async function localApi(t: TestContext, handler: Handler): Promise<{ origin: string; requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // GETs and empty bodies
      }
      requests.push({ body, headers: req.headers, rawHeaders: req.rawHeaders, path: req.url });
      handler(body, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

export const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** Starts an SSE answer; `send` writes one event; `cut` destroys the socket mid-stream. */
export function sse(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  return {
    send(data: unknown, event?: string): void {
      res.write(`${event !== undefined ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    },
    end(): void {
      res.end();
    },
    cut(): void {
      res.socket?.destroy();
    },
  };
}

export const failure = (p: Promise<unknown>): Promise<MisterSmithError & { cause?: MisterSmithError }> =>
  p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e as MisterSmithError & { cause?: MisterSmithError },
  );

export const addTool: ToolInfo = {
  name: 'math.add',
  description: 'Adds two numbers',
  inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  outputSchema: undefined,
};

/** A model request as the agents plugin builds it. */
export function modelRequest(over: { messages?: ChatMessage[]; tools?: ToolInfo[]; signal?: AbortSignal; model?: string; instructions?: string; providerSessionId?: string; sessionId?: string; agent?: string } = {}) {
  return {
    runId: 'run-1',
    agent: over.agent ?? 'calculator',
    model: over.model ?? 'test-model',
    instructions: over.instructions ?? 'Add numbers.',
    messages: over.messages ?? [{ role: 'user' as const, content: 'add 2 and 3' }],
    tools: over.tools ?? [addTool],
    turn: 0,
    signal: over.signal ?? new AbortController().signal,
    ...(over.providerSessionId !== undefined ? { providerSessionId: over.providerSessionId } : {}),
    ...(over.sessionId !== undefined ? { sessionId: over.sessionId } : {}),
  };
}

/** Collects a stream: the text deltas and the final response. */
export async function collect<R>(stream: AsyncIterable<{ type: 'text.delta'; text: string } | { type: 'response'; response: R }>) {
  const deltas: string[] = [];
  let response: R | undefined;
  let afterResponse = 0;
  for await (const chunk of stream) {
    if (response !== undefined) afterResponse++;
    if (chunk.type === 'text.delta') deltas.push(chunk.text);
    else response = chunk.response;
  }
  assert.equal(afterResponse, 0, 'the response is the last chunk');
  assert.ok(response !== undefined, 'the stream ends with a response');
  return { deltas, response };
}

/** One assistant message of a local Anthropic API: text and/or tool uses. */
export interface AnthropicReply {
  readonly text?: string;
  readonly toolUses?: ReadonlyArray<{ readonly name: string; readonly input: unknown }>;
  readonly usage?: { readonly input_tokens: number; readonly output_tokens: number };
}

/**
 * A local server speaking the Anthropic Messages API, streamed (`message_start` … `message_stop`)
 * when asked and `mode` is 'sse', plain JSON otherwise. `reply` decides per request: a message, or
 * an error status.
 */
export async function localAnthropic(t: TestContext, mode: 'sse' | 'json', reply: (body: Record<string, unknown>, n: number) => AnthropicReply | { readonly status: number; readonly headers?: Record<string, string> }) {
  let n = 0;
  let ids = 0;
  return localApi(t, (body, _req, res) => {
    const r = reply(body, n++);
    if ('status' in r) return json(res, r.status, { type: 'error', error: { type: r.status === 401 ? 'authentication_error' : r.status === 429 ? 'rate_limit_error' : 'api_error', message: `status ${r.status}` } }, r.headers);
    const content: Array<Record<string, unknown>> = [];
    if (r.text !== undefined) content.push({ type: 'text', text: r.text });
    for (const u of r.toolUses ?? []) content.push({ type: 'tool_use', id: `toolu_${++ids}`, name: u.name, input: u.input });
    const usage = r.usage ?? { input_tokens: 100, output_tokens: 20 };
    const message = { id: `msg_${n}`, type: 'message', role: 'assistant', model: body.model, content, stop_reason: r.toolUses?.length ? 'tool_use' : 'end_turn', stop_sequence: null, usage };
    if (body.stream !== true || mode === 'json') return json(res, 200, message);
    const s = sse(res);
    s.send({ type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: usage.input_tokens, output_tokens: 0 } } }, 'message_start');
    content.forEach((block, index) => {
      if (block.type === 'text') {
        s.send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, 'content_block_start');
        s.send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } }, 'content_block_delta');
      } else {
        s.send({ type: 'content_block_start', index, content_block: { ...block, input: {} } }, 'content_block_start');
        s.send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }, 'content_block_delta');
      }
      s.send({ type: 'content_block_stop', index }, 'content_block_stop');
    });
    s.send({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }, 'message_delta');
    s.send({ type: 'message_stop' }, 'message_stop');
    s.end();
  });
}

/** The text blocks of the last user message of a Messages API request (tool results included). */
export function lastUserText(body: Record<string, unknown>): string {
  const last = (body.messages as Array<{ role: string; content: unknown }>).at(-1)!;
  if (typeof last.content === 'string') return last.content;
  return (last.content as Array<{ type: string; text?: string; content?: unknown }>)
    .map((b) => (b.type === 'text' ? b.text : b.type === 'tool_result' ? `[tool_result ${typeof b.content === 'string' ? b.content : JSON.stringify(b.content)}]` : ''))
    .join('\n');
}
