import assert from 'node:assert/strict';
import { createServer as createNetServer, connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import http, { HttpError, HttpServer } from '../../../plugins/http/index.js';
import type { HttpService, RouteHandler } from '../../../plugins/http/index.js';
import { definePlugin, type MisterSmithError } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import { deferred, errorOf, request } from './helpers.js';

type Routes = (http: HttpService) => void;

function withRoutes(register: Routes) {
  return definePlugin({
    name: 'routes',
    version: '1.0.0',
    dependsOn: ['http'],
    setup(ctx) {
      register(ctx.resolve('http'));
    },
  });
}

async function startHttp(t: { after(fn: () => unknown): void }, options: Record<string, unknown> = {}, register: Routes = () => {}) {
  const kernel = await createTestKernel({ plugins: [{ use: http, options }, withRoutes(register)], test: t });
  const service = kernel.resolve('http');
  assert.ok(service.url);
  return { kernel, service, url: service.url };
}

test('listens on 127.0.0.1 on an ephemeral port and exposes the bound URL only while running', async (t) => {
  const { kernel, service, url } = await startHttp(t);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(new URL(url).port, '0');
  await kernel.stop();
  assert.equal(service.url, undefined);
  await assert.rejects(request(`${url}/x`), /ECONNREFUSED/);
});

test('routes by method and path with params, query and JSON bodies', async (t) => {
  const { url } = await startHttp(t, {}, (h) => {
    h.route('GET', '/agents/:id', (req) => ({ body: { id: req.params.id, q: req.query.get('q') } }));
    h.route('GET', '/agents/me', () => ({ body: { me: true } }));
    h.route('GET', '/files/*', (req) => ({ body: { rest: req.params['*'] } }));
    h.route('POST', '/echo', (req) => ({ status: 201, headers: { 'x-seen': 'yes' }, body: { got: req.body } }));
    h.route('POST', '/raw', (req) => ({ body: Buffer.isBuffer(req.body) ? (req.body as Buffer).toString('utf8') : 'not a buffer' }));
    h.route('GET', '/text', async () => ({ body: 'plain' }));
    h.route('GET', '/self', (_req, res) => void res.end('wrote it myself'));
  });
  const param = await request(`${url}/agents/a%20b?q=1`);
  assert.equal(param.status, 200);
  assert.match(String(param.headers['content-type']), /^application\/json/);
  assert.deepEqual(param.json(), { id: 'a b', q: '1' });
  assert.deepEqual((await request(`${url}/agents/me/`)).json(), { me: true }, 'static segments win, trailing slash ignored');
  assert.deepEqual((await request(`${url}/files/a/b.txt`)).json(), { rest: 'a/b.txt' });
  const echo = await request(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
  assert.equal(echo.status, 201);
  assert.equal(echo.headers['x-seen'], 'yes');
  assert.deepEqual(echo.json(), { got: { a: [1, 2] } });
  const raw = await request(`${url}/raw`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  assert.equal(raw.text, 'hello');
  const text = await request(`${url}/text`);
  assert.equal(text.text, 'plain');
  assert.match(String(text.headers['content-type']), /^text\/plain/);
  assert.equal((await request(`${url}/self`)).text, 'wrote it myself');
  const head = await request(`${url}/text`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
});

test('unknown paths get 404 and wrong methods 405 with an Allow header, as JSON errors', async (t) => {
  const { url } = await startHttp(t, {}, (h) => {
    h.route('GET', '/thing', () => ({ body: {} }));
    h.route('DELETE', '/thing', () => ({ status: 204 }));
  });
  const missing = await request(`${url}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(errorOf(missing).code, 'HTTP_NOT_FOUND');
  assert.match(errorOf(missing).message, /GET \/nope/);
  const wrong = await request(`${url}/thing`, { method: 'POST', body: '{}' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'DELETE, GET, HEAD');
  assert.equal(errorOf(wrong).code, 'HTTP_METHOD_NOT_ALLOWED');
  const options = await request(`${url}/thing`, { method: 'OPTIONS' });
  assert.equal(options.status, 204);
  assert.equal(options.headers.allow, 'DELETE, GET, HEAD');
});

test('bodies over bodyLimitBytes get 413 before the handler runs, by length or while streaming', async (t) => {
  let calls = 0;
  const { url } = await startHttp(t, { bodyLimitBytes: 16 }, (h) => h.route('POST', '/in', () => ((calls += 1), { body: {} })));
  const declared = await request(`${url}/in`, { method: 'POST', body: JSON.stringify({ long: 'x'.repeat(64) }) });
  assert.equal(declared.status, 413);
  assert.equal(errorOf(declared).code, 'HTTP_BODY_TOO_LARGE');
  const chunked = await request(`${url}/in`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'y'.repeat(64) });
  assert.equal(chunked.status, 413);
  const fits = await request(`${url}/in`, { method: 'POST', body: '{"a":1}' });
  assert.equal(fits.status, 200);
  assert.equal(calls, 1);
});

test('malformed JSON and malformed path encoding are 400s', async (t) => {
  const { url } = await startHttp(t, {}, (h) => {
    h.route('POST', '/in', () => ({ body: {} }));
    h.route('GET', '/p/:x', () => ({ body: {} }));
  });
  const json = await request(`${url}/in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
  assert.equal(json.status, 400);
  assert.equal(errorOf(json).code, 'HTTP_BAD_REQUEST');
  const path = await request(`${url}/p/%E0%A4%A`);
  assert.equal(path.status, 400);
});

test('bearer auth from options: 401 without or with a wrong token, public routes stay open', async (t) => {
  const { url } = await startHttp(t, { auth: { token: 's3cret' } }, (h) => {
    h.route('GET', '/private', () => ({ body: { ok: true } }));
    h.route('GET', '/public', () => ({ body: { ok: true } }), { auth: false });
  });
  const none = await request(`${url}/private`);
  assert.equal(none.status, 401);
  assert.equal(errorOf(none).code, 'HTTP_UNAUTHORIZED');
  assert.match(String(none.headers['www-authenticate']), /^Bearer/);
  const wrong = await request(`${url}/private`, { headers: { authorization: 'Bearer s3cres' } });
  assert.equal(wrong.status, 401);
  assert.match(String(wrong.headers['www-authenticate']), /invalid_token/);
  const shorter = await request(`${url}/private`, { headers: { authorization: 'Bearer s' } });
  assert.equal(shorter.status, 401, 'a token of another length is compared safely too');
  const basic = await request(`${url}/private`, { headers: { authorization: 'Basic czNjcmV0' } });
  assert.equal(basic.status, 401);
  const right = await request(`${url}/private`, { headers: { authorization: 'bearer s3cret' } });
  assert.equal(right.status, 200);
  assert.equal((await request(`${url}/public`)).status, 200);
  assert.equal((await request(`${url}/unknown`)).status, 401, 'unauthenticated clients do not learn which paths exist');
  assert.equal((await request(`${url}/unknown`, { headers: { authorization: 'Bearer s3cret' } })).status, 404);
});

test('bearer auth off by default; token from an environment variable; a missing variable fails start', async (t) => {
  const open = await startHttp(t, {}, (h) => h.route('GET', '/x', () => ({ body: {} })));
  assert.equal((await request(`${open.url}/x`)).status, 200);
  await open.kernel.stop();

  process.env.MS_TEST_HTTP_TOKEN = 'from-env';
  t.after(() => delete process.env.MS_TEST_HTTP_TOKEN);
  const env = await startHttp(t, { auth: { tokenEnv: 'MS_TEST_HTTP_TOKEN', token: 'ignored' } }, (h) => h.route('GET', '/x', () => ({ body: {} })));
  assert.equal((await request(`${env.url}/x`)).status, 401);
  assert.equal((await request(`${env.url}/x`, { headers: { authorization: 'Bearer ignored' } })).status, 401);
  assert.equal((await request(`${env.url}/x`, { headers: { authorization: 'Bearer from-env' } })).status, 200);
  await env.kernel.stop();

  await assert.rejects(
    createTestKernel({ plugins: [{ use: http, options: { auth: { tokenEnv: 'MS_TEST_HTTP_TOKEN_UNSET' } } }], test: t }),
    (error: Error) => /HTTP_AUTH_TOKEN_MISSING|MS_TEST_HTTP_TOKEN_UNSET/.test(error.message) && /environment variable/.test(error.message),
  );
});

test('a handler that throws gets a 500 JSON error, an HttpError its own status; the process lives on', async (t) => {
  const logged: Array<{ msg?: string; route?: string }> = [];
  const logger = pino({ level: 'error' }, new Writable({ write: (chunk: Buffer, _e, done) => (logged.push(JSON.parse(chunk.toString())), done()) }));
  const kernel = await createTestKernel({ plugins: [http, withRoutes((h) => {
    h.route('GET', '/sync', () => {
      throw new Error('secret internals');
    });
    h.route('GET', '/async', async () => {
      throw new Error('async internals');
    });
    h.route('GET', '/typed', () => {
      throw new HttpError(409, 'THING_EXISTS', 'the thing exists', { headers: { 'x-why': 'dup' } });
    });
    h.route('GET', '/bigint', () => ({ body: { n: 1n } }));
    h.route('GET', '/bad-status', () => ({ status: 99 }));
    h.route('GET', '/thrown-string', () => Promise.reject('just a string'));
  })], logger, test: t });
  const url = kernel.resolve('http').url!;
  for (const path of ['/sync', '/async', '/bigint', '/bad-status', '/thrown-string']) {
    const res = await request(`${url}${path}`);
    assert.equal(res.status, 500, path);
    assert.equal(errorOf(res).code, 'HTTP_INTERNAL_ERROR');
    assert.doesNotMatch(errorOf(res).message, /internals/);
  }
  const typed = await request(`${url}/typed`);
  assert.equal(typed.status, 409);
  assert.equal(typed.headers['x-why'], 'dup');
  assert.deepEqual(errorOf(typed), { code: 'THING_EXISTS', message: 'the thing exists' });
  assert.equal(kernel.state, 'running');
  const failures = logged.filter((l) => l.msg === 'route handler failed');
  assert.deepEqual(failures.map((l) => l.route), ['/sync', '/async', '/bigint', '/bad-status', '/thrown-string'], 'each 500 is logged; the 409 is not');
});

test('a handler past requestTimeoutMs gets 503 and its signal aborts; a body that never arrives gets 408', async (t) => {
  let aborted: unknown;
  const { url } = await startHttp(t, { requestTimeoutMs: 100 }, (h) => {
    h.route('GET', '/slow', (req) => new Promise<undefined>((resolve) => req.signal.addEventListener('abort', () => ((aborted = req.signal.reason), resolve(undefined)))));
    h.route('POST', '/upload', () => ({ body: {} }));
  });
  const slow = await request(`${url}/slow`);
  assert.equal(slow.status, 503);
  assert.equal(errorOf(slow).code, 'HTTP_HANDLER_TIMEOUT');
  assert.equal((aborted as MisterSmithError).code, 'HTTP_HANDLER_TIMEOUT');

  const { port } = new URL(url);
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a"');
    });
    let data = '';
    socket.on('data', (c) => (data += c.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 408/);
  assert.match(reply, /HTTP_REQUEST_TIMEOUT/);
});

test('a handler that started its response but misses the deadline has its connection cut', async (t) => {
  const { url } = await startHttp(t, { requestTimeoutMs: 100 }, (h) =>
    h.route('GET', '/stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      return undefined;
    }),
  );
  const outcome = await request(`${url}/stream`).then(
    (res) => `answered ${res.status} ${res.text}`,
    (error: Error) => error.message,
  );
  assert.match(outcome, /aborted|socket hang up|ECONNRESET/, outcome);
});

test('a client that goes away aborts the handler signal', async (t) => {
  let reason: unknown;
  const seen = deferred();
  const started = deferred();
  const { url } = await startHttp(t, {}, (h) =>
    h.route('GET', '/wait', (req) => {
      started.resolve();
      req.signal.addEventListener('abort', () => ((reason = req.signal.reason), seen.resolve()));
      return new Promise(() => {});
    }),
  );
  const controller = new AbortController();
  const pending = request(`${url}/wait`, { signal: controller.signal }).catch(() => undefined);
  await started.promise;
  controller.abort();
  await pending;
  await seen.promise;
  assert.equal((reason as MisterSmithError).code, 'CANCELLED');
});

test('route conflicts and malformed routes throw typed errors; the disposer removes a route', async (t) => {
  const { url, service } = await startHttp(t);
  const handler: RouteHandler = () => ({ body: { ok: true } });
  const remove = service.route('GET', '/r/:id', handler);
  assert.throws(() => service.route('GET', '/r/:other', handler), (e: MisterSmithError) => e.code === 'HTTP_ROUTE_CONFLICT' && /\/r\/:id/.test(e.message));
  assert.throws(() => service.route('GET', 'no-slash', handler), (e: MisterSmithError) => e.code === 'HTTP_INVALID_ROUTE');
  assert.throws(() => service.route('GET', '/a/*/b', handler), (e: MisterSmithError) => e.code === 'HTTP_INVALID_ROUTE');
  assert.throws(() => service.route('GET', '/a/:x/:x', handler), (e: MisterSmithError) => e.code === 'HTTP_INVALID_ROUTE');
  assert.throws(() => service.route('BREW' as 'GET', '/pot', handler), (e: MisterSmithError) => e.code === 'HTTP_INVALID_ROUTE');
  assert.equal((await request(`${url}/r/1`)).status, 200);
  await remove(); // a Disposer: resolves once the route is gone
  await remove();
  assert.equal((await request(`${url}/r/1`)).status, 404);
  service.route('GET', '/r/:id', handler);
  assert.equal((await request(`${url}/r/1`)).status, 200);
});

test('stop lets an in-flight request finish, refuses new ones, and leaves no socket behind', async (t) => {
  const release = deferred();
  const entered = deferred();
  const { url, kernel } = await startHttp(t, {}, (h) =>
    h.route('GET', '/work', async () => {
      entered.resolve();
      await release.promise;
      return { body: { done: true } };
    }),
  );
  const inFlight = request(`${url}/work`);
  await entered.promise;
  const stopping = kernel.stop('test');
  // New connections are refused as soon as the server stops accepting (until then: a quick 404).
  let refused: unknown;
  for (let i = 0; i < 200 && refused === undefined; i++) {
    refused = await request(`${url}/not-here`).then(
      () => delay(10).then(() => undefined),
      (error: Error) => error,
    );
  }
  assert.match(String((refused as Error)?.message), /ECONNREFUSED|ECONNRESET/);
  release.resolve();
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.deepEqual(res.json(), { done: true });
  assert.equal(res.headers.connection, 'close');
  const report = await stopping;
  assert.deepEqual(report.errors, []);
});

test('stop destroys connections whose requests outlive closeGraceMs and aborts their handlers', async (t) => {
  let reason: unknown;
  const entered = deferred();
  const { url, kernel } = await startHttp(t, { closeGraceMs: 50 }, (h) =>
    h.route('GET', '/forever', (req) => {
      entered.resolve();
      req.signal.addEventListener('abort', () => (reason = req.signal.reason));
      return new Promise(() => {});
    }),
  );
  const pending = request(`${url}/forever`).then(
    () => 'answered',
    (error: Error) => error.message,
  );
  await entered.promise;
  const began = performance.now();
  const report = await kernel.stop('test');
  assert.ok(performance.now() - began < 2_000);
  assert.deepEqual(report.errors, []);
  assert.match(await pending, /socket hang up|ECONNRESET/);
  assert.equal((reason as MisterSmithError).code, 'CANCELLED');
});

test('a port in use fails the start with HTTP_LISTEN_FAILED', async (t) => {
  const blocker = createNetServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as AddressInfo).port;
  await assert.rejects(createTestKernel({ plugins: [{ use: http, options: { port } }], test: t }), /HTTP_LISTEN_FAILED|cannot listen/);
});

test('counts requests by method, route pattern and status', async (t) => {
  const { url, kernel } = await startHttp(t, {}, (h) => h.route('GET', '/c/:id', () => ({ body: {} })));
  await request(`${url}/c/1`);
  await request(`${url}/c/2`);
  await request(`${url}/zzz`);
  await request(`${url}/c/1`, { method: 'BREW' }).catch(() => undefined);
  const m = kernel.recordedMetrics;
  assert.equal(m.value('http_requests_total', { route: '/c/:id', status: 200, method: 'GET' }), 2);
  assert.equal(m.value('http_requests_total', { route: 'unmatched', status: 404 }), 1);
  assert.equal(m.observations('http_request_duration_seconds', { route: '/c/:id' }).length, 2);
  assert.equal(m.value('http_requests_in_flight'), 0);
});

test('HttpServer can be used on its own and closing it twice is harmless', async () => {
  const { default: pino } = await import('pino');
  const { MetricsFacade } = await import('../../../kernel/MetricsFacade.js');
  const server = new HttpServer(
    { host: '127.0.0.1', port: 0, bodyLimitBytes: 10, requestTimeoutMs: 1000, closeGraceMs: 10, auth: {} },
    { logger: pino({ level: 'silent' }), metrics: new MetricsFacade() },
  );
  server.route('GET', '/', () => ({ body: 'root' }));
  const url = await server.listen();
  assert.equal(await server.listen(), url);
  assert.equal((await request(`${url}/`)).text, 'root');
  await server.close();
  await server.close();
});

test('http passes the plugin conformance check', async () => {
  await checkPluginConformance(http, {
    exercise: async (kernel) => {
      const service = kernel.resolve('http');
      service.route('GET', '/ping', () => ({ body: 'pong' }));
      assert.equal((await request(`${service.url}/ping`)).text, 'pong');
      // fetch keeps a pooled keep-alive socket open; the server's close must end it.
      assert.equal(await (await fetch(`${service.url}/ping`)).text(), 'pong');
    },
  });
});
