import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActorRef, ActorSystem, TerminationReason } from '../../../plugins/actors/types.js';
import { gate, settle, startActors } from './helpers.js';

/** Tight intensity, no backoff: a child told three 'crash' messages exceeds its supervisor's intensity. */
const TIGHT = { supervision: { intensity: 2, periodMs: 60_000, shutdownMs: 50, backoff: { initialMs: 0, jitter: 0 } } };

async function until(condition: () => boolean, what: string): Promise<void> {
  const began = Date.now();
  while (!condition()) {
    if (Date.now() - began > 5000) throw new Error(`timed out waiting for ${what}`);
    await settle();
  }
}

function crasher(actors: ActorSystem, parent: ActorRef<never, unknown>): ActorRef<string, string> {
  return actors.spawn<string, string>(
    {
      receive(m) {
        if (m === 'crash') throw new Error('child crash');
        return m;
      },
    },
    { parent },
  );
}

test("a parent's children run under a supervisor nested in the 'actors' tree, not under a root tree of their own", async (t) => {
  const { actors, kernel } = await startActors(t);
  const grandparent = actors.spawn({ receive: () => 'gp' });
  const parent = actors.spawn({ receive: () => 'p' }, { parent: grandparent });
  const child = actors.spawn<string, string>({ receive: (m) => m }, { parent });
  assert.equal(await child.ask('x'), 'x');
  const supervision = kernel.resolve('supervision');
  assert.deepEqual(supervision.roots().map((r) => r.id), ['actors']);
  const root = supervision.roots()[0]!;
  assert.deepEqual(root.whichChildren().map((c) => [c.id, c.type]), [
    [grandparent.id, 'worker'],
    [`actors/${grandparent.id}`, 'supervisor'],
  ]);
  await parent.stop();
  assert.equal(child.alive, false);
  assert.equal(grandparent.alive, true);
});

test('a crash-looping child: its supervisor gives up, the parent crashes and restarts from init, the kernel keeps running', async (t) => {
  const { actors, kernel } = await startActors(t, TIGHT);
  const faults: string[] = [];
  kernel.hooks.fault.tap({ name: 'observer', stage: -1 }, (fault) => void faults.push(fault.code));
  let inits = 0;
  const parentReasons: string[] = [];
  const parent = actors.spawn<string, string, number>({
    init: (ctx) => {
      inits++;
      return ctx.restartCount;
    },
    receive: (_m, ctx) => `incarnation ${ctx.state}`,
  });
  const child = crasher(actors, parent);
  const sibling = actors.spawn<string, string>({ receive: (m) => m }, { parent });
  const childReasons: TerminationReason[] = [];
  const siblingReasons: TerminationReason[] = [];
  actors.watch(child, (r) => childReasons.push(r));
  actors.watch(sibling, (r) => siblingReasons.push(r));
  actors.watch(parent, (r) => parentReasons.push(r.kind));
  assert.equal(await sibling.ask('up'), 'up');
  const queued = sibling.ask('never handled', {});
  void queued.catch(() => {});

  for (let i = 0; i < 3; i++) child.tell('crash');
  await until(() => !child.alive && inits === 2, 'the escalation');

  // The children terminated: they were under the supervisor that gave up.
  assert.equal(childReasons.length, 1);
  assert.equal(childReasons[0]!.kind, 'crashed');
  assert.equal((childReasons[0] as unknown as { error: { code: string } }).error.code, 'ACTOR_SUPERVISOR_GONE');
  assert.equal(sibling.alive, false, 'the healthy sibling went with them');
  assert.equal(siblingReasons[0]!.kind, 'crashed');
  // The parent crashed with ACTOR_CHILDREN_FAILED and was restarted from init by the root supervisor.
  assert.equal(parent.alive, true);
  assert.deepEqual(parentReasons, [], 'a restart is not a termination');
  assert.equal(await parent.ask('?'), 'incarnation 1');
  const root = kernel.resolve('supervision').roots()[0]!;
  assert.deepEqual(root.whichChildren(), [{ id: parent.id, state: 'running', restartCount: 1, type: 'worker' }], 'the failed children supervisor is forgotten');
  assert.equal(kernel.recordedMetrics.value('supervisor_escalations_total', { supervisor: `actors/${parent.id}` }), 1);
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total', { supervisor: 'actors' }), 1);
  assert.equal(kernel.state, 'running', 'one parent whose children crash-loop does not stop the kernel');
  assert.deepEqual(faults, []);

  // The restarted parent can have children again, under a fresh supervisor.
  const again = actors.spawn<string, string>({ receive: (m) => `again:${m}` }, { parent });
  assert.equal(await again.ask('x'), 'again:x');
  assert.deepEqual(root.whichChildren().map((c) => [c.id, c.type, c.state]), [
    [parent.id, 'worker', 'running'],
    [`actors/${parent.id}#2`, 'supervisor', 'running'],
  ]);
});

test('an async receive of the parent in flight when its children supervisor gives up fails with ACTOR_CHILDREN_FAILED; later messages go to the next incarnation', async (t) => {
  const { actors } = await startActors(t, TIGHT);
  const g = gate<string>();
  let inits = 0;
  const handled: string[] = [];
  const parent = actors.spawn<string, string>({
    init: () => void inits++,
    async receive(m) {
      handled.push(m);
      if (m === 'slow') return g.promise;
      return `ok:${m}`;
    },
  });
  const slow = parent.ask('slow');
  const after = parent.ask('after');
  await settle();
  const child = crasher(actors, parent);
  for (let i = 0; i < 3; i++) child.tell('crash');
  await assert.rejects(slow, { code: 'ACTOR_CHILDREN_FAILED' });
  assert.equal(inits, 2, 'restarted');
  g.open('too late');
  assert.equal(await after, 'ok:after', 'the mailbox survived the escalation');
  assert.deepEqual(handled, ['slow', 'after'], 'one message at a time: the next incarnation waited for the abandoned receive');
});

test("a 'temporary' parent whose children supervisor gives up terminates as crashed with ACTOR_CHILDREN_FAILED", async (t) => {
  const { actors, kernel } = await startActors(t, TIGHT);
  const parent = actors.spawn({ receive: () => 'p' }, { supervision: { restart: 'temporary' } });
  const reasons: TerminationReason[] = [];
  actors.watch(parent, (r) => reasons.push(r));
  const child = crasher(actors, parent);
  for (let i = 0; i < 3; i++) child.tell('crash');
  await until(() => reasons.length === 1, 'the parent terminated');
  assert.equal(reasons[0]!.kind, 'crashed');
  assert.equal((reasons[0] as unknown as { error: { code: string } }).error.code, 'ACTOR_CHILDREN_FAILED');
  assert.equal(parent.alive, false);
  assert.equal(actors.stats().actors, 0);
  await until(() => kernel.resolve('supervision').roots()[0]!.whichChildren().length === 0, 'the root forgot both');
  assert.equal(kernel.state, 'running');
});

test("escalations climb: each failure of a parent's children supervisor costs the root one restart; only the root exceeding its intensity is a kernel fault", async (t) => {
  const { actors, kernel } = await startActors(t, { supervision: { intensity: 1, periodMs: 60_000, shutdownMs: 50, backoff: { initialMs: 0, jitter: 0 } } });
  const faults: string[] = [];
  kernel.hooks.fault.tap({ name: 'observer', stage: -1 }, (fault) => void faults.push(`${fault.source} ${fault.code}`));
  const children: Array<ActorRef<string, string>> = [];
  // The parent spawns a crash-prone child in each incarnation (as an actor owning workers would).
  const parent = actors.spawn<string, string>({
    init(ctx) {
      children.push(crasher(actors, ctx.self as ActorRef<never, unknown>));
      return undefined;
    },
    receive: (m) => m,
  });
  await until(() => children.length === 1, 'first child');
  children[0]!.tell('crash');
  children[0]!.tell('crash');
  await until(() => children.length === 2, 'first escalation restarted the parent (the root used 1 of 1 restarts)');
  assert.equal(kernel.state, 'running');
  assert.deepEqual(faults, []);
  children[1]!.tell('crash');
  children[1]!.tell('crash');
  await until(() => kernel.state !== 'running', 'the root supervisor gave up');
  assert.deepEqual(faults, ['supervisor:actors SUPERVISION_INTENSITY_EXCEEDED']);
  assert.equal(kernel.exitCode, 1);
  assert.equal(parent.alive, false);
});

test('stopping a parent stops its children (and theirs) first, then their supervisor, then the parent', async (t) => {
  const { actors, kernel } = await startActors(t);
  const log: string[] = [];
  const spawnLogged = (label: string, parent?: ActorRef<never, unknown>): ActorRef<string, string> =>
    actors.spawn<string, string>({ receive: (m) => m, stopped: () => void log.push(label) }, parent === undefined ? {} : { parent });
  const parent = spawnLogged('parent');
  const a = spawnLogged('a', parent);
  spawnLogged('a1', a);
  spawnLogged('b', parent);
  assert.equal(await a.ask('ready'), 'ready');
  const root = kernel.resolve('supervision').roots()[0]!;
  assert.equal(root.whichChildren().length, 2);
  await parent.stop();
  assert.equal(log.at(-1), 'parent', 'the parent stops last');
  assert.ok(log.indexOf('a1') < log.indexOf('a'), 'a grandchild stops before its own parent');
  assert.deepEqual([...log].sort(), ['a', 'a1', 'b', 'parent']);
  assert.deepEqual(root.whichChildren(), [], 'the children supervisor and the parent are gone from the tree');
  assert.equal(actors.stats().actors, 0);
});

test('kernel stop with a tree of parents stops everything through the one root tree', async (t) => {
  const { actors, kernel } = await startActors(t);
  const log: string[] = [];
  const parent = actors.spawn<string, string>({ receive: (m) => m, stopped: () => void log.push('parent') });
  const child = actors.spawn<string, string>({ receive: (m) => m, stopped: () => void log.push('child') }, { parent });
  child.tell('queued');
  await kernel.stop();
  assert.deepEqual([...log].sort(), ['child', 'parent']);
  assert.equal(actors.stats().actors, 0);
  assert.equal(kernel.exitCode ?? 0, 0);
});
