import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import natsPlugin, { natsOptions } from '../../../plugins/transport-nats/index.js';
import type { NatsService } from '../../../plugins/transport-nats/types.js';
import type { HealthService } from '../../../plugins/health/types.js';
import { freePort, skipWithoutNats, startNats } from './natsServer.js';

const opts = skipWithoutNats();

/** Polls a condition each few ms, bounded by a signal: waits for state, never for time. */
async function until(cond: () => boolean, what: string, signal = AbortSignal.timeout(20_000)): Promise<void> {
  while (!cond()) {
    if (signal.aborted) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('options are strict: an unknown key or a second auth method is an error', () => {
  assert.equal(natsOptions.safeParse({ servers: 'nats://127.0.0.1:4222', tokne: 'x' }).success, false);
  assert.equal(natsOptions.safeParse({ auth: { token: 'a', user: 'b', pass: 'c' } }).success, false);
  assert.equal(natsOptions.safeParse({ tls: { caFile: 'ca.pem', verify: false } }).success, false);
  assert.equal(natsOptions.safeParse({ system: 'a.b' }).success, false);
  const d = natsOptions.parse({});
  assert.equal(d.servers, 'nats://127.0.0.1:4222');
  assert.equal(d.system, 'default');
  assert.equal(d.reconnect.maxAttempts, -1);
});

test('connects with a token; health and stats show the connection', opts, async (t) => {
  const server = await startNats(t, { config: 'authorization { token: "s3cret" }' });
  const kernel = await createTestKernel({
    plugins: ['health', { use: natsPlugin, options: { servers: server.url, auth: { token: 's3cret' }, name: 'node-a' } }],
    test: t,
  });
  const nats = kernel.resolve<NatsService>('nats');
  assert.equal(nats.stats().state, 'connected');
  assert.equal(nats.stats().maxPayload, 1024 * 1024);
  const check = await kernel.resolve<HealthService>('health').run('nats');
  assert.equal(check.status, 'healthy');
  assert.match(check.message ?? '', /connected to/);
});

test('a wrong token fails start with NATS_CONNECT_FAILED naming the server', opts, async (t) => {
  const server = await startNats(t, { config: 'authorization { token: "s3cret" }' });
  await assert.rejects(
    createTestKernel({ plugins: [{ use: natsPlugin, options: { servers: server.url, auth: { token: 'wrong' } } }], test: t }),
    (err: Error) => {
      const text = `${err.message} ${String((err as { cause?: Error }).cause?.message)}`;
      assert.match(text, /NATS|nats/);
      assert.match(text, new RegExp(String(server.port)));
      return true;
    },
  );
});

test('a missing credentials file fails start with a message naming the option', opts, async (t) => {
  const server = await startNats(t);
  await assert.rejects(
    createTestKernel({ plugins: [{ use: natsPlugin, options: { servers: server.url, auth: { credentialsFile: 'no-such.creds' } } }], test: t }),
    (err: Error) => /auth\.credentialsFile/.test(`${err.message} ${String((err as { cause?: Error }).cause?.message)}`),
  );
});

test('reconnects after a server restart, counted in stats and metrics; health degrades while away', opts, async (t) => {
  const server = await startNats(t);
  const kernel = await createTestKernel({
    plugins: ['health', { use: natsPlugin, options: { servers: server.url, reconnect: { backoff: { initialMs: 20, maxMs: 200 } } } }],
    test: t,
  });
  const nats = kernel.resolve<NatsService>('nats');
  const health = kernel.resolve<HealthService>('health');
  await server.stop();
  await until(() => nats.stats().state === 'reconnecting', 'the client to notice the outage');
  assert.equal((await health.run('nats')).status, 'degraded');
  await server.start();
  await until(() => nats.stats().state === 'connected' && nats.stats().reconnects === 1, 'the reconnect');
  assert.equal((await health.run('nats')).status, 'healthy');
  assert.ok(nats.stats().disconnects >= 1);
  const reconnects = kernel.recordedMetrics.value('nats_reconnects');
  assert.equal(reconnects, 1);
});

test('stop drains within the deadline even while the server is gone', opts, async (t) => {
  const server = await startNats(t);
  const kernel = await createTestKernel({
    plugins: [{ use: natsPlugin, options: { servers: server.url, drainTimeoutMs: 500 } }],
    config: { shutdownTimeoutMs: 3000 },
    test: t,
  });
  const nats = kernel.resolve<NatsService>('nats');
  await server.kill();
  await until(() => nats.stats().state !== 'connected', 'the disconnect');
  await kernel.stop('test');
  assert.equal(kernel.state, 'stopped');
  assert.equal(nats.stats().state, 'closed');
});

test('the plugin passes checkPluginConformance against a real server, exercised (bridge, remote actor, store)', opts, async (t) => {
  const server = await startNats(t);
  await checkPluginConformance(natsPlugin, {
    options: { servers: server.url, bridge: ['conf.>'] },
    with: ['supervision', 'actors', 'events'],
    exercise: async (kernel) => {
      const actors = kernel.resolve<import('../../../plugins/actors/types.js').ActorSystem>('actors');
      actors.spawn<string, string>({ receive: (m) => m }, { name: 'conf', expose: true });
      assert.equal(await actors.remote<string, string>('conf').ask('hi'), 'hi');
      const store = kernel.resolve<NatsService>('nats').createEventStore({ stream: 'CONF' });
      await store.open(() => undefined);
      await store.close();
    },
  });
});

test('a start that fails after connecting closes its connection (the kernel stops only plugins that started)', opts, async (t) => {
  const monitor = await freePort();
  const server = await startNats(t, { config: `http_port: ${monitor}` });
  const connections = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${monitor}/connz`)).json()) as { num_connections: number }).num_connections;
  assert.equal(await connections(), 0);
  // The pattern is checked only once connected, at start.
  await assert.rejects(
    createTestKernel({ test: t, plugins: ['tools', { use: natsPlugin, options: { servers: server.url, exposeTools: ['>'] } }] }),
    /tool pattern ">" is not valid/,
  );
  const deadline = AbortSignal.timeout(20_000);
  while ((await connections()) !== 0) {
    if (deadline.aborted) assert.fail('the failed start left its NATS connection open');
    await new Promise((r) => setTimeout(r, 20));
  }
});
