/**
 * `traceparent` over NATS, against a real nats-server: the event bridge carries it in the
 * CloudEvents body and as the `traceparent` header (checked with a raw client), takes it from the
 * header when the body has none, and drops a malformed one without dropping the event; the
 * JetStream store keeps it in the stored event and on the message header.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type Msg } from '@nats-io/transport-node';
import pino from 'pino';
import { createTestKernel } from '../../../testing/index.js';
import natsPlugin from '../../../plugins/transport-nats/index.js';
import { EventBus } from '../../../plugins/events/EventBus.js';
import type { EventBus as EventBusService, StoredEvent } from '../../../plugins/events/types.js';
import type { ToolBus } from '../../../plugins/tools/types.js';
import { z } from '../../../sdk/index.js';
import { Subjects } from '../../../plugins/transport-nats/subjects.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { natsKernel, until } from './helpers.js';

const opts = skipWithoutNats();
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TP2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
const subjects = new Subjects('tr');
const toolSubjects = new Subjects('tt');

/** A kernel with events and nats bridging `order.>`, its log lines kept. */
async function node(t: Parameters<typeof natsKernel>[0], url: string) {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const kernel = await createTestKernel({
    plugins: ['events', { use: natsPlugin, options: { servers: url, system: 'tr', bridge: ['order.>'] } }],
    test: t,
    logger,
  });
  const events = kernel.resolve<EventBusService>('events');
  const seen: StoredEvent[] = [];
  events.subscribe('order.>', (e) => void seen.push(e));
  return { kernel, events, seen, lines };
}

/** A raw NATS client, closed after the test. */
async function rawClient(t: { after(fn: () => unknown): void }, url: string) {
  const nc = await connect({ servers: url });
  t.after(() => nc.close());
  return nc;
}

test('a traced event crosses the bridge with its traceparent, in the body and as the NATS header', opts, async (t) => {
  const server = await startNats(t);
  const raw = await rawClient(t, server.url);
  const wire: Msg[] = [];
  raw.subscribe(subjects.event('>'), { callback: (_err, msg) => void wire.push(msg) });
  await raw.flush();
  const a = await node(t, server.url);
  const b = await node(t, server.url);
  const traced = await a.events.publish({ type: 'order.placed', source: 'shop', data: { id: 7 }, correlationId: 'c-1', traceparent: TP });
  await a.events.publish({ type: 'order.plain', source: 'shop' });
  await until(() => b.seen.length === 2 && wire.length === 2, 'both events on node B and on the wire');

  const arrived = b.seen.find((e) => e.type === 'order.placed')!;
  assert.equal(arrived.traceparent, TP);
  assert.equal(arrived.correlationId, 'c-1');
  assert.equal((await b.events.get(arrived.id))?.traceparent, TP, 'stored on node B with it');
  const plain = b.seen.find((e) => e.type === 'order.plain')!;
  assert.equal(Object.hasOwn(plain, 'traceparent'), false);

  const tracedMsg = wire.find((m) => m.subject === subjects.event('order.placed'))!;
  assert.equal(tracedMsg.headers?.get('traceparent'), TP, 'the raw message has the traceparent header');
  const body = tracedMsg.json<Record<string, unknown>>();
  assert.equal(body.traceparent, TP, 'and the CloudEvents body has the extension attribute');
  assert.equal(body.id, traced.id);
  const plainMsg = wire.find((m) => m.subject === subjects.event('order.plain'))!;
  assert.equal(plainMsg.headers?.has('traceparent'), false);
  assert.equal(Object.hasOwn(plainMsg.json<Record<string, unknown>>(), 'traceparent'), false);
});

test('an incoming event takes the traceparent from the header when the body has none; a malformed one is dropped, not the event', opts, async (t) => {
  const server = await startNats(t);
  const raw = await rawClient(t, server.url);
  const b = await node(t, server.url);
  const send = (id: string, type: string, body: Record<string, unknown>, traceparentHeader?: string) => {
    const h = headers();
    h.set('Ms-Origin', 'other-tool');
    if (traceparentHeader !== undefined) h.set('Traceparent', traceparentHeader); // any case is read
    raw.publish(subjects.event(type), JSON.stringify({ specversion: '1.0', id, type, source: 'ext', time: new Date().toISOString(), data: null, ...body }), { headers: h });
  };
  send('x-1', 'order.fromheader', {}, TP);
  send('x-2', 'order.bodywins', { traceparent: TP2 }, TP);
  send('x-3', 'order.badbody', { traceparent: TP.toUpperCase() });
  send('x-4', 'order.badheader', {}, 'not-a-traceparent');
  send('x-5', 'order.badbodygoodheader', { traceparent: 17 }, TP);
  await until(() => b.seen.length === 5, 'all five events published on node B');
  const tp = (type: string) => b.seen.find((e) => e.type === type)!.traceparent;
  assert.equal(tp('order.fromheader'), TP);
  assert.equal(tp('order.bodywins'), TP2);
  assert.equal(tp('order.badbody'), undefined);
  assert.equal(tp('order.badheader'), undefined);
  assert.equal(tp('order.badbodygoodheader'), TP);
  for (const e of b.seen) if (e.traceparent === undefined) assert.equal(Object.hasOwn(e, 'traceparent'), false);
  // Three malformed values, one warning: a broken sender does not flood the log.
  const warnings = b.lines.filter((l) => /malformed traceparent/.test(l.msg));
  assert.equal(warnings.length, 1, JSON.stringify(b.lines));
  assert.equal(warnings[0]!.level, 40);
});

test('the JetStream store keeps traceparent in the stored event and sets the message header', opts, async (t) => {
  const server = await startNats(t);
  const { nats } = await natsKernel(t, server.url);
  const bus = new EventBus({ store: nats.createEventStore({ stream: 'TRACE' }) });
  await bus.start();
  t.after(() => bus.stop());
  const live: StoredEvent[] = [];
  bus.subscribe('job.>', (e) => void live.push(e));
  const traced = await bus.publish({ type: 'job.started', source: 'runner', correlationId: 'run-1', traceparent: TP });
  const plain = await bus.publish({ type: 'job.done', source: 'runner', correlationId: 'run-1' });
  await until(() => live.length === 2, 'live delivery');
  assert.equal(live[0]!.traceparent, TP);
  assert.deepEqual(await bus.get(traced.id), traced);
  assert.deepEqual(await bus.byCorrelation('run-1'), [traced, plain]);

  // A second node reading the same stream decodes it from the stored JSON.
  const other = await natsKernel(t, server.url);
  const reader = new EventBus({ store: other.nats.createEventStore({ stream: 'TRACE' }) });
  await reader.start();
  t.after(() => reader.stop());
  const replayed: StoredEvent[] = [];
  for await (const e of reader.replay()) replayed.push(e);
  assert.deepEqual(replayed, [traced, plain]);

  const jsm = await jetstreamManager(nats.client);
  const stored = await jsm.streams.getMessage('TRACE', { seq: traced.sequence });
  assert.equal(stored?.header.get('traceparent'), TP);
  assert.equal(stored?.json<Record<string, unknown>>().traceparent, TP);
  const storedPlain = await jsm.streams.getMessage('TRACE', { seq: plain.sequence });
  assert.equal(storedPlain?.header.has('traceparent'), false);
});

test('a remote tool call carries the caller\'s traceparent in the envelope and the header; the owner\'s handler sees it', opts, async (t) => {
  const server = await startNats(t);
  const tools = async () => {
    const { kernel, nats } = await natsKernel(t, server.url, { system: 'tt', discoveryStallMs: 100 }, ['tools']);
    return { nats, tools: kernel.resolve<ToolBus>('tools') };
  };
  const owner = await tools();
  const seen: Array<string | undefined> = [];
  owner.tools.register({ name: 'trace.echo', description: 'Echoes', input: z.object({}), handler: (_input, ctx) => void seen.push(ctx.traceparent) });
  owner.tools.grant('alice', '*');
  // The tool bus puts CallOptions.traceparent on ctx (the tools side of issue 19): without that
  // there is nothing to carry, and this test waits for it.
  await owner.tools.call('alice', 'trace.echo', {}, { traceparent: TP });
  if (seen.pop() !== TP) {
    t.skip('the tools plugin does not pass CallOptions.traceparent to ctx.traceparent yet');
    return;
  }
  await owner.nats.exposeTools('trace.*');
  const caller = await tools();
  await caller.nats.importTools();
  caller.tools.grant('alice', '*');

  const raw = await rawClient(t, server.url);
  const wire: Msg[] = [];
  raw.subscribe(toolSubjects.tool('trace.echo'), { callback: (_err, msg) => void wire.push(msg) });
  await raw.flush();

  await caller.tools.call('alice', 'trace.echo', {}, { traceparent: TP2 });
  await caller.tools.call('alice', 'trace.echo', {});
  assert.deepEqual(seen, [TP2, undefined]);
  await until(() => wire.length === 2, 'both requests seen on the wire');
  assert.equal(wire[0]!.headers?.get('traceparent'), TP2);
  assert.equal(wire[0]!.json<Record<string, unknown>>().traceparent, TP2);
  assert.equal(wire[1]!.headers?.has('traceparent') ?? false, false);
  assert.equal(Object.hasOwn(wire[1]!.json<Record<string, unknown>>(), 'traceparent'), false);

  // A request from elsewhere: the header alone counts, and a malformed one is left off instead of failing the call.
  const ask = async (body: Record<string, unknown>, header?: string) => {
    const h = headers();
    if (header !== undefined) h.set('traceparent', header);
    const reply = await raw.request(toolSubjects.tool('trace.echo'), JSON.stringify({ v: 1, agent: 'alice', delegation: [], input: {}, ...body }), { timeout: 10_000, headers: h });
    return reply.json<{ ok: boolean }>().ok;
  };
  assert.equal(await ask({}, TP), true);
  assert.equal(await ask({ traceparent: 'nope' }), true);
  assert.equal(await ask({ traceparent: TP.toUpperCase() }, TP2), true);
  assert.deepEqual(seen.slice(2), [TP, undefined, TP2]);
});
