import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActorRef, AnyActorRef, DeadLetter, TerminationReason } from '../../../plugins/actors/types.js';
import type { EventBus } from '../../../plugins/events/types.js';
import type { HealthService } from '../../../plugins/health/types.js';
import { definePlugin } from '../../../sdk/index.js';
import { FAST_RESTART, gate, settle, startActors } from './helpers.js';

test('tell delivers in order, one at a time, and ask replies with what receive returned', async (t) => {
  const { actors } = await startActors(t);
  const seen: number[] = [];
  const ref = actors.spawn<number, number>({ receive: (n) => (seen.push(n), n * 2) });
  for (let i = 0; i < 100; i++) ref.tell(i);
  assert.equal(await ref.ask(100), 200);
  assert.deepEqual(seen, Array.from({ length: 101 }, (_, i) => i));
});

test('async receive keeps order under concurrent senders and never overlaps', async (t) => {
  const { actors } = await startActors(t);
  const seen: string[] = [];
  let active = 0;
  let maxActive = 0;
  const ref = actors.spawn<string, void>({
    async receive(m) {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setImmediate(r));
      seen.push(m);
      active--;
    },
  });
  const senders = ['a', 'b', 'c'].map(async (s) => {
    for (let i = 0; i < 20; i++) {
      ref.tell(`${s}${i}`);
      if (i % 5 === 0) await Promise.resolve();
    }
  });
  await Promise.all(senders);
  await ref.ask('end');
  assert.equal(maxActive, 1);
  assert.equal(seen.length, 61);
  for (const s of ['a', 'b', 'c']) {
    const mine = seen.filter((m) => m.startsWith(s)).map((m) => Number(m.slice(1)));
    assert.deepEqual(mine, Array.from({ length: 20 }, (_, i) => i), `sender ${s} order`);
  }
});

test('init state is ctx.state, assignable in receive; stopped runs with the last state', async (t) => {
  const { actors } = await startActors(t);
  let last: number | undefined;
  const counter = actors.spawn<'inc' | 'get', number, number>({
    init: async () => 10,
    receive(m, ctx) {
      if (m === 'inc') ctx.state += 1;
      return ctx.state;
    },
    stopped: (ctx) => void (last = ctx.state),
  });
  counter.tell('inc');
  counter.tell('inc');
  assert.equal(await counter.ask('get'), 12);
  await counter.stop();
  assert.equal(last, 12);
  assert.equal(counter.alive, false);
});

test('names: lookup finds a live actor, a duplicate name is ACTOR_NAME_TAKEN, the name frees on stop', async (t) => {
  const { actors } = await startActors(t);
  const a = actors.spawn({ receive: () => 'a' }, { name: 'svc' });
  assert.equal(actors.lookup('svc'), a);
  assert.equal(a.name, 'svc');
  assert.throws(() => actors.spawn({ receive: () => 'b' }, { name: 'svc' }), { code: 'ACTOR_NAME_TAKEN', message: /svc/ });
  await a.stop();
  assert.equal(actors.lookup('svc'), undefined);
  const b = actors.spawn({ receive: () => 'b' }, { name: 'svc' });
  assert.equal(await actors.lookup('svc')!.ask(null), 'b');
  assert.notEqual(a.id, b.id);
});

test('invalid spawn options are ACTOR_INVALID_OPTIONS', async (t) => {
  const { actors } = await startActors(t);
  assert.throws(() => actors.spawn({ receive: () => 1 }, { mailbox: { capacity: 0 } }), { code: 'ACTOR_INVALID_OPTIONS', message: /capacity/ });
  assert.throws(() => actors.spawn({ receive: () => 1 }, { mailbox: { overflow: 'nope' as never } }), { code: 'ACTOR_INVALID_OPTIONS' });
  assert.throws(() => actors.spawn({} as never), { code: 'ACTOR_INVALID_OPTIONS' });
});

test("overflow 'fail': tell throws ACTOR_MAILBOX_FULL, ask rejects with it, both are dead letters", async (t) => {
  const { actors } = await startActors(t);
  const g = gate();
  const seen: number[] = [];
  const ref = actors.spawn<number, void>({ receive: async (n) => void seen.push(n, await g.promise as never) }, { mailbox: { capacity: 2, overflow: 'fail' } });
  ref.tell(0); // taken into receive on the next microtask
  await Promise.resolve();
  ref.tell(1);
  ref.tell(2);
  assert.equal(ref.mailboxSize, 2);
  assert.throws(() => ref.tell(3), { code: 'ACTOR_MAILBOX_FULL', message: /capacity 2/ });
  await assert.rejects(ref.ask(4), { code: 'ACTOR_MAILBOX_FULL' });
  const letters = actors.stats().deadLetters;
  assert.equal(letters, 2);
  g.open();
  await settle();
  await ref.ask(5);
  assert.deepEqual(seen.filter((n) => typeof n === 'number'), [0, 1, 2, 5]);
});

test("overflow 'drop-newest' keeps the queue and dead-letters the new message; an ask dropped so fails at once", async (t) => {
  const { actors } = await startActors(t);
  const letters: DeadLetter[] = [];
  actors.deadLetters.subscribe((l) => letters.push(l));
  const g = gate();
  const seen: number[] = [];
  const ref = actors.spawn<number, void>({ receive: async (n) => { await g.promise; seen.push(n); } }, { mailbox: { capacity: 2, overflow: 'drop-newest' } });
  ref.tell(0);
  await Promise.resolve();
  ref.tell(1);
  ref.tell(2);
  ref.tell(3); // dropped, no throw
  await assert.rejects(ref.ask(4), { code: 'ACTOR_MAILBOX_FULL' });
  assert.deepEqual(letters.map((l) => [l.message, l.reason, l.recipient]), [
    [3, 'dropped-newest', ref.id],
    [4, 'dropped-newest', ref.id],
  ]);
  g.open();
  await settle();
  await settle();
  assert.deepEqual(seen, [0, 1, 2]);
});

test("overflow 'drop-oldest' evicts the head to dead letters and fails an evicted ask", async (t) => {
  const { actors } = await startActors(t);
  const letters: DeadLetter[] = [];
  actors.deadLetters.subscribe((l) => letters.push(l));
  const g = gate();
  const seen: unknown[] = [];
  const ref = actors.spawn<unknown, void>({ receive: async (n) => { await g.promise; seen.push(n); } }, { mailbox: { capacity: 2, overflow: 'drop-oldest' } });
  ref.tell(0);
  await Promise.resolve();
  const evicted = ref.ask('ask-1');
  ref.tell(2);
  ref.tell(3); // evicts 'ask-1'
  ref.tell(4); // evicts 2
  await assert.rejects(evicted, { code: 'ACTOR_MAILBOX_FULL' });
  assert.deepEqual(letters.map((l) => [l.message, l.reason]), [['ask-1', 'dropped-oldest'], [2, 'dropped-oldest']]);
  g.open();
  await settle();
  await settle();
  assert.deepEqual(seen, [0, 3, 4]);
  assert.equal(actors.deadLetters.count, 2);
});

test('a full mailbox never blocks stop (control lane)', async (t) => {
  const { actors } = await startActors(t);
  const g = gate();
  const ref = actors.spawn<number, void>({ receive: () => g.promise }, { mailbox: { capacity: 1 } });
  ref.tell(1);
  await Promise.resolve();
  ref.tell(2);
  assert.throws(() => ref.tell(3), { code: 'ACTOR_MAILBOX_FULL' });
  const stopping = ref.stop();
  g.open();
  await stopping;
  assert.equal(ref.alive, false);
});

test('ask: a real timeout is ACTOR_ASK_TIMEOUT and leaves no timer; the late reply is ignored', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { actors } = await startActors(t);
  const g = gate<string>();
  const ref = actors.spawn<string, string>({ receive: () => g.promise });
  const asked = ref.ask('slow', { timeoutMs: 50 });
  t.mock.timers.tick(49);
  let done = false;
  void asked.catch(() => (done = true));
  await Promise.resolve();
  assert.equal(done, false);
  t.mock.timers.tick(1);
  await assert.rejects(asked, { code: 'ACTOR_ASK_TIMEOUT', message: /50 ms/ });
  g.open('late');
  assert.equal(ref.alive, true);
});

test('ask with the system default askTimeoutMs times out; with none it creates no timer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { actors, kernel } = await startActors(t, { ...FAST_RESTART, askTimeoutMs: 20, shutdownDrainMs: 0 });
  const g = gate<string>();
  const ref = actors.spawn<string, string>({ receive: () => g.promise });
  const asked = ref.ask('x');
  t.mock.timers.tick(20);
  await assert.rejects(asked, { code: 'ACTOR_ASK_TIMEOUT' });
  g.open('done');
  t.mock.timers.reset();
  await kernel.stop();
});

test('ask: a crash rejects with the thrown error at once, not at the timeout', async (t) => {
  const { actors } = await startActors(t);
  const ref = actors.spawn<string, string>({
    receive(m) {
      if (m === 'boom') throw new Error('kaboom');
      return m;
    },
  });
  const began = Date.now();
  await assert.rejects(ref.ask('boom', { timeoutMs: 10_000 }), /kaboom/);
  assert.ok(Date.now() - began < 1000);
});

test('ask: stop rejects pending asks with ACTOR_STOPPED at once; asks to a stopped actor fail at once', async (t) => {
  const { actors } = await startActors(t);
  const g = gate();
  const ref = actors.spawn<string, string>({ receive: async (m) => (await g.promise, m) });
  const first = ref.ask('first', { timeoutMs: 60_000 });
  await Promise.resolve();
  const queued = ref.ask('queued', { timeoutMs: 60_000 });
  const stopping = ref.stop();
  await assert.rejects(ref.ask('after-stop'), { code: 'ACTOR_STOPPED' });
  assert.throws(() => ref.tell('after-stop'), { code: 'ACTOR_STOPPED' });
  g.open();
  assert.equal(await first, 'first', 'the message being handled completes');
  await assert.rejects(queued, { code: 'ACTOR_STOPPED' });
  await stopping;
  await assert.rejects(ref.ask('dead'), { code: 'ACTOR_STOPPED', message: /has stopped/ });
});

test('ask honours an AbortSignal', async (t) => {
  const { actors } = await startActors(t);
  const g = gate<string>();
  const ref = actors.spawn<string, string>({ receive: () => g.promise });
  const controller = new AbortController();
  const asked = ref.ask('x', { signal: controller.signal });
  controller.abort(new Error('caller gave up'));
  await assert.rejects(asked, /caller gave up/);
  await assert.rejects(ref.ask('y', { signal: AbortSignal.abort(new Error('already')) }), /already/);
  g.open('done');
});

test('a crash restarts the actor from init; the mailbox survives and later messages are delivered', async (t) => {
  const { actors } = await startActors(t);
  const inits: number[] = [];
  const seen: string[] = [];
  const ref = actors.spawn<string, number, { n: number }>({
    init(ctx) {
      inits.push(ctx.restartCount);
      return { n: 0 };
    },
    receive(m, ctx) {
      if (m === 'crash') throw new Error('crash on purpose');
      seen.push(m);
      ctx.state.n++;
      return ctx.state.n;
    },
  });
  ref.tell('a');
  ref.tell('b');
  ref.tell('crash');
  ref.tell('c');
  const reply = ref.ask('d');
  assert.equal(await reply, 2, 'fresh state after the restart: c and d only');
  assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
  assert.deepEqual(inits, [0, 1]);
  assert.equal(actors.stats().restarts, 1);
  assert.equal(ref.alive, true);
});

test("a 'temporary' actor that crashes is not restarted: watchers hear 'crashed', queued asks fail", async (t) => {
  const { actors } = await startActors(t);
  const ref = actors.spawn<string, string>(
    {
      receive(m) {
        if (m === 'crash') throw new Error('once');
        return m;
      },
    },
    { supervision: { restart: 'temporary' } },
  );
  const reasons: TerminationReason[] = [];
  actors.watch(ref, (r) => reasons.push(r));
  const crash = ref.ask('crash');
  const after = ref.ask('after');
  await assert.rejects(crash, /once/);
  await assert.rejects(after, { code: 'ACTOR_STOPPED' });
  await settle();
  assert.equal(ref.alive, false);
  assert.equal(reasons.length, 1);
  assert.equal(reasons[0]!.kind, 'crashed');
});

test('watch is notified once with the reason; watching a dead actor calls back on a later tick', async (t) => {
  const { actors } = await startActors(t);
  const ref = actors.spawn({ receive: () => undefined });
  const reasons: TerminationReason[] = [];
  const unwatch = actors.watch(ref, (r) => reasons.push(r));
  const other: TerminationReason[] = [];
  const off = actors.watch(ref, (r) => other.push(r));
  off();
  await ref.stop();
  await ref.stop();
  assert.deepEqual(reasons, [{ kind: 'stopped' }]);
  assert.deepEqual(other, []);
  unwatch();
  const late: TerminationReason[] = [];
  actors.watch(ref, (r) => late.push(r));
  assert.deepEqual(late, []);
  await Promise.resolve();
  assert.deepEqual(late, [{ kind: 'stopped' }]);
  assert.throws(() => actors.watch({ id: 'nope' } as never, () => {}), { code: 'ACTOR_NOT_FOUND' });
});

test('dead letters: telling a stopped actor is counted, subscribed, and ACTOR_STOPPED for the sender', async (t) => {
  const { actors, kernel } = await startActors(t);
  const letters: DeadLetter[] = [];
  const unsubscribe = actors.deadLetters.subscribe((l) => letters.push(l));
  actors.deadLetters.subscribe(() => {
    throw new Error('a bad listener does not hurt the sender');
  });
  const ref = actors.spawn({ receive: () => undefined });
  await ref.stop();
  assert.throws(() => ref.tell('lost?'), { code: 'ACTOR_STOPPED' });
  assert.equal(letters.length, 1);
  assert.equal(letters[0]!.reason, 'stopped');
  assert.equal(letters[0]!.message, 'lost?');
  assert.equal(actors.deadLetters.count, 1);
  unsubscribe();
  await settle();
  assert.equal(kernel.recordedMetrics.value('actor_dead_letters_total', { reason: 'stopped' }), 1);
});

test('stop during an async receive aborts ctx.signal and waits for the receive to finish', async (t) => {
  const { actors } = await startActors(t);
  let aborted = false;
  let finished = false;
  const started = gate();
  const ref = actors.spawn<string, void>({
    async receive(_m, ctx) {
      started.open();
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted = ctx.signal.aborted;
      await new Promise((r) => setImmediate(r));
      finished = true;
    },
  });
  ref.tell('work');
  await started.promise;
  await ref.stop();
  assert.equal(aborted, true);
  assert.equal(finished, true, 'stop resolved only after the receive in flight ended');
});

test('parent option: children run under the parent and stop with it', async (t) => {
  const { actors } = await startActors(t);
  const parent = actors.spawn({ receive: () => 'p' });
  const child = actors.spawn<string, string>({ receive: (m) => `child:${m}` }, { parent });
  assert.equal(await child.ask('x'), 'child:x');
  await parent.stop();
  assert.equal(child.alive, false);
  assert.throws(() => actors.spawn({ receive: () => 1 }, { parent }), { code: 'ACTOR_NOT_FOUND' });
});

test('a crashing child is restarted by its parent supervisor, the parent keeps running', async (t) => {
  const { actors } = await startActors(t);
  const parent = actors.spawn({ receive: () => 'p' });
  const child = actors.spawn<string, string>({ receive: (m) => { if (m === 'crash') throw new Error('child crash'); return m; } }, { parent });
  await assert.rejects(child.ask('crash'), /child crash/);
  assert.equal(await child.ask('ok'), 'ok');
  assert.equal(await parent.ask(null), 'p');
});

test('stats report actors, messages, depths, dead letters; metrics flow through the facade in batches', async (t) => {
  const { actors, kernel } = await startActors(t);
  const g = gate();
  const busy = actors.spawn<number, void>({ receive: () => g.promise });
  const quick = actors.spawn<number, number>({ receive: (n) => n });
  for (let i = 0; i < 5; i++) busy.tell(i);
  for (let i = 0; i < 10; i++) quick.tell(i);
  await quick.ask(99);
  const stats = actors.stats();
  assert.equal(stats.actors, 2);
  assert.equal(stats.mailboxDepths[busy.id], 4);
  assert.equal(stats.mailboxDepths[quick.id], 0);
  assert.equal(stats.queued, 4);
  assert.ok(stats.messages >= 12);
  assert.ok(stats.mailboxHighWater >= 4);
  const m = kernel.recordedMetrics;
  assert.equal(m.value('messages_sent_total'), 16);
  assert.equal(m.value('message_queue_depth'), 4);
  assert.ok(m.value('actor_mailbox_high_water') >= 4);
  assert.equal(m.value('actors_active'), 2);
  g.open();
});

test('hooks.beforeDeliver can change or reject messages; afterDeliver sees the reply; no taps = direct path', async (t) => {
  const { actors } = await startActors(t);
  const letters: DeadLetter[] = [];
  actors.deadLetters.subscribe((l) => letters.push(l));
  const ref = actors.spawn<string, string>({ receive: (m) => m.toUpperCase() });
  assert.equal(await ref.ask('plain'), 'PLAIN');
  const after: unknown[] = [];
  actors.hooks.beforeDeliver.tapPromise('test', async (env) => {
    if (env.message === 'forbidden') throw new Error('rejected by middleware');
    env.message = `${String(env.message)}!`;
    return env;
  });
  actors.hooks.afterDeliver.tapPromise('test', async (d) => void after.push(d.reply));
  assert.equal(await ref.ask('hi'), 'HI!');
  await assert.rejects(ref.ask('forbidden'), /rejected by middleware/);
  ref.tell('forbidden');
  assert.equal(await ref.ask('x'), 'X!');
  assert.deepEqual(after, ['HI!', 'X!']);
  assert.deepEqual(letters.map((l) => l.reason), ['rejected']);
  assert.equal(ref.alive, true, 'a rejected message does not crash the actor');
});

test('hooks.route can redirect a message to another actor', async (t) => {
  const { actors } = await startActors(t);
  const a = actors.spawn<string, string>({ receive: () => 'a' });
  const b = actors.spawn<string, string>({ receive: () => 'b' });
  actors.hooks.route.tap('test', (env) => (env.recipient === a && env.message === 'to-b' ? b : undefined));
  assert.equal(await a.ask('to-b'), 'b');
  assert.equal(await a.ask('stay'), 'a');
});

test('kernel stop drains mailboxes first', async (t) => {
  const { actors, kernel } = await startActors(t);
  const seen: number[] = [];
  const ref = actors.spawn<number, void>({ receive: async (n) => { await new Promise((r) => setImmediate(r)); seen.push(n); } });
  for (let i = 0; i < 20; i++) ref.tell(i);
  await kernel.stop();
  assert.equal(seen.length, 20);
  assert.equal(actors.deadLetters.count, 0);
  assert.equal(ref.alive, false);
  assert.throws(() => actors.spawn({ receive: () => 1 }), { code: 'ACTOR_SYSTEM_STOPPED' });
});

test("kernel stop past the drain deadline sends what is left to dead letters ('shutdown') and fails asks", async (t) => {
  const { actors, kernel } = await startActors(t, { ...FAST_RESTART, shutdownDrainMs: 50 });
  const letters: DeadLetter[] = [];
  actors.deadLetters.subscribe((l) => letters.push(l));
  const ref = actors.spawn<number, void>({ receive: () => new Promise<void>(() => {}) }, { supervision: { restart: 'temporary' } });
  const reasons: TerminationReason[] = [];
  actors.watch(ref, (r) => reasons.push(r));
  ref.tell(0);
  await Promise.resolve();
  ref.tell(1);
  const pending = ref.ask(2);
  const report = await kernel.stop();
  assert.deepEqual(report.errors, []);
  await assert.rejects(pending, { code: 'ACTOR_STOPPED' });
  assert.deepEqual(letters.map((l) => [l.message, l.reason]), [[1, 'shutdown'], [2, 'shutdown']]);
  assert.deepEqual(reasons, [{ kind: 'killed' }]);
});

test('when the actors root supervisor gives up, its actors terminate (asks fail, nothing hangs) and the kernel hears the fault', async (t) => {
  const { actors, kernel } = await startActors(t, { supervision: { intensity: 2, periodMs: 60_000, shutdownMs: 20, backoff: { initialMs: 0, jitter: 0 } } });
  const g = gate<string>();
  const bystander = actors.spawn<string, string>({ receive: () => g.promise });
  const outcome = bystander.ask('waiting').then(() => 'replied', (e: { code?: string }) => e.code);
  const crasher = actors.spawn<string, string>({ receive: () => { throw new Error('always'); } });
  const results = await Promise.allSettled([crasher.ask('1'), crasher.ask('2'), crasher.ask('3'), crasher.ask('4')]);
  assert.ok(results.every((r) => r.status === 'rejected'));
  assert.equal(await outcome, 'ACTOR_STOPPED', 'the in-flight ask fails once the supervisor stops waiting');
  g.open('late');
  await settle();
  assert.equal(crasher.alive, false);
  assert.equal(bystander.alive, false);
  // At the root, an exceeded intensity is a kernel fault; the supervision plugin's policy stops the kernel.
  assert.notEqual(kernel.state, 'running');
  assert.equal(kernel.exitCode, 1);
});

test('health: with the health plugin loaded, the actors check spawns a probe and asks it', async (t) => {
  const checks = new Map<string, { check: (signal: AbortSignal) => unknown; options: unknown }>();
  const health = definePlugin({
    name: 'health',
    version: '0.0.0',
    setup(ctx) {
      ctx.provide('health', {
        register(name: string, check: (signal: AbortSignal) => unknown, options: unknown) {
          checks.set(name, { check, options });
          return () => void checks.delete(name);
        },
      } as unknown as HealthService);
    },
  });
  const { actors } = await startActors(t, FAST_RESTART, [health]);
  const entry = checks.get('actors');
  assert.ok(entry, 'registered');
  assert.deepEqual(entry.options, { timeoutMs: 2000 });
  const result = (await entry.check(new AbortController().signal)) as { status: string; details: Record<string, unknown> };
  assert.equal(result.status, 'healthy');
  assert.equal(typeof result.details.roundTripMs, 'number');
  await settle();
  assert.equal(actors.stats().actors, 0, 'the probe is stopped after the check');
});

test('events: with the events plugin loaded, crashes and restarts are published', async (t) => {
  const published: Array<{ type: string; subject?: string }> = [];
  const events = definePlugin({
    name: 'events',
    version: '0.0.0',
    setup(ctx) {
      // A recorder standing in for the bus: only publish is used.
      ctx.provide('events', { publish: async (e: { type: string; subject?: string }) => (published.push(e), e), subscribe: () => ({ unsubscribe: async () => {} }) } as unknown as EventBus);
    },
  });
  const { actors } = await startActors(t, FAST_RESTART, [events]);
  const ref = actors.spawn<string, string>({ receive: (m) => { if (m === 'crash') throw new Error('x'); return m; } });
  await assert.rejects(ref.ask('crash'));
  assert.equal(await ref.ask('ok'), 'ok');
  assert.deepEqual(published.filter((e) => e.subject === ref.id).map((e) => e.type), ['actor.crashed', 'actor.restarted']);
});

test('ordering under concurrency: 100 async actors x 200 messages from interleaved senders keep per-actor order', async (t) => {
  const { actors } = await startActors(t);
  const logs = new Map<string, number[]>();
  const behavior = {
    async receive(n: number, ctx: { self: { id: string } }) {
      if (n % 7 === 0) await new Promise((r) => setImmediate(r));
      let log = logs.get(ctx.self.id);
      if (log === undefined) logs.set(ctx.self.id, (log = []));
      log.push(n);
      return n;
    },
  };
  const refs = Array.from({ length: 100 }, () => actors.spawn<number, number>(behavior));
  await Promise.all(
    [0, 1].map(async (half) => {
      for (let n = half; n < 200; n += 2) {
        for (const ref of refs) ref.tell(n);
        await Promise.resolve();
      }
    }),
  );
  await Promise.all(refs.map((ref) => ref.ask(200)));
  for (const ref of refs) {
    const log = logs.get(ref.id)!;
    assert.equal(log.length, 201);
    // Each sender's own messages stay in order; all messages arrive exactly once.
    assert.deepEqual(log.filter((n) => n % 2 === 0 && n < 200), Array.from({ length: 100 }, (_, i) => i * 2));
    assert.deepEqual(log.filter((n) => n % 2 === 1), Array.from({ length: 100 }, (_, i) => i * 2 + 1));
  }
});

test('typed refs: any ActorRef<M, R> is an AnyActorRef (no any in the public signatures)', async (t) => {
  const { actors } = await startActors(t);
  const typed: ActorRef<{ kind: 'add'; n: number }, number> = actors.spawn<{ kind: 'add'; n: number }, number, number>({
    init: () => 0,
    receive: (m, ctx) => (ctx.state += m.n),
  });
  const any: AnyActorRef = typed;
  const stops: TerminationReason[] = [];
  actors.watch(any, (r) => stops.push(r));
  assert.equal(await typed.ask({ kind: 'add', n: 2 }), 2);
  await any.stop();
  assert.deepEqual(stops, [{ kind: 'stopped' }]);
});

test('health (real plugin): the actors check runs healthy through the health service', async (t) => {
  const { kernel } = await startActors(t, FAST_RESTART, ['health']);
  const state = await kernel.resolve('health').run('actors');
  assert.equal(state.status, 'healthy');
  assert.equal(state.timeoutMs, 2000);
});

test('a receive that throws while its actor is being stopped does not get the actor restarted', async (t) => {
  const { actors, kernel } = await startActors(t);
  const started = gate();
  const fail = gate();
  let inits = 0;
  const ref = actors.spawn<string, void>({
    init: () => void inits++,
    async receive() {
      started.open();
      await fail.promise;
      throw new Error('failed while stopping');
    },
  });
  const reasons: TerminationReason[] = [];
  actors.watch(ref, (r) => reasons.push(r));
  const asked = ref.ask('work');
  await started.promise;
  const stopping = ref.stop();
  fail.open();
  await assert.rejects(asked, /failed while stopping/);
  await stopping;
  await settle();
  await settle();
  assert.equal(inits, 1, 'not restarted');
  assert.equal(reasons.length, 1);
  assert.equal(reasons[0]!.kind, 'crashed');
  assert.equal(kernel.state, 'running');
  assert.equal(actors.stats().actors, 0);
  const root = kernel.resolve('supervision').roots().find((s) => s.id === 'actors')!;
  assert.deepEqual(root.whichChildren().filter((c) => c.id === ref.id), [], 'the supervisor forgot the child');
  assert.equal(kernel.recordedMetrics.value('supervisor_restarts_total', { child: ref.id }), 0, 'no restart was attempted');
});

test('stopping an actor that waits for its restart cancels the restart and fails its queued asks', async (t) => {
  const { actors, kernel } = await startActors(t);
  const ref = actors.spawn<string, string>(
    { receive: (m) => { if (m === 'crash') throw new Error('down'); return m; } },
    { supervision: { backoff: { initialMs: 60_000, jitter: 0 } } },
  );
  await assert.rejects(ref.ask('crash'), /down/);
  const queued = ref.ask('waiting for the restart');
  assert.equal(ref.alive, true, 'between incarnations the actor is alive and takes messages');
  const began = Date.now();
  await ref.stop();
  assert.ok(Date.now() - began < 1000, 'stop did not wait for the backoff');
  await assert.rejects(queued, { code: 'ACTOR_STOPPED' });
  const root = kernel.resolve('supervision').roots().find((s) => s.id === 'actors')!;
  assert.deepEqual(root.whichChildren().filter((c) => c.id === ref.id), []);
});
