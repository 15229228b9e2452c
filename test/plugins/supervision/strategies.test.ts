import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RestartType, Strategy } from '../../../plugins/supervision/index.js';
import { kernelWithSupervision, until, worker } from './helpers.js';

const strategies: Strategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];
const restarts: RestartType[] = ['permanent', 'transient', 'temporary'];
const events = ['normal exit', 'crash', 'start failure'] as const;

for (const strategy of strategies) {
  for (const restart of restarts) {
    for (const event of events) {
      test(`${strategy} / ${restart} child / ${event}`, async (t) => {
        const { supervision } = await kernelWithSupervision(t);
        const a = worker('a');
        // 'start failure': the child crashes and its first restart throws, which is a new failure.
        const b = worker('b', { restart, failStart: event === 'start failure' ? (n) => n === 1 : undefined });
        const c = worker('c');
        const sup = await supervision.start({ id: 'sup', strategy, intensity: 10, children: [a.spec, b.spec, c.spec] });

        if (event === 'normal exit') b.current.exit();
        else b.current.crash();

        const restarted = restart === 'permanent' || (restart === 'transient' && event !== 'normal exit');
        if (restarted) {
          await until(() => sup.whichChildren().every((ch) => ch.state === 'running') && b.incarnations.length >= 2, 'restart');
          const info = Object.fromEntries(sup.whichChildren().map((ch) => [ch.id, ch]));
          assert.equal(info.b!.restartCount, event === 'start failure' ? 2 : 1, 'b restart count');
          assert.equal(b.current.ctx.restartCount, info.b!.restartCount, 'ctx.restartCount is the restart count');
          assert.equal(info.a!.restartCount > 0, strategy === 'one-for-all', 'older sibling restarted only by one-for-all');
          assert.equal(info.c!.restartCount > 0, strategy !== 'one-for-one', 'younger sibling restarted by one-for-all and rest-for-one');
          // Siblings restarted by the strategy were asked to stop first, and their old incarnation ended.
          if (strategy !== 'one-for-one') {
            assert.equal(c.incarnations[0]!.stopCalls, 1);
            assert.equal(c.incarnations.length, 2);
          } else {
            assert.equal(c.incarnations.length, 1);
            assert.equal(a.incarnations.length, 1);
          }
        } else {
          await until(() => {
            const ch = sup.whichChildren().find((x) => x.id === 'b');
            return restart === 'temporary' ? ch === undefined : ch?.state === 'stopped' || ch?.state === 'failed';
          }, 'b down');
          await new Promise((r) => setImmediate(r));
          assert.equal(b.incarnations.length, 1, 'not restarted');
          assert.equal(a.incarnations.length, 1, 'a untouched');
          assert.equal(c.incarnations.length, 1, 'c untouched');
          const ids = sup.whichChildren().map((ch) => ch.id);
          assert.deepEqual(ids, restart === 'temporary' ? ['a', 'c'] : ['a', 'b', 'c']);
          if (restart === 'transient') assert.equal(sup.whichChildren()[1]!.state, 'stopped');
        }
        assert.equal(sup.state, 'running');
        await sup.stop();
        assert.equal(sup.state, 'stopped');
      });
    }
  }
}

test('one-for-all restarts the whole group: youngest stopped first, then started oldest first', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const log: string[] = [];
  const a = worker('a', { log });
  const b = worker('b', { log });
  const c = worker('c', { log });
  const sup = await supervision.start({ id: 'all', strategy: 'one-for-all', children: [a.spec, b.spec, c.spec] });
  log.length = 0;
  b.current.crash();
  await until(() => c.incarnations.length === 2, 'group restart');
  assert.deepEqual(log, ['stop:c', 'stop:a', 'start:a', 'start:b', 'start:c']);
  await sup.stop();
});

test('rest-for-one restarts the failed child and its younger siblings only, in start order', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const log: string[] = [];
  const ws = ['a', 'b', 'c', 'd'].map((id) => worker(id, { log }));
  const sup = await supervision.start({ id: 'rest', strategy: 'rest-for-one', children: ws.map((w) => w.spec) });
  log.length = 0;
  ws[1]!.current.crash();
  await until(() => ws[3]!.incarnations.length === 2, 'rest restart');
  assert.deepEqual(log, ['stop:d', 'stop:c', 'start:b', 'start:c', 'start:d']);
  assert.equal(ws[0]!.incarnations.length, 1);
  await sup.stop();
});

test('a supervisor whose initial children cannot start fails its start and stops the ones it started', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  const log: string[] = [];
  const a = worker('a', { log });
  const b = worker('b', { log });
  const bad = worker('bad', { failStart: () => true });
  await assert.rejects(supervision.start({ id: 'x', children: [a.spec, b.spec, bad.spec] }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'SUPERVISION_START_FAILED');
    assert.match(error.message, /'bad'/);
    return true;
  });
  assert.deepEqual(log, ['start:a', 'start:b', 'stop:b', 'stop:a']);
  assert.deepEqual(supervision.roots(), []);
});

test('an initial child whose async start exceeds startTimeoutMs fails the supervisor start', async (t) => {
  const { supervision } = await kernelWithSupervision(t);
  let aborted = false;
  const slow = {
    id: 'slow',
    startTimeoutMs: 20,
    start: (ctx: { signal: AbortSignal }) =>
      new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted'))))),
  };
  await assert.rejects(supervision.start({ id: 'slowtree', children: [slow] }), (error: Error & { code?: string; cause?: { code?: string } }) => {
    assert.equal(error.code, 'SUPERVISION_START_FAILED');
    assert.equal(error.cause?.code, 'SUPERVISION_START_TIMEOUT');
    return true;
  });
  assert.equal(aborted, true, 'the abandoned start saw its signal abort');
});
