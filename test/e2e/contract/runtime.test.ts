/**
 * Supervision, actors and routing used together through their public services, as a system would.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ActorError, MisterSmithError } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import type { ChildHandle, ChildSpec } from '../../../plugins/supervision/types.js';
import { rejectsWithCode, fillUntilFull } from './helpers.js';

describe('§4 supervision', () => {
  test('supervision.start(spec) with ChildSpecs; start(ctx) gets { id, restartCount, signal, heartbeat }; Supervisor API', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision'], test: t });
    const supervision = kernel.resolve('supervision');
    const starts: Array<{ id: string; restartCount: number }> = [];
    const stopOrder: string[] = [];
    const crashers = new Map<string, (error: Error) => void>();
    const child = (id: string, extra: Partial<ChildSpec> = {}): ChildSpec => ({
      id,
      restart: 'permanent',
      shutdown: 1000,
      type: 'worker',
      backoff: { initialMs: 1, factor: 2, maxMs: 10, jitter: 0.1 },
      start(ctx): ChildHandle {
        assert.equal(ctx.id, id);
        assert.ok(ctx.signal instanceof AbortSignal);
        assert.equal(typeof ctx.heartbeat, 'function');
        starts.push({ id: ctx.id, restartCount: ctx.restartCount });
        let end!: () => void;
        let fail!: (error: Error) => void;
        const exited = new Promise<unknown>((resolve, reject) => {
          end = () => resolve(undefined);
          fail = reject;
        });
        crashers.set(id, fail);
        return {
          exited,
          async stop() {
            stopOrder.push(id);
            end();
          },
        };
      },
      ...extra,
    });
    const sup = await supervision.start({ id: 'root', strategy: 'one-for-one', intensity: 5, periodMs: 60_000, children: [child('a'), child('b')] });
    for (const m of ['startChild', 'terminateChild', 'restartChild', 'deleteChild', 'whichChildren', 'countChildren', 'stop'] as const) {
      assert.equal(typeof sup[m], 'function', m);
    }
    assert.deepEqual(sup.whichChildren().map((c) => c.id), ['a', 'b']);
    await sup.startChild(child('c', { restart: 'transient' }));
    assert.equal(sup.countChildren().active, 3);

    // A crash (exited rejects) restarts the child with restartCount 1 (one-for-one: only it).
    crashers.get('a')!(new Error('crash'));
    for (let i = 0; i < 200 && !starts.some((s) => s.id === 'a' && s.restartCount === 1); i++) await delay(5);
    assert.ok(starts.some((s) => s.id === 'a' && s.restartCount === 1), JSON.stringify(starts));
    assert.equal(starts.filter((s) => s.id === 'b').length, 1);
    assert.equal(sup.whichChildren().find((c) => c.id === 'a')?.restartCount, 1, 'restarts are counted per child');

    await sup.terminateChild('c');
    await sup.deleteChild('c');
    assert.deepEqual(sup.whichChildren().map((c) => c.id), ['a', 'b']);
    await sup.restartChild('b');
    assert.equal(starts.filter((s) => s.id === 'b').length, 2);
    stopOrder.length = 0;
    await sup.stop();
    assert.deepEqual(stopOrder, ['b', 'a'], 'children stop in reverse start order');
  });

  test("strategies 'one-for-all' and 'rest-for-one'; shutdown ms → ctx.signal aborted when the supervisor gives up waiting", async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision'], test: t });
    const supervision = kernel.resolve('supervision');
    const run = async (strategy: 'one-for-all' | 'rest-for-one'): Promise<Record<string, number>> => {
      const starts: Record<string, number> = {};
      const crash = new Map<string, (e: Error) => void>();
      const child = (id: string): ChildSpec => ({
        id,
        restart: 'permanent',
        shutdown: 1000,
        type: 'worker',
        backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
        start() {
          starts[id] = (starts[id] ?? 0) + 1;
          let end!: () => void;
          const exited = new Promise<unknown>((resolve, reject) => {
            end = () => resolve(undefined);
            crash.set(id, reject);
          });
          return { exited, stop: async () => end() };
        },
      });
      const sup = await supervision.start({ id: `s-${strategy}`, strategy, children: [child('a'), child('b'), child('c')] });
      crash.get('b')!(new Error('b crashed'));
      const expected = strategy === 'one-for-all' ? { a: 2, b: 2, c: 2 } : { a: 1, b: 2, c: 2 };
      for (let i = 0; i < 400 && JSON.stringify(starts) !== JSON.stringify(expected); i++) await delay(5);
      await sup.stop();
      return starts;
    };
    assert.deepEqual(await run('one-for-all'), { a: 2, b: 2, c: 2 });
    assert.deepEqual(await run('rest-for-one'), { a: 1, b: 2, c: 2 });

    let signal: AbortSignal | undefined;
    const sup = await supervision.start({
      id: 'stubborn',
      children: [
        {
          id: 'ignores-stop',
          restart: 'permanent',
          shutdown: 50,
          type: 'worker',
          start(ctx) {
            signal = ctx.signal;
            return {
              exited: new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(undefined))),
              stop: () => new Promise<void>(() => {}),
            };
          },
        },
      ],
    });
    const began = Date.now();
    await sup.terminateChild('ignores-stop');
    assert.ok(Date.now() - began < 2_000);
    assert.equal(signal?.aborted, true);
    await sup.stop();
  });

  test('a heartbeat-based child that falls silent is marked failed (phi-accrual) and restarted', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'supervision', options: { failureDetector: { checkIntervalMs: 5 } } }], test: t });
    const incarnations: AbortSignal[] = [];
    const sup = await kernel.resolve('supervision').start({
      id: 'beats',
      children: [
        {
          id: 'heart',
          restart: 'permanent',
          shutdown: 100,
          type: 'worker',
          backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
          start(ctx) {
            incarnations.push(ctx.signal);
            if (incarnations.length === 1) {
              // beat a few times, then fall silent
              let n = 0;
              const timer = setInterval(() => (++n > 5 ? clearInterval(timer) : ctx.heartbeat()), 5);
              ctx.signal.addEventListener('abort', () => clearInterval(timer));
            }
            let end!: () => void;
            const exited = new Promise<unknown>((resolve) => {
              end = () => resolve(undefined);
              ctx.signal.addEventListener('abort', () => resolve(undefined));
            });
            return { exited, stop: async () => end() };
          },
        },
      ],
    });
    for (let i = 0; i < 400 && incarnations.length < 2; i++) await delay(5);
    assert.ok(incarnations.length >= 2, 'restarted after falling silent');
    assert.equal(incarnations[0]!.aborted, true);
    assert.equal((incarnations[0]!.reason as MisterSmithError).code, 'SUPERVISION_HEARTBEAT_TIMEOUT');
    await sup.stop();
  });

  test('exceeding intensity stops the supervisor and, at the root, becomes a kernel fault', async (t) => {
    // recovery.supervision 'ignore': the default ('escalate' → stop at the root) would stop this kernel.
    const kernel = await createTestKernel({ plugins: [{ use: 'supervision', options: { recovery: { supervision: 'ignore' } } }], test: t });
    const faults: string[] = [];
    kernel.hooks.fault.tapPromise({ name: 'observer', stage: -1 }, async (fault) => {
      faults.push(fault.source);
      return undefined;
    });
    const sup = await kernel.resolve('supervision').start({
      id: 'fragile',
      strategy: 'one-for-one',
      intensity: 2,
      periodMs: 60_000,
      children: [
        {
          id: 'crasher',
          restart: 'permanent',
          shutdown: 'brutal',
          type: 'worker',
          backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
          start: () => ({ exited: Promise.reject(new Error('always')), stop: async () => {} }),
        },
      ],
    });
    await Promise.race([sup.stopped, delay(5000).then(() => assert.fail('the supervisor did not give up'))]);
    for (let i = 0; i < 100 && faults.length === 0; i++) await delay(5);
    assert.ok(faults.includes('supervisor:fragile'), `a kernel fault was reported: ${faults.join(', ')}`);
    assert.equal(kernel.state, 'running');
  });
});

describe('§4 actors', () => {
  test('spawn(behavior, opts): init → ctx.state, ctx.self, ctx.signal, tell/ask/stop, in order', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    let stoppedCalled = false;
    let selfOk = false;
    let signal: AbortSignal | undefined;
    const ref = actors.spawn<{ add: number } | 'get', number, number>(
      {
        init: () => 0,
        receive(msg, ctx) {
          selfOk = ctx.self === ref || ctx.self.id === ref.id;
          signal = ctx.signal;
          if (msg === 'get') return ctx.state;
          ctx.state = ctx.state + msg.add; // assign to replace
          return ctx.state;
        },
        stopped: () => void (stoppedCalled = true),
      },
      { name: 'counter', mailbox: { capacity: 100, overflow: 'fail' } },
    );
    for (let i = 1; i <= 10; i++) ref.tell({ add: i });
    assert.equal(await ref.ask('get', { timeoutMs: 1000 }), 55);
    assert.ok(selfOk);
    assert.equal(actors.lookup('counter')?.id, ref.id);
    assert.equal(signal?.aborted, false);
    await ref.stop();
    assert.ok(stoppedCalled);
    assert.equal(signal?.aborted, true, 'ctx.signal aborts when the actor stops');
    assert.equal(actors.lookup('counter'), undefined);
  });

  test('a throw in receive rejects the ask and crashes the actor; names are unique', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    let incarnations = 0;
    const ref = actors.spawn<string, string>(
      {
        init: () => void incarnations++,
        receive: (m) => {
          if (m === 'bad') throw new Error('bad message');
          return m;
        },
      },
      { name: 'fragile', supervision: { restart: 'permanent', backoff: { initialMs: 1, maxMs: 5 } } },
    );
    await assert.rejects(ref.ask('bad', { timeoutMs: 1000 }), /bad message/);
    for (let i = 0; i < 200 && incarnations < 2; i++) await delay(5);
    assert.equal(incarnations, 2, 'the actor crashed and was restarted by its supervisor');
    assert.throws(() => actors.spawn({ receive: () => 0 }, { name: 'fragile' }));
  });

  test('bounded mailbox: overflow fail → ACTOR_MAILBOX_FULL; drop-newest / drop-oldest → deadLetters', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const letters: string[] = [];
    const unsubscribe = actors.deadLetters.subscribe((l) => letters.push(l.reason));
    const full = actors.spawn<unknown, unknown>({ receive: () => gate }, { mailbox: { capacity: 2, overflow: 'fail' } });
    const { accepted, error } = fillUntilFull(full, 10);
    assert.ok(accepted >= 2 && accepted <= 3);
    assert.ok(error instanceof ActorError);
    assert.equal((error as ActorError).code, 'ACTOR_MAILBOX_FULL');
    const newest = actors.spawn<unknown, unknown>({ receive: () => gate }, { mailbox: { capacity: 1, overflow: 'drop-newest' } });
    const oldest = actors.spawn<unknown, unknown>({ receive: () => gate }, { mailbox: { capacity: 1, overflow: 'drop-oldest' } });
    for (let i = 0; i < 5; i++) {
      newest.tell(i);
      oldest.tell(i);
    }
    // Stop uses a control lane that a full mailbox cannot block.
    const stopping = full.stop();
    release();
    await stopping;
    assert.equal(full.alive, false);
    assert.ok(letters.length >= 6, `dead letters: ${letters.join(',')}`);
    assert.ok(actors.deadLetters.count >= 6);
    unsubscribe();
  });

  test('watch(ref, cb) tells termination; an ask to an actor that dies fails at once; telling a stopped actor dead-letters', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    const ref = actors.spawn<string, string>(
      { receive: (_m, ctx) => new Promise<string>((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))) },
      { supervision: { restart: 'temporary' } },
    );
    const reasons: string[] = [];
    actors.watch(ref, (reason) => reasons.push(reason.kind));
    const pending = ref.ask('wait', { timeoutMs: 60_000 });
    const began = Date.now();
    await delay(5);
    void ref.stop();
    await assert.rejects(pending);
    assert.ok(Date.now() - began < 5_000, 'failed at once, not at its timeout');
    for (let i = 0; i < 100 && reasons.length === 0; i++) await delay(5);
    assert.equal(reasons.length, 1);
    const before = actors.deadLetters.count;
    try {
      ref.tell('late');
    } catch (error) {
      assert.equal((error as MisterSmithError).code, 'ACTOR_STOPPED');
    }
    assert.ok(actors.deadLetters.count > before, 'nothing is lost silently');
  });

  test('ask timeout rejects with a typed error', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const ref = kernel.resolve('actors').spawn<string, string>({ receive: (_m, ctx) => delay(10_000, 'late', { signal: ctx.signal }).catch(() => 'aborted') });
    const error = await rejectsWithCode(ref.ask('x', { timeoutMs: 20 }), 'ACTOR_ASK_TIMEOUT');
    assert.ok(error instanceof ActorError);
  });

  test('parent: a child actor stops with its parent', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    const parent = actors.spawn({ receive: () => 'p' });
    const child = actors.spawn({ receive: () => 'c' }, { parent });
    assert.equal(await child.ask(undefined as never), 'c');
    await parent.stop();
    for (let i = 0; i < 100 && child.alive; i++) await delay(5);
    assert.equal(child.alive, false);
  });
});

describe('§4 routing', () => {
  test('routers: round-robin, least-loaded, consistent-hash, broadcast', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors', 'routing'], test: t });
    const routing = kernel.resolve('routing');
    const actors = kernel.resolve('actors');
    const seen: string[] = [];
    const routees = ['r0', 'r1', 'r2'].map((id) => actors.spawn<string, string>({ receive: (m) => (seen.push(`${id}:${m}`), id) }));
    const rr = routing.pool(routees, { strategy: 'round-robin' });
    const replies = [await rr.ask('a'), await rr.ask('b'), await rr.ask('c')];
    assert.deepEqual([...replies].sort(), ['r0', 'r1', 'r2']);
    const hashed = routing.pool(routees, { strategy: 'consistent-hash', key: (m: string) => m });
    const first = await hashed.ask('same-key');
    for (let i = 0; i < 5; i++) assert.equal(await hashed.ask('same-key'), first);
    const least = routing.pool<string, string>({ receive: () => 'ok' }, { strategy: 'least-loaded', size: 2 });
    assert.equal(least.routees.length, 2);
    assert.equal(await least.ask('x'), 'ok');
    seen.length = 0;
    const all = routing.pool(routees, { strategy: 'broadcast' });
    all.tell('hi');
    for (let i = 0; i < 100 && seen.length < 3; i++) await delay(5);
    assert.deepEqual(seen.sort(), ['r0:hi', 'r1:hi', 'r2:hi']);
  });
});
