import assert from 'node:assert/strict';
import { test } from 'node:test';
import actorsPlugin from '../../../plugins/actors/index.js';
import type { ActorSystem } from '../../../plugins/actors/types.js';
import { checkPluginConformance } from '../../../testing/index.js';

const N = 100_000;

test('actors passes the plugin conformance check (defaults validate, clean stop, no handles left)', async () => {
  await checkPluginConformance(actorsPlugin, { with: ['supervision'] });
});

test('100,000 actors spawn, answer, and stop with no leaked handles', async () => {
  await checkPluginConformance(actorsPlugin, {
    with: ['supervision'],
    shutdownTimeoutMs: 20_000,
    async exercise(kernel) {
      const actors = kernel.resolve<ActorSystem>('actors');
      const refs = [];
      for (let i = 0; i < N; i++) refs.push(actors.spawn<number, number>({ receive: (n) => n + 1 }));
      assert.equal(actors.stats().actors, N);
      for (const ref of refs) ref.tell(1);
      assert.equal(await refs[N - 1]!.ask(41), 42);
      assert.equal(await refs[0]!.ask(1), 2);
      await Promise.all(refs.slice(0, N / 2).map((ref) => ref.stop()));
      assert.equal(actors.stats().actors, N / 2);
      // The other half is stopped by the kernel's graceful shutdown.
    },
  });
});

test('a kernel with actors but without the routing plugin works (routing is optional)', async () => {
  await checkPluginConformance(actorsPlugin, {
    with: ['supervision'],
    async exercise(kernel) {
      assert.equal(kernel.tryResolve('routing'), undefined);
      const actors = kernel.resolve<ActorSystem>('actors');
      const ref = actors.spawn<string, string>({ receive: (m) => m });
      assert.equal(await ref.ask('ok'), 'ok');
    },
  });
});
