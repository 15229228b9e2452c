/**
 * The remote-actor contract on the actors side (`expose`, `remote`, `attachTransport`), with a
 * recording transport: transport-nats' own tests cover the wire.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActorRef, AnyActorRef, RemoteActorTransport } from '../../../plugins/actors/types.js';
import { FAST_RESTART, startActors } from './helpers.js';

class RecordingTransport implements RemoteActorTransport {
  readonly exposed: string[] = [];
  readonly disposed: string[] = [];
  readonly refs = new Map<string, AnyActorRef>();
  remote<M, R>(name: string): ActorRef<M, R> {
    const ref = this.refs.get(name);
    if (ref === undefined) throw new Error(`no ${name}`);
    return ref as unknown as ActorRef<M, R>;
  }
  expose(ref: AnyActorRef) {
    this.exposed.push(ref.name!);
    this.refs.set(ref.name!, ref);
    return async () => {
      this.disposed.push(ref.name!);
      this.refs.delete(ref.name!);
    };
  }
}

const echo = { receive: (m: string) => m };

test('remote without a transport is ACTOR_REMOTE_UNAVAILABLE; expose without a name is refused', async (t) => {
  const { actors } = await startActors(t);
  assert.throws(() => actors.remote('x'), { code: 'ACTOR_REMOTE_UNAVAILABLE', message: /transport-nats/ });
  assert.throws(() => actors.spawn(echo, { expose: true }), { code: 'ACTOR_INVALID_OPTIONS', message: /expose needs a name/ });
});

test('attachTransport exposes live exposed actors, then each new one; the disposer runs when the actor stops for good', async (t) => {
  const { actors } = await startActors(t, FAST_RESTART);
  const before = actors.spawn(echo, { name: 'before', expose: true });
  actors.spawn(echo, { name: 'private' });
  const transport = new RecordingTransport();
  const detach = actors.attachTransport(transport);
  assert.deepEqual(transport.exposed, ['before']);
  assert.throws(() => actors.attachTransport(new RecordingTransport()), { code: 'ACTOR_INVALID_OPTIONS' });
  const crashy = actors.spawn<string, string>(
    { receive: (m) => { if (m === 'boom') throw new Error('boom'); return m; } },
    { name: 'crashy', expose: true },
  );
  assert.deepEqual(transport.exposed, ['before', 'crashy']);
  assert.equal(await actors.remote<string, string>('crashy').ask('hi'), 'hi');
  // A supervised restart keeps the actor exposed.
  await assert.rejects(crashy.ask('boom'), /boom/);
  assert.equal(await crashy.ask('again'), 'again');
  assert.deepEqual(transport.disposed, []);
  await before.stop();
  assert.deepEqual(transport.disposed, ['before']);
  await detach();
  assert.deepEqual(transport.disposed.sort(), ['before', 'crashy']);
  assert.throws(() => actors.remote('crashy'), { code: 'ACTOR_REMOTE_UNAVAILABLE' });
});

test('a transport that refuses to expose fails the spawn, and the name is free again', async (t) => {
  const { actors } = await startActors(t);
  actors.attachTransport({
    remote: () => { throw new Error('unused'); },
    expose: () => { throw Object.assign(new Error('bad subject'), { code: 'NATS_BAD_SUBJECT' }); },
  });
  assert.throws(() => actors.spawn(echo, { name: 'a b', expose: true }), { code: 'NATS_BAD_SUBJECT' });
  const until = Date.now() + 5000;
  while (actors.lookup('a b') !== undefined && Date.now() < until) await new Promise((r) => setImmediate(r));
  assert.equal(actors.lookup('a b'), undefined);
});
