import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin, z } from '../../sdk/index.js';
import { createTestKernel, checkPluginConformance } from '../../testing/index.js';

test('a plugin provides a service, starts and stops in order', async (t) => {
  const events: string[] = [];
  const a = definePlugin({
    name: 'a', version: '1.0.0',
    options: z.object({ greeting: z.string().default('hi') }),
    setup(ctx) {
      ctx.provide('greeting', ctx.options.greeting);
      ctx.onStart(() => void events.push('a:start'));
      ctx.onStop(() => void events.push('a:stop'));
    },
  });
  const b = definePlugin({
    name: 'b', version: '1.0.0', dependsOn: ['a'],
    setup(ctx) {
      const g = ctx.resolve<string>('greeting');
      ctx.onStart(() => void events.push(`b:start:${g}`));
      ctx.onStop(() => void events.push('b:stop'));
    },
  });
  const kernel = await createTestKernel({ plugins: [b, a], test: t });
  assert.equal(kernel.state, 'running');
  await kernel.stop();
  assert.deepEqual(events, ['a:start', 'b:start:hi', 'b:stop', 'a:stop']);
  assert.equal(kernel.state, 'stopped');
});

test('conformance passes for a clean plugin', async () => {
  const p = definePlugin({ name: 'clean', version: '1.0.0', setup(ctx) { const t = setInterval(() => {}, 1000); ctx.onStop(() => clearInterval(t)); } });
  await checkPluginConformance(p);
});
