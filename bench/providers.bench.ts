/**
 * Providers and MCP, each beside its raw-Node baseline in the same process:
 * - a tool call over MCP Streamable HTTP (the SDK's client → the mcp plugin's endpoint → the tool
 *   bus) vs the same SDK client against a bare node:http server answering the JSON-RPC call with a
 *   canned result (so the ratio is what the endpoint adds: auth, a server session, the bus);
 * - a streamed chat completion of 2 000 deltas read by provider-openai (SSE parsing, delta
 *   assembly, typed errors) vs a bare fetch reading the same body to its end.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pino from 'pino';
import { createKernel } from '../kernel/createKernel.js';
import { definePlugin, z } from '../sdk/index.js';
import { OpenAIProvider } from '../plugins/provider-openai/index.js';
import { defineBench, medianMicros, type BenchRow } from './harness.js';

const TOKEN = 'bench-token-0123456789';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A JSON-RPC endpoint that knows initialize and tools/call and nothing else. */
function bareMcpServer(): Server {
  return createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const msg = JSON.parse(text) as { id?: number; method: string; params?: { protocolVersion?: string } };
      if (msg.id === undefined) return void res.writeHead(202).end();
      const result =
        msg.method === 'initialize'
          ? { protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'bare', version: '1' } }
          : { content: [{ type: 'text', text: '5' }] };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    });
  });
}

async function client(url: string): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  return c;
}

async function mcpCall(): Promise<BenchRow[]> {
  const math = definePlugin({
    name: 'bench-math',
    version: '1.0.0',
    dependsOn: ['tools'],
    setup(ctx) {
      const tools = ctx.resolve('tools');
      ctx.onStop(tools.register({ name: 'math.add', description: 'adds', input: z.object({ a: z.number(), b: z.number() }), handler: ({ a, b }) => a + b }));
      tools.grant('bench', 'math.*');
    },
  });
  const kernel = await createKernel({ config: { name: 'bench', plugins: ['supervision', 'tools', 'http', math, { use: 'mcp', options: { clients: { [TOKEN]: 'bench' } } }] }, logger: pino({ level: 'silent' }) });
  await kernel.start();
  const bare = bareMcpServer();
  const bareUrl = await listen(bare);
  try {
    const ours = await client(kernel.resolve('mcp').url!);
    const raw = await client(bareUrl);
    const call = (c: Client) => () => c.callTool({ name: 'math.add', arguments: { a: 2, b: 3 } });
    let value = Infinity;
    let baseline = Infinity;
    for (let round = 0; round < 3; round++) {
      value = Math.min(value, await medianMicros(400, call(ours), 100));
      baseline = Math.min(baseline, await medianMicros(400, call(raw), 100));
    }
    await ours.close();
    await raw.close();
    return [{ case: 'mcp: tools/call over Streamable HTTP (SDK client, median)', value, unit: 'µs', baseline, baselineName: 'SDK client → bare node:http JSON-RPC answer', ratio: value / baseline }];
  } finally {
    await kernel.stop();
    bare.closeAllConnections();
    await new Promise<void>((resolve) => bare.close(() => resolve()));
  }
}

async function openaiStream(): Promise<BenchRow[]> {
  const DELTAS = 2_000;
  let body = '';
  for (let i = 0; i < DELTAS; i++) body += `data: ${JSON.stringify({ choices: [{ delta: { content: `tok${i} ` } }] })}\n\n`;
  body += `data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: DELTAS } })}\n\ndata: [DONE]\n\n`;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(body);
    });
  });
  const origin = await listen(server);
  try {
    const provider = new OpenAIProvider({ name: 'openai', baseUrl: `${origin}/v1`, apiKey: undefined, timeoutMs: 30_000, headers: {} });
    const request = { runId: 'r', agent: 'a', model: 'm', instructions: '', messages: [{ role: 'user' as const, content: 'hi' }], tools: [], turn: 0, signal: new AbortController().signal };
    const ours = async () => {
      let n = 0;
      for await (const chunk of provider.stream(request)) if (chunk.type === 'text.delta') n++;
      if (n !== DELTAS) throw new Error(`expected ${DELTAS} deltas, got ${n}`);
    };
    const raw = async () => {
      const res = await fetch(`${origin}/v1/chat/completions`, { method: 'POST', body: '{}' });
      await res.text();
    };
    // The inherent part: the same body split into events and each event's JSON parsed, by hand.
    const rawParsed = async () => {
      const res = await fetch(`${origin}/v1/chat/completions`, { method: 'POST', body: '{}' });
      let n = 0;
      for (const event of (await res.text()).split('\n\n')) {
        const data = event.slice(6);
        if (data !== '' && data !== '[DONE]' && (JSON.parse(data) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content) n++;
      }
      if (n !== DELTAS) throw new Error(`expected ${DELTAS} deltas, got ${n}`);
    };
    let value = Infinity;
    let baseline = Infinity;
    let parsed = Infinity;
    for (let round = 0; round < 3; round++) {
      value = Math.min(value, await medianMicros(60, ours, 10));
      baseline = Math.min(baseline, await medianMicros(60, raw, 10));
      parsed = Math.min(parsed, await medianMicros(60, rawParsed, 10));
    }
    const name = `openai: stream of ${DELTAS} SSE deltas, parsed and assembled (median)`;
    return [
      { case: name, value, unit: 'µs', baseline, baselineName: 'bare fetch + res.text() of the same body', ratio: value / baseline },
      { case: name, value, unit: 'µs', baseline: parsed, baselineName: 'bare fetch + text().split + JSON.parse per event', ratio: value / parsed },
    ];
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export default defineBench({
  name: 'providers',
  async run(): Promise<BenchRow[]> {
    return [...(await mcpCall()), ...(await openaiStream())];
  },
});
