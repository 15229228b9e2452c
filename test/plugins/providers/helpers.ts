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
      requests.push({ body, headers: req.headers, path: req.url });
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
