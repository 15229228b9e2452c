import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MisterSmithError } from '../../../sdk/index.js';
import type { ActorSystem } from '../../../plugins/actors/types.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { natsKernel, until } from './helpers.js';

const opts = skipWithoutNats();
const ACTORS = ['supervision', { use: 'actors', options: { supervision: { backoff: { initialMs: 0, jitter: 0 } } } }] as const;

async function node(t: Parameters<typeof natsKernel>[0], url: string) {
  const { kernel, nats } = await natsKernel(t, url, { system: 'act', requestTimeoutMs: 2000 }, [...ACTORS]);
  return { kernel, nats, actors: kernel.resolve<ActorSystem>('actors') };
}

test('ask and tell an actor exposed on another node', opts, async (t) => {
  const server = await startNats(t);
  const a = await node(t, server.url);
  const b = await node(t, server.url);
  const told: unknown[] = [];
  a.actors.spawn<{ op: string; n?: number }, unknown>(
    {
      receive(m) {
        if (m.op === 'double') return { result: m.n! * 2 };
        told.push(m);
        return undefined;
      },
    },
    { name: 'calc', expose: true },
  );
  // Exposure takes effect once the server has the subscription: one round trip on a's connection.
  await a.nats.client.flush();
  const calc = b.actors.remote<{ op: string; n?: number }, { result: number }>('calc');
  assert.equal(calc.name, 'calc');
  assert.deepEqual(await calc.ask({ op: 'double', n: 21 }), { result: 42 });
  calc.tell({ op: 'note' });
  await until(() => told.length === 1, 'the told message');
  const many = await Promise.all(Array.from({ length: 100 }, (_, i) => calc.ask({ op: 'double', n: i })));
  assert.deepEqual(many.map((r) => r.result), Array.from({ length: 100 }, (_, i) => i * 2));
});

test('remote errors carry the local codes: what receive threw, ACTOR_ASK_TIMEOUT, and ACTOR_REMOTE_UNREACHABLE', opts, async (t) => {
  const server = await startNats(t);
  const a = await node(t, server.url);
  const b = await node(t, server.url);
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  t.after(() => release());
  a.actors.spawn<string, string>(
    {
      async receive(m) {
        if (m === 'typed') throw new MisterSmithError('ORDER_REJECTED', 'order 7 is over the limit', { kind: 'actor', context: { order: 7 } });
        if (m === 'plain') throw new Error('plain failure');
        if (m === 'slow') await blocked;
        return m;
      },
    },
    { name: 'svc', expose: true, supervision: { restart: 'permanent' } },
  );
  await a.nats.client.flush();
  const svc = b.actors.remote<string, string>('svc');
  await assert.rejects(svc.ask('typed'), (err: MisterSmithError) => {
    assert.equal(err.code, 'ORDER_REJECTED');
    assert.equal(err.message, 'order 7 is over the limit');
    assert.equal(err.context.order, 7);
    assert.deepEqual((err.context.remote as { actor: string }).actor, 'svc');
    return true;
  });
  await assert.rejects(svc.ask('plain'), { code: 'UNKNOWN', message: 'plain failure' });
  // The owning node enforces the caller's timeout: the same ACTOR_ASK_TIMEOUT as a local ask.
  // Both nodes share this process, so an event-loop stall longer than the caller's network margin
  // (250 ms for a 200 ms ask) fires both timers in one pass and the caller gives up first
  // (ACTOR_REMOTE_UNREACHABLE) on a loaded machine: a 5 s ask gets the 1 s margin.
  await assert.rejects(svc.ask('slow', { timeoutMs: 5_000 }), { code: 'ACTOR_ASK_TIMEOUT' });
  release();
  await assert.rejects(b.actors.remote('nobody').ask('x'), { code: 'ACTOR_REMOTE_UNREACHABLE', message: /no node exposes it/ });
  const ac = new AbortController();
  const asked = svc.ask('ok', { signal: ac.signal });
  assert.equal(await asked, 'ok');
  ac.abort();
  await assert.rejects(svc.ask('ok', { signal: ac.signal }), { code: 'CANCELLED' });
});

test('a stopped actor is no longer reachable; a restarted one still is', opts, async (t) => {
  const server = await startNats(t);
  const a = await node(t, server.url);
  const b = await node(t, server.url);
  const ref = a.actors.spawn<string, string>({ receive: (m) => { if (m === 'crash') throw new Error('crash'); return `pong ${m}`; } }, { name: 'pinger', expose: true });
  await a.nats.client.flush();
  const remote = b.actors.remote<string, string>('pinger');
  await assert.rejects(remote.ask('crash'), /crash/);
  assert.equal(await remote.ask('1'), 'pong 1', 'still exposed after a supervised restart');
  await ref.stop();
  // The un-expose reaches the server asynchronously: an ask racing it finds the actor stopped.
  await assert.rejects(remote.ask('2'), (err: { code: string }) => ['ACTOR_REMOTE_UNREACHABLE', 'ACTOR_STOPPED'].includes(err.code));
  await until(async () => {
    try {
      await remote.ask('3');
      return false;
    } catch (err) {
      return (err as { code: string }).code === 'ACTOR_REMOTE_UNREACHABLE';
    }
  }, 'the name to be gone from the server');
});

test('bad names, oversized payloads and foreign envelopes are clear typed errors', opts, async (t) => {
  const server = await startNats(t);
  const a = await node(t, server.url);
  const b = await node(t, server.url);
  assert.throws(() => b.actors.remote('a.b'), { code: 'NATS_BAD_SUBJECT', message: /actor name "a.b"/ });
  assert.throws(() => b.actors.remote('a b'), { code: 'NATS_BAD_SUBJECT' });
  assert.throws(() => a.actors.spawn({ receive: () => 1 }, { name: 'has space', expose: true }), { code: 'NATS_BAD_SUBJECT' });
  a.actors.spawn<number, string>({ receive: (n) => 'x'.repeat(n) }, { name: 'big', expose: true });
  await a.nats.client.flush();
  const big = b.actors.remote<unknown, string>('big');
  await assert.rejects(big.ask('y'.repeat(2 * 1024 * 1024)), { code: 'NATS_PAYLOAD_TOO_LARGE', message: /max_payload of 1048576/ });
  assert.throws(() => big.tell('y'.repeat(2 * 1024 * 1024)), { code: 'NATS_PAYLOAD_TOO_LARGE' });
  await assert.rejects(big.ask(2 * 1024 * 1024), { code: 'NATS_PAYLOAD_TOO_LARGE', message: /reply/ });
  await assert.rejects(big.ask(10n), { code: 'NATS_BAD_ENVELOPE', message: /not JSON-serialisable/ });
  // A node speaking another envelope version gets a typed refusal, not a crash.
  const raw = await b.nats.client.request('ms.v1.act.actor.big', JSON.stringify({ v: 2, k: 'ask', m: 1 }), { timeout: 2000 });
  const reply = JSON.parse(raw.string()) as { ok: boolean; e: { code: string; message: string } };
  assert.equal(reply.ok, false);
  assert.equal(reply.e.code, 'NATS_BAD_ENVELOPE');
  assert.match(reply.e.message, /version 2, expected 1/);
});
