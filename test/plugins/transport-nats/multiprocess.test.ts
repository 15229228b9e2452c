import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeProcess } from './nodeProcess.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { until } from './helpers.js';

const opts = skipWithoutNats();

function plugins(url: string, nats: Record<string, unknown> = {}): unknown[] {
  return [
    'supervision',
    'actors',
    'events',
    'tools',
    { use: 'transport-nats', options: { servers: url, system: 'mp', discoveryStallMs: 150, bridge: ['shared.>'], ...nats } },
  ];
}

test('three kernels in three processes exchange events, asks and tool calls', opts, async (t) => {
  const server = await startNats(t);
  const [a, b, c] = await Promise.all([
    NodeProcess.start(t, 'a', plugins(server.url)),
    NodeProcess.start(t, 'b', plugins(server.url)),
    NodeProcess.start(t, 'c', plugins(server.url)),
  ]);

  // Events: each node publishes one shared event and one private one.
  for (const n of [a, b, c]) {
    await n.call('publish', { type: 'shared.hello', data: n.name });
    await n.call('publish', { type: 'local.only', data: n.name });
  }
  type Seen = Array<{ type: string; source: string }>;
  await until(async () => (await Promise.all([a, b, c].map((n) => n.call<Seen>('seen')))).every((s) => s.filter((e) => e.type === 'shared.hello').length === 3), 'every shared event on every node');
  for (const n of [a, b, c]) {
    const seen = await n.call<Seen>('seen');
    assert.deepEqual(seen.filter((e) => e.type === 'shared.hello').map((e) => e.source).sort(), ['a', 'b', 'c'], `${n.name} got each shared event once`);
    assert.deepEqual(seen.filter((e) => e.type === 'local.only').map((e) => e.source), [n.name], `${n.name} kept its private event to itself`);
  }

  // Asks: an actor exposed on b, asked from a and c.
  await b.call('spawn', { name: 'greeter' });
  assert.deepEqual(await a.call('ask', { name: 'greeter', message: 'from a' }), { node: 'b', echo: 'from a' });
  assert.deepEqual(await c.call('ask', { name: 'greeter', message: { n: 1 } }), { node: 'b', echo: { n: 1 } });
  await assert.rejects(a.call('ask', { name: 'nobody', message: 1 }), { code: 'ACTOR_REMOTE_UNREACHABLE' });

  // Tool calls: c owns 'geo.lookup' (granted to alice only), a imports and calls it.
  await c.call('register', { name: 'geo.lookup', grants: { alice: ['geo.*'] } });
  await c.call('expose', { patterns: ['geo.*'] });
  assert.deepEqual(await a.call('import', { patterns: ['geo.*'] }), ['geo.lookup']);
  await a.call('grant', { agent: 'alice', patterns: ['geo.*'] });
  await a.call('grant', { agent: 'eve', patterns: ['geo.*'] });
  assert.deepEqual(await a.call('call', { agent: 'alice', name: 'geo.lookup', input: { n: 7 } }), { node: 'c', n: 7, agent: 'alice' });
  await assert.rejects(a.call('call', { agent: 'eve', name: 'geo.lookup', input: { n: 7 } }), { code: 'TOOL_ACCESS_DENIED' });

  await Promise.all([a, b, c].map((n) => n.call('stop')));
  assert.deepEqual(await Promise.all([a.exited, b.exited, c.exited]), [0, 0, 0]);
});
