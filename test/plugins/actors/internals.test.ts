import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActorRef } from '../../../plugins/actors/types.js';
import { startActors } from './helpers.js';

/** Every string key reachable on `value`, through its prototype chain up to Object.prototype. */
function stringKeys(value: object): Set<string> {
  const keys = new Set<string>();
  for (let o: object | null = value; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) keys.add(key);
  }
  keys.delete('constructor');
  return keys;
}

const REF_API = ['id', 'name', 'tell', 'ask', 'stop', 'mailboxSize', 'alive'];
const SYSTEM_API = ['spawn', 'lookup', 'watch', 'deadLetters', 'stats', 'hooks', 'remote', 'attachTransport', 'start', 'shutdown'];
const INTERNALS = ['incarnate', 'retire', 'finalize', 'escalate', 'run', 'children', 'parent', 'config', 'busy', 'reason', 'signal', 'addWatcher'];

test('an actor ref has no string key beyond the ActorRef API: incarnate, retire, finalize, escalate, run, children are unreachable', async (t) => {
  const { actors } = await startActors(t);
  const parent = actors.spawn({ receive: (m: number) => m + 1 });
  const child = actors.spawn({ receive: (m: number) => m }, { parent: parent as ActorRef<never, unknown> });
  assert.equal(await parent.ask(1), 2);
  for (const ref of [parent, child]) {
    assert.deepEqual([...stringKeys(ref)].sort(), [...REF_API].sort());
    assert.deepEqual(Object.keys(ref), ['id']);
    const loose = ref as unknown as Record<string, unknown>;
    for (const name of INTERNALS) assert.equal(loose[name], undefined, `ref.${name} is reachable`);
    // Its symbol keys are module-private: none is a registered (forgeable) symbol.
    const proto = Object.getPrototypeOf(ref) as object;
    for (const sym of [...Object.getOwnPropertySymbols(ref), ...Object.getOwnPropertySymbols(proto)]) {
      assert.equal(Symbol.keyFor(sym), undefined, `${String(sym)} can be forged with Symbol.for`);
    }
  }
  // Assigning a `children` property does not reach the actor's children: stopping the parent still stops the child.
  (parent as unknown as Record<string, unknown>).children = undefined;
  await parent.stop();
  assert.equal(child.alive, false);
});

test('the actors service exposes its API only: no counters, no cell callbacks, and dead letters are read-only', async (t) => {
  const { actors } = await startActors(t);
  assert.deepEqual([...stringKeys(actors)].sort(), [...SYSTEM_API].sort());
  assert.deepEqual(Object.keys(actors), []);
  const loose = actors as unknown as Record<string, unknown>;
  for (const name of ['sent', 'processed', 'queued', 'inFlight', 'highWater', 'restarts', 'schedule', 'deadLetter', 'crashed', 'stopCell', 'terminated']) {
    assert.equal(loose[name], undefined, `actors.${name} is reachable`);
  }
  assert.deepEqual([...stringKeys(actors.deadLetters)].sort(), ['count', 'subscribe']);
  assert.throws(() => {
    (actors.deadLetters as unknown as { count: number }).count = 5;
  }, TypeError);
  const ref = actors.spawn({ receive: () => undefined }, { mailbox: { capacity: 1, overflow: 'drop-newest' } });
  const letters: string[] = [];
  const unsubscribe = actors.deadLetters.subscribe((letter) => letters.push(letter.reason));
  await ref.stop();
  assert.throws(() => ref.tell('late'), { code: 'ACTOR_STOPPED' });
  assert.deepEqual(letters, ['stopped']);
  assert.equal(actors.deadLetters.count, 1);
  unsubscribe();
});

test('the internals are not part of the types either', async (t) => {
  const { actors } = await startActors(t);
  const ref = actors.spawn({ receive: (m: number) => m });
  const check = (): void => {
    // @ts-expect-error not part of ActorRef
    void ref.incarnate;
    // @ts-expect-error not part of ActorRef
    void ref.retire;
    // @ts-expect-error not part of ActorRef
    void ref.children;
    // @ts-expect-error not part of ActorSystem
    void actors.processed;
  };
  check();
  assert.equal(await ref.ask(3), 3);
});
