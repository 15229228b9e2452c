/**
 * TLS against a real nats-server: a CA made here signs the server's certificate (127.0.0.1 in its
 * subjectAltName), nodes trust it through `tls.caFile`, and mutual TLS adds client certificates.
 * Failures are start failures with NATS_CONNECT_FAILED naming the server, never a hang.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import type { EventBus, StoredEvent } from '../../../plugins/events/types.js';
import type { ToolBus } from '../../../plugins/tools/types.js';
import { skipWithoutNats, startNats, type NatsServer } from './natsServer.js';
import { captureLogs, connectError, errorText, natsKernel, until } from './helpers.js';
import { skipWithoutOpenssl, TestCa } from './tlsCerts.js';

const opts = { ...skipWithoutNats(), ...skipWithoutOpenssl() };

/** nats-server's `tls {}` block: the server's certificate and key, plus `extra` lines. */
function tlsConfig(cert: { cert: string; key: string }, extra = ''): string {
  return `tls {\n  cert_file: ${JSON.stringify(cert.cert)}\n  key_file: ${JSON.stringify(cert.key)}\n  timeout: 5\n  ${extra}\n}\n`;
}

/**
 * Asserts a failed start: NATS_CONNECT_FAILED naming the server and `why`, and not a timeout. The
 * connect timeout is below the test kernel's start timeout, so a hang would show as a NATS timeout.
 */
function connectFailedAt(server: NatsServer, why: RegExp) {
  return (error: Error): boolean => {
    const err = connectError(error);
    assert.ok(err, `expected NATS_CONNECT_FAILED, got: ${errorText(error)}`);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
    assert.match(err.message, why);
    // It failed for its reason, at once: not by running into connectTimeoutMs.
    assert.doesNotMatch(err.message, /timeout/i);
    return true;
  };
}

/** Failing connects wait at most this long, below the test kernel's 5 s start timeout. */
const FAIL_FAST = { connectTimeoutMs: 3_000 };

/** A server refusing the client's certificate: its TLS alert, or the reset socket when the write lost the race. */
const REFUSED = /certificate|alert|ECONNRESET|EPIPE/i;

async function node(t: Parameters<typeof natsKernel>[0], url: string, nats: Record<string, unknown>) {
  const { kernel, nats: service } = await natsKernel(t, url, { system: 'tls', discoveryStallMs: 100, ...nats }, ['events', 'tools']);
  const events = kernel.resolve<EventBus>('events');
  const seen: StoredEvent[] = [];
  events.subscribe('>', (e) => void seen.push(e));
  return { kernel, nats: service, events, tools: kernel.resolve<ToolBus>('tools'), seen };
}

test('over TLS with tls.caFile: two nodes bridge events and call a remote tool', opts, async (t) => {
  const ca = TestCa.create(t);
  const cert = ca.server();
  const server = await startNats(t, {
    config: tlsConfig(cert),
    connect: { tls: { caFile: ca.cert } },
  });
  const tls = { caFile: ca.cert };
  const a = await node(t, server.url, { tls, bridge: ['order.>'] });
  a.tools.register({ name: 'math.add', description: 'Adds', input: z.object({ a: z.number(), b: z.number() }), handler: ({ a: x, b: y }) => x + y });
  a.tools.grant('*', '*');
  await a.nats.exposeTools('math.*');
  // The other node names the server with the tls:// scheme: the same server, TLS either way.
  const b = await node(t, server.url.replace('nats://', 'tls://'), { tls, bridge: ['order.>'] });
  b.tools.grant('*', '*');
  assert.equal(a.nats.stats().state, 'connected');

  await b.events.publish({ type: 'order.placed', source: 'shop', data: { id: 1 } });
  await until(() => a.seen.some((e) => e.type === 'order.placed'), 'the bridged event over TLS');
  assert.deepEqual(await b.nats.importTools('math.*'), ['math.add']);
  assert.equal(await b.tools.call('anyone', 'math.add', { a: 2, b: 40 }), 42);

  // A server restart: both reconnect over TLS, and the bridge carries events again.
  await server.restart();
  await until(() => [a, b].every((n) => n.nats.stats().state === 'connected' && n.nats.stats().reconnects >= 1), 'both nodes to reconnect over TLS');
  await b.events.publish({ type: 'order.again', source: 'shop', data: { id: 2 } });
  await until(() => a.seen.some((e) => e.type === 'order.again'), 'a bridged event after the reconnect');
});

test('the certificate must name the IP the node dials: an IP-only certificate passes, a localhost-only one fails', opts, async (t) => {
  const ca = TestCa.create(t);
  // The harness' own probe (plain nats.js) would check 'localhost' (the bug fixed in the plugin): it skips the name check.
  const probe = { caFile: ca.cert, checkServerIdentity: () => undefined };
  const ipOnly = await startNats(t, { config: tlsConfig(ca.server('ip-only', 'IP:127.0.0.1')), connect: { tls: probe } });
  const { nats } = await natsKernel(t, ipOnly.url, { tls: { caFile: ca.cert } });
  assert.equal(nats.stats().state, 'connected');

  const wrongName = await startNats(t, { config: tlsConfig(ca.server('localhost-only', 'DNS:localhost')), connect: { tls: probe } });
  await assert.rejects(natsKernel(t, wrongName.url, { tls: { caFile: ca.cert }, ...FAIL_FAST }), connectFailedAt(wrongName, /127\.0\.0\.1 is not in the cert's list/));
});

test('a node that does not trust the server certificate (another CA) fails start with NATS_CONNECT_FAILED', opts, async (t) => {
  const ca = TestCa.create(t, 'real');
  const other = TestCa.create(t, 'other');
  const cert = ca.server();
  const server = await startNats(t, {
    config: tlsConfig(cert),
    connect: { tls: { caFile: ca.cert } },
  });
  await assert.rejects(natsKernel(t, server.url, { tls: { caFile: other.cert }, ...FAIL_FAST }), connectFailedAt(server, /certificate/i));
  // No tls option at all: the client still upgrades (the server requires it) and rejects the unknown CA.
  await assert.rejects(natsKernel(t, server.url, FAIL_FAST), connectFailedAt(server, /certificate/i));
});

test('a missing tls.caFile fails start naming the file', opts, async (t) => {
  const ca = TestCa.create(t);
  const cert = ca.server();
  const server = await startNats(t, {
    config: tlsConfig(cert),
    connect: { tls: { caFile: ca.cert } },
  });
  // Relative paths resolve against the config file's folder (here: the configDir the kernel is given).
  await assert.rejects(natsKernel(t, server.url, { tls: { caFile: 'no-such-ca.pem' }, ...FAIL_FAST }, [], { configDir: ca.dir }), connectFailedAt(server, new RegExp(`${ca.dir}/no-such-ca\\.pem`)));
  // …and an existing one there is found.
  const { nats } = await natsKernel(t, server.url, { tls: { caFile: `${ca.name}-ca.pem` } }, [], { configDir: ca.dir });
  assert.equal(nats.stats().state, 'connected');
});

test('mutual TLS: a node with tls.certFile/keyFile connects; without a client certificate, or with one of another CA, start fails', opts, async (t) => {
  const ca = TestCa.create(t);
  const client = ca.client('node-a');
  const server = await startNats(t, {
    config: tlsConfig(ca.server(), `ca_file: ${JSON.stringify(ca.cert)}\n  verify: true`),
    connect: { tls: { caFile: ca.cert, certFile: client.cert, keyFile: client.key } },
  });
  const { lines, logger } = captureLogs();
  const a = await natsKernel(t, server.url, { tls: { caFile: ca.cert, certFile: client.cert, keyFile: client.key } }, ['events'], { logger });
  assert.equal(a.nats.stats().state, 'connected');
  // The key's content never reaches a log line (its path may).
  const keyBody = readFileSync(client.key, 'utf8').split('\n')[1]!;
  assert.ok(keyBody.length > 20);
  assert.ok(!lines.some((l) => l.includes(keyBody)));

  // The server refuses the handshake (a TLS alert): start fails at once with that, not by a timeout.
  await assert.rejects(natsKernel(t, server.url, { tls: { caFile: ca.cert }, ...FAIL_FAST }), connectFailedAt(server, REFUSED));
  const stranger = TestCa.create(t, 'stranger').client('mallory');
  await assert.rejects(
    natsKernel(t, server.url, { tls: { caFile: ca.cert, certFile: stranger.cert, keyFile: stranger.key }, ...FAIL_FAST }),
    connectFailedAt(server, REFUSED),
  );
  // The node with its certificate is untouched by the refused ones.
  assert.equal(a.nats.stats().state, 'connected');
});

/** nats-server's version as [major, minor, patch], or undefined. */
function serverVersion(): [number, number, number] | undefined {
  const r = spawnSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version'], { encoding: 'utf8' });
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(r.stdout ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

const version = serverVersion();
const handshakeFirstSupported = version !== undefined && (version[0] > 2 || (version[0] === 2 && version[1] >= 10));
const handshakeOpts = handshakeFirstSupported
  ? opts
  : { skip: `tls.handshakeFirst needs nats-server >= 2.10 (handshake_first); installed: ${version?.join('.') ?? 'unknown'}` };

test('tls.handshakeFirst: TLS before the server INFO, against a server with handshake_first', handshakeOpts, async (t) => {
  const ca = TestCa.create(t);
  const cert = ca.server();
  const server = await startNats(t, {
    config: `tls {\n  cert_file: ${JSON.stringify(cert.cert)}\n  key_file: ${JSON.stringify(cert.key)}\n  handshake_first: true\n}\n`,
    connect: { tls: { caFile: ca.cert, handshakeFirst: true } },
  });
  const a = await natsKernel(t, server.url, { tls: { caFile: ca.cert, handshakeFirst: true } });
  assert.equal(a.nats.stats().state, 'connected');
  // A client waiting for INFO first never gets one: it fails (by the connect timeout, the only signal it has).
  await assert.rejects(natsKernel(t, server.url, { tls: { caFile: ca.cert }, connectTimeoutMs: 1_000 }), (e: Error) => connectError(e) !== undefined);
});

test('tls on a node whose server offers no TLS fails start: the connection is never left in clear', opts, async (t) => {
  const ca = TestCa.create(t);
  const server = await startNats(t);
  await assert.rejects(natsKernel(t, server.url, { tls: { caFile: ca.cert }, ...FAIL_FAST }), connectFailedAt(server, /tls|TLS/));
});
