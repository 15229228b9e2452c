import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActorSystem, DeadLetter } from '../../../plugins/actors/types.js';
import routingPlugin from '../../../plugins/routing/index.js';
import type { RoutingService } from '../../../plugins/routing/types.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';

async function start(t: { after(fn: () => unknown): void }, options: Record<string, unknown> = {}) {
  const kernel = await createTestKernel({
    plugins: ['supervision', { use: 'actors', options: { supervision: { backoff: { initialMs: 0, jitter: 0 } } } }, { use: 'routing', options }],
    test: t,
  });
  return { kernel, actors: kernel.resolve<ActorSystem>('actors'), routing: kernel.resolve<RoutingService>('routing') };
}

/** A behaviour that replies with its own actor id, to see who handled a message. */
const whoAmI = { receive: (_m: unknown, ctx: { self: { id: string } }) => ctx.self.id };

function tally(ids: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

test('round-robin spreads messages evenly, in turn', async (t) => {
  const { routing } = await start(t);
  const router = routing.pool<number, string>(whoAmI, { strategy: 'round-robin', size: 3 });
  assert.equal(router.routees.length, 3);
  const ids: string[] = [];
  for (let i = 0; i < 9; i++) ids.push(await router.ask(i));
  const expected = router.routees.map((r) => r.id);
  assert.deepEqual(ids, [...expected, ...expected, ...expected]);
});

test('random uses every routee over many messages', async (t) => {
  const { routing } = await start(t);
  const router = routing.pool<number, string>(whoAmI, { strategy: 'random', size: 4 });
  const ids = await Promise.all(Array.from({ length: 400 }, (_, i) => router.ask(i)));
  const counts = tally(ids);
  assert.equal(counts.size, 4);
  for (const n of counts.values()) assert.ok(n > 40, `each routee gets a fair share, got ${n}`);
});

test('least-loaded sends to the routee with the shortest mailbox', async (t) => {
  const { routing } = await start(t);
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const seen = new Map<string, number>();
  const router = routing.pool<string, void>(
    {
      async receive(m, ctx) {
        seen.set(ctx.self.id, (seen.get(ctx.self.id) ?? 0) + 1);
        if (m === 'block') await blocked;
      },
    },
    { strategy: 'least-loaded', size: 3 },
  );
  const [a, b, c] = router.routees;
  // Load `a` with a backlog directly.
  a!.tell('block');
  for (let i = 0; i < 5; i++) a!.tell('backlog');
  for (let i = 0; i < 6; i++) router.tell('work');
  assert.equal(a!.mailboxSize, 6, 'nothing new went to the loaded routee');
  assert.ok(b!.mailboxSize + c!.mailboxSize >= 4);
  release();
  await Promise.all(router.routees.map((r) => r.ask('sync')));
  assert.equal(seen.get(a!.id), 7);
  assert.equal((seen.get(b!.id) ?? 0) + (seen.get(c!.id) ?? 0), 8);
});

test('consistent-hash keeps a key on one routee, and most keys stay put when the pool grows', async (t) => {
  const { routing } = await start(t);
  const router = routing.pool<{ user: string }, string>(whoAmI, { strategy: 'consistent-hash', size: 4, key: (m) => m.user });
  const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
  const before = new Map<string, string>();
  for (const user of keys) before.set(user, await router.ask({ user }));
  for (const user of keys.slice(0, 20)) assert.equal(await router.ask({ user }), before.get(user), 'same key, same routee');
  assert.equal(new Set(before.values()).size, 4, 'keys spread over all routees');
  await router.resize(5);
  let moved = 0;
  for (const user of keys) if ((await router.ask({ user })) !== before.get(user)) moved++;
  assert.ok(moved < 100, `only about 1/5 of keys move on growth, moved ${moved}/200`);
});

test('broadcast tells every routee; ask collects every reply', async (t) => {
  const { routing } = await start(t);
  const got: string[] = [];
  const router = routing.pool<string, string>(
    {
      receive(m, ctx) {
        got.push(`${ctx.self.id}:${m}`);
        return ctx.self.id;
      },
    },
    { strategy: 'broadcast', size: 3 },
  );
  router.tell('hello');
  const replies = (await router.ask('all')) as unknown as string[];
  assert.deepEqual(replies, router.routees.map((r) => r.id));
  assert.equal(got.filter((g) => g.endsWith(':hello')).length, 3);
});

test('a router is an ActorRef: found by name, messages to the looked-up ref are routed', async (t) => {
  const { actors, routing } = await start(t);
  const router = routing.pool<number, string>(whoAmI, { strategy: 'round-robin', size: 2, name: 'workers' });
  const ref = actors.lookup<number, string>('workers')!;
  assert.equal(ref.id, router.id);
  const a = await ref.ask(1);
  const b = await ref.ask(2);
  assert.deepEqual([a, b], router.routees.map((r) => r.id));
});

test('resize grows and shrinks a pool; removed routees finish their backlog first', async (t) => {
  const { routing } = await start(t);
  const handled: string[] = [];
  const router = routing.pool<string, void>({ receive: async (m) => void handled.push(m) }, { size: 2 });
  await router.resize(4);
  assert.equal(router.routees.length, 4);
  const last = router.routees[3]!;
  for (let i = 0; i < 8; i++) router.tell(`m${i}`);
  await router.resize(1);
  assert.equal(router.routees.length, 1);
  assert.equal(last.alive, false);
  assert.equal(handled.length, 8, 'nothing queued on a removed routee was lost');
});

test('a pool over existing refs routes to them, cannot be resized, and drops refs that stop', async (t) => {
  const { actors, routing } = await start(t);
  const a = actors.spawn<number, string>({ receive: () => 'a' });
  const b = actors.spawn<number, string>({ receive: () => 'b' });
  const router = routing.pool([a, b], { strategy: 'round-robin' });
  assert.deepEqual([await router.ask(1), await router.ask(2)], ['a', 'b']);
  await assert.rejects(router.resize(3), { code: 'ROUTING_NOT_RESIZABLE' });
  await b.stop();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(router.routees, [a]);
  await a.stop();
  await new Promise((r) => setImmediate(r));
  assert.throws(() => router.tell(1), { code: 'ROUTING_NO_ROUTEES' });
  await assert.rejects(router.ask(1), { code: 'ROUTING_NO_ROUTEES' });
  await router.stop();
  assert.throws(() => router.tell(1), { code: 'ROUTING_ROUTER_STOPPED' });
});

test('stopping a behaviour pool stops its routees', async (t) => {
  const { routing } = await start(t);
  const router = routing.pool(whoAmI, { size: 3 });
  const routees = [...router.routees];
  await router.stop();
  assert.equal(router.alive, false);
  assert.ok(routees.every((r) => !r.alive));
});

test('a crashing routee is restarted and stays in the pool', async (t) => {
  const { routing } = await start(t);
  const router = routing.pool<string, string>({ receive: (m) => { if (m === 'crash') throw new Error('routee crash'); return m; } }, { size: 1 });
  const only = router.routees[0]!;
  await assert.rejects(router.ask('crash'), /routee crash/);
  assert.equal(await router.ask('ok'), 'ok');
  assert.deepEqual(router.routees, [only]);
});

test('invalid pool options are ROUTING_INVALID_OPTIONS', async (t) => {
  const { routing } = await start(t);
  assert.throws(() => routing.pool(whoAmI, { strategy: 'nope' as never }), { code: 'ROUTING_INVALID_OPTIONS' });
  assert.throws(() => routing.pool(whoAmI, { size: -1 }), { code: 'ROUTING_INVALID_OPTIONS' });
  assert.throws(() => routing.pool(whoAmI, { key: 'user' as never }), { code: 'ROUTING_INVALID_OPTIONS' });
  assert.throws(() => routing.pool({} as never), { code: 'ROUTING_INVALID_OPTIONS' });
});

test('middleware: beforeProcess in order, then receive, then afterProcess in the same order', async (t) => {
  const { actors, routing } = await start(t);
  const trace: string[] = [];
  routing.use({
    name: 'one',
    beforeProcess: (ctx) => void trace.push(`before1:${String(ctx.message)}`),
    afterProcess: (ctx) => void trace.push(`after1:${String(ctx.reply)}`),
  });
  const off = routing.use({
    name: 'two',
    beforeProcess: async (ctx) => {
      trace.push(`before2:${String(ctx.message)}`);
      ctx.message = `${String(ctx.message)}+`;
    },
    afterProcess: (ctx) => void trace.push(`after2:${String(ctx.reply)}`),
  });
  const ref = actors.spawn<string, string>({ receive: (m) => (trace.push(`receive:${m}`), m.toUpperCase()) });
  assert.equal(await ref.ask('x'), 'X+');
  assert.deepEqual(trace, ['before1:x', 'before2:x', 'receive:x+', 'after1:X+', 'after2:X+']);
  await off();
  trace.length = 0;
  assert.equal(await ref.ask('y'), 'Y');
  assert.deepEqual(trace, ['before1:y', 'receive:y', 'after1:Y']);
});

test('middleware can reject messages: the ask fails, a told message is a dead letter, the actor lives', async (t) => {
  const { actors, routing } = await start(t);
  const letters: DeadLetter[] = [];
  actors.deadLetters.subscribe((l) => letters.push(l));
  routing.use({
    beforeProcess(ctx) {
      if (typeof ctx.message !== 'number') throw new TypeError(`expected a number, got ${typeof ctx.message}`);
    },
  });
  const ref = actors.spawn<unknown, number>({ receive: (m) => (m as number) * 2 });
  await assert.rejects(ref.ask('nope'), /expected a number/);
  ref.tell('also nope');
  assert.equal(await ref.ask(21), 42);
  assert.deepEqual(letters.map((l) => [l.message, l.reason]), [['also nope', 'rejected']]);
  assert.equal(ref.alive, true);
});

test('afterProcess failures fail the ask but do not crash the actor', async (t) => {
  const { actors, routing } = await start(t);
  routing.use({
    afterProcess(ctx) {
      if (ctx.reply === 'bad') throw new Error('audit refused the reply');
    },
  });
  const ref = actors.spawn<string, string>({ receive: (m) => m });
  await assert.rejects(ref.ask('bad'), /audit refused/);
  assert.equal(await ref.ask('good'), 'good');
});

test('routing passes the plugin conformance check', async () => {
  await checkPluginConformance(routingPlugin, {
    with: ['supervision', 'actors'],
    async exercise(kernel) {
      const router = kernel.resolve<RoutingService>('routing').pool<number, number>({ receive: (n) => n }, { size: 2 });
      assert.equal(await router.ask(7), 7);
    },
  });
});

test('middleware changes a reply by assigning it; return values never replace anything', async (t) => {
  const { actors, routing } = await start(t);
  const seen: unknown[] = [];
  routing.use({ beforeProcess: (ctx) => seen.push(ctx.message) });
  routing.use({
    afterProcess: (ctx) => {
      ctx.reply = { wrapped: ctx.reply };
    },
  });
  const ref = actors.spawn<string, unknown>({ receive: (m) => `<${m}>` });
  assert.deepEqual(await ref.ask('x'), { wrapped: '<x>' });
  assert.deepEqual(seen, ['x']);
});
