import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventBus, StoredEvent } from '../../../plugins/events/types.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { natsKernel, until } from './helpers.js';

const opts = skipWithoutNats();

async function node(t: Parameters<typeof natsKernel>[0], url: string, options: Record<string, unknown> = {}) {
  const { kernel, nats } = await natsKernel(t, url, { system: 'br', ...options }, ['events']);
  const events = kernel.resolve<EventBus>('events');
  const seen: StoredEvent[] = [];
  events.subscribe('>', (e) => void seen.push(e));
  return { kernel, nats, events, seen };
}

test('bridged events reach the other node once, never echo back, and only matching types cross', opts, async (t) => {
  const server = await startNats(t);
  const a = await node(t, server.url);
  const b = await node(t, server.url);
  // Overlapping patterns on both sides: one message may arrive on two subscriptions.
  const ba = await a.nats.bridge(['order.*', 'order.>']);
  const bb = await b.nats.bridge(['order.*', 'order.>']);
  await a.events.publish({ type: 'order.placed', source: 'shop', data: { id: 7 }, correlationId: 'c-1' });
  await a.events.publish({ type: 'private.note', source: 'shop', data: 'stays here' });
  await b.events.publish({ type: 'order.shipped', source: 'warehouse', data: { id: 7 } });
  await until(() => a.seen.some((e) => e.type === 'order.shipped') && b.seen.some((e) => e.type === 'order.placed'), 'both directions');
  // A marker after everything: once it arrived, anything echoed or duplicated before it would have too.
  await a.events.publish({ type: 'order.marker', source: 'shop', data: null });
  await until(() => b.seen.some((e) => e.type === 'order.marker'), 'the marker');
  await b.events.publish({ type: 'order.marker2', source: 'warehouse', data: null });
  await until(() => a.seen.some((e) => e.type === 'order.marker2'), 'the second marker');
  const types = (s: StoredEvent[]) => s.map((e) => e.type).sort();
  assert.deepEqual(types(a.seen), ['order.marker', 'order.marker2', 'order.placed', 'order.shipped', 'private.note']);
  assert.deepEqual(types(b.seen), ['order.marker', 'order.marker2', 'order.placed', 'order.shipped']);
  const placed = b.seen.find((e) => e.type === 'order.placed')!;
  assert.equal(placed.source, 'shop');
  assert.equal(placed.correlationId, 'c-1');
  assert.deepEqual(placed.data, { id: 7 });
  assert.equal(ba.sent, 2);
  assert.equal(ba.received, 2);
  assert.equal(bb.sent, 2);
  assert.equal(bb.received, 2);
});

test('three nodes: an event from one reaches both others exactly once', opts, async (t) => {
  const server = await startNats(t);
  const nodes = [await node(t, server.url, { bridge: ['job.>'] }), await node(t, server.url, { bridge: ['job.>'] }), await node(t, server.url, { bridge: ['job.>'] })];
  for (let i = 0; i < 3; i++) await nodes[i]!.events.publish({ type: 'job.done', source: `n${i}`, data: i });
  await until(() => nodes.every((n) => n.seen.length >= 3), 'every event everywhere');
  for (const n of nodes) {
    await n.events.publish({ type: 'job.marker', source: 'x', data: null });
  }
  await until(() => nodes.every((n) => n.seen.filter((e) => e.type === 'job.marker').length === 3), 'the markers');
  for (const n of nodes) assert.deepEqual(n.seen.filter((e) => e.type === 'job.done').map((e) => e.source).sort(), ['n0', 'n1', 'n2']);
});

test('bad bridge patterns and a missing events plugin are clear errors', opts, async (t) => {
  const server = await startNats(t);
  const a = await node(t, server.url);
  await assert.rejects(a.nats.bridge(['order. placed']), { code: 'NATS_BAD_SUBJECT' });
  await assert.rejects(a.nats.bridge(['>.order']), { code: 'NATS_BAD_SUBJECT' });
  await assert.rejects(a.nats.bridge([]), { code: 'NATS_BAD_SUBJECT' });
  const { nats } = await natsKernel(t, server.url);
  await assert.rejects(nats.bridge('x.>'), { code: 'NATS_NEEDS_EVENTS' });
});
