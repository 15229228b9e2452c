import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createTestKernel, type TestKernel } from '../../../testing/index.js';
import builtinTools from '../../../plugins/builtin-tools/index.js';
import tools from '../../../plugins/tools/index.js';
import type { ToolBus } from '../../../plugins/tools/types.js';

type Coded = Error & { code: string; context: Record<string, unknown> };
type Fetched = { url: string; status: number; headers: Record<string, string>; body: string };

/** A local server that answers by path; counts requests so tests can prove none was made. */
function startServer(handler: http.RequestListener): Promise<{ server: http.Server; host: string; hits: () => number }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits })));
}

/** What /headers received last (kept here: the response body is capped at maxBytes). */
let lastRequest: { headers: Record<string, string>; body: string } | undefined;
/** The trace headers of every request to /trace and /trace-redirect, as sent (raw names, duplicates kept). */
const traceSeen: Array<{ path: string; trace: string[] }> = [];
let allowed: Awaited<ReturnType<typeof startServer>>;
let other: Awaited<ReturnType<typeof startServer>>;
let kernel: TestKernel;
let bus: ToolBus;

before(async () => {
  other = await startServer((_req, res) => res.end('other host'));
  allowed = await startServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/hello') {
      res.setHeader('x-test', 'yes');
      res.end('hello');
    } else if (url.pathname === '/echo') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => res.end(`${req.method} ${body}`));
    } else if (url.pathname === '/headers') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        lastRequest = { headers: req.headers as Record<string, string>, body };
        res.end('seen');
      });
    } else if (url.pathname === '/trace' || url.pathname === '/trace-redirect') {
      const trace: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (/^trace(parent|state)$/i.test(req.rawHeaders[i]!)) trace.push(`${req.rawHeaders[i]!.toLowerCase()}: ${req.rawHeaders[i + 1]!}`);
      }
      traceSeen.push({ path: url.pathname, trace });
      if (url.pathname === '/trace-redirect') res.writeHead(302, { location: '/trace' }).end();
      else res.end('traced');
    } else if (url.pathname === '/redirect-same') {
      res.writeHead(302, { location: '/hello' }).end();
    } else if (url.pathname === '/redirect-other') {
      res.writeHead(302, { location: `http://${other.host}/` }).end();
    } else if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else if (url.pathname === '/big') {
      res.end('x'.repeat(200));
    } else if (url.pathname === '/big-chunked') {
      res.write('x'.repeat(60));
      res.write('x'.repeat(60));
      res.end();
    } else if (url.pathname === '/hang') {
      // Never answers: the tool's deadline must end the call.
    } else {
      res.writeHead(404).end('not found');
    }
  });
  kernel = await createTestKernel({
    plugins: [
      { use: tools, options: { grants: { agent: ['http.fetch'] } } },
      { use: builtinTools, options: { fs: { enabled: false }, http: { allowHosts: [allowed.host], timeoutMs: 200, maxBytes: 100 } } },
    ],
  });
  bus = kernel.resolve('tools');
});

after(async () => {
  await kernel.stop();
  for (const s of [allowed.server, other.server]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

test('http.fetch fetches from an allowed host', async () => {
  const res = (await bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/hello` })) as Fetched;
  assert.equal(res.status, 200);
  assert.equal(res.body, 'hello');
  assert.equal(res.headers['x-test'], 'yes');
  const posted = (await bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/echo`, method: 'POST', body: 'data' })) as Fetched;
  assert.equal(posted.body, 'POST data');
  const missing = (await bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/nope` })) as Fetched;
  assert.equal(missing.status, 404);
});

test('a host not in allowHosts is refused before any connection (TOOL_HOST_NOT_ALLOWED)', async () => {
  const before = other.hits();
  for (const url of [`http://${other.host}/`, `http://localhost:${allowed.host.split(':')[1]}/hello`, 'http://127.0.0.1/hello', 'https://example.com/']) {
    await assert.rejects(bus.call('agent', 'http.fetch', { url }), (e: Coded) => e.code === 'TOOL_HOST_NOT_ALLOWED' && e.context.url === url, url);
  }
  assert.equal(other.hits(), before);
  for (const url of ['file:///etc/passwd', 'not a url', `ftp://${allowed.host}/`]) {
    await assert.rejects(bus.call('agent', 'http.fetch', { url }), { code: 'TOOL_HOST_NOT_ALLOWED' }, url);
  }
});

test('redirects are followed on the same host only', async () => {
  const res = (await bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/redirect-same` })) as Fetched;
  assert.equal(res.body, 'hello');
  assert.equal(res.url, `http://${allowed.host}/hello`);
  const before = other.hits();
  await assert.rejects(bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/redirect-other` }), { code: 'TOOL_HOST_NOT_ALLOWED' });
  assert.equal(other.hits(), before);
  await assert.rejects(bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/loop` }), (e: Coded) => e.code === 'TOOL_FAILED' && /redirects/.test(e.message));
});

test('bodies over maxBytes fail with TOOL_TOO_LARGE, declared or streamed', async () => {
  await assert.rejects(bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/big` }), { code: 'TOOL_TOO_LARGE' });
  await assert.rejects(bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/big-chunked` }), { code: 'TOOL_TOO_LARGE' });
});

test('a server that never answers fails at the timeout (TOOL_TIMEOUT)', async () => {
  const began = performance.now();
  await assert.rejects(bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/hang` }), { code: 'TOOL_TIMEOUT' });
  assert.ok(performance.now() - began < 2_000);
});

test('an agent-supplied Host and hop-by-hop / connection-level headers are dropped; content-length is computed', async () => {
  const sent = {
    Host: 'internal.example',
    Connection: 'keep-alive, X-Named-By-Connection',
    'X-Named-By-Connection': 'dropped',
    'Keep-Alive': 'timeout=600',
    'Proxy-Authorization': 'Basic c2VjcmV0',
    'Proxy-Connection': 'keep-alive',
    TE: 'trailers',
    Trailer: 'X-Checksum',
    'Transfer-Encoding': 'chunked',
    Upgrade: 'websocket',
    'Content-Length': '999',
    Expect: '100-continue',
    'X-Kept': 'yes',
    Authorization: 'Bearer kept',
  };
  const r = (await bus.call('agent', 'http.fetch', { url: `http://${allowed.host}/headers`, method: 'POST', headers: sent, body: 'hello' }, { timeoutMs: 10_000 })) as Fetched;
  assert.equal(r.body, 'seen');
  const seen = lastRequest!;
  assert.equal(seen.body, 'hello');
  assert.equal(seen.headers.host, allowed.host);
  assert.equal(seen.headers['content-length'], '5');
  assert.equal(seen.headers['x-kept'], 'yes');
  assert.equal(seen.headers.authorization, 'Bearer kept');
  for (const name of ['x-named-by-connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']) {
    assert.equal(seen.headers[name], undefined, `${name} was forwarded`);
  }
  // Node's own connection handling decides the Connection header, not the agent's.
  assert.notEqual(seen.headers.connection, 'keep-alive, X-Named-By-Connection');
});

test('a traced call sends its traceparent on every hop, replacing any trace headers of the input; an untraced call sends the input’s as given', async () => {
  const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const forged = { TraceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'model=chosen', 'X-Kept': 'yes' };
  const fetch = (path: string, headers: Record<string, string>, traceparent?: string) =>
    bus.call('agent', 'http.fetch', { url: `http://${allowed.host}${path}`, headers }, traceparent === undefined ? { timeoutMs: 10_000 } : { timeoutMs: 10_000, traceparent });

  traceSeen.length = 0;
  await fetch('/trace', {}, TP);
  await fetch('/trace', forged, TP);
  await fetch('/trace-redirect', forged, TP);
  await fetch('/trace', {});
  await fetch('/trace', forged);
  assert.deepEqual(traceSeen, [
    { path: '/trace', trace: [`traceparent: ${TP}`] },
    // The model's traceparent (whatever its case) and tracestate are replaced by the call's.
    { path: '/trace', trace: [`traceparent: ${TP}`] },
    { path: '/trace-redirect', trace: [`traceparent: ${TP}`] },
    { path: '/trace', trace: [`traceparent: ${TP}`] },
    // Untraced: no trace header is added, and the input's go as they are.
    { path: '/trace', trace: [] },
    { path: '/trace', trace: [`traceparent: ${forged.TraceParent}`, 'tracestate: model=chosen'] },
  ]);
});
