/**
 * A store whose log acknowledges asynchronously (as a remote stream does): `append` leaves
 * `sequence` and `id` unset and fills them only when its promise resolves. The bus must work the
 * same over it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import events, {
  EventBus,
  type CommitListener,
  type EventStore,
  type EventStoreFactory,
  type JetStreamStoreConfig,
  type OpenReport,
  type PendingEvent,
  type ReadRange,
  type StoredEvent,
} from '../../../plugins/events/index.js';
import { until } from './helpers.js';

/**
 * Commits queued appends a turn later, in order; resolves each turn's promises last-first (a remote
 * log acknowledges a batch in any order, only the commit order is promised).
 */
class AsyncStore implements EventStore {
  readonly kind = 'async-test';
  readonly events: StoredEvent[] = [];
  readonly #positions = new Map<string, number>();
  #queue: Array<{ event: PendingEvent; resolve(): void; reject(e: Error): void }> = [];
  #onCommit: CommitListener | undefined;
  #timer: NodeJS.Immediate | undefined;
  closed = false;
  syncAssigned = 0;

  get firstSequence(): number {
    return 1;
  }
  get lastSequence(): number {
    return this.events.length;
  }
  get bytes(): number {
    return 0;
  }
  async open(onCommit: CommitListener): Promise<OpenReport> {
    this.#onCommit = onCommit;
    return { firstSequence: 1, lastSequence: this.events.length, repairs: [] };
  }
  append(event: PendingEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('async store is closed'));
    // Refused on the spot (a remote limit checked locally), while earlier appends still wait for their acks.
    if (event.type === 'refused.now') return Promise.reject(new Error('refused before sending'));
    if (event.sequence !== 0 || event.id !== '') this.syncAssigned++;
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      this.#timer ??= setImmediate(() => this.#commit());
    });
  }
  #commit(): void {
    this.#timer = undefined;
    const turn = this.#queue;
    this.#queue = [];
    for (const q of turn) {
      q.event.sequence = this.events.length + 1;
      q.event.id = `remote-${q.event.sequence}`;
      this.events.push(q.event as StoredEvent);
      this.#onCommit?.(q.event as StoredEvent);
    }
    for (let i = turn.length - 1; i >= 0; i--) turn[i]!.resolve();
  }
  async *read(range: ReadRange): AsyncIterable<readonly StoredEvent[]> {
    const to = Math.min(range.to ?? this.events.length, this.events.length);
    const page = this.events.slice(Math.max(1, range.from) - 1, to);
    if (page.length > 0) yield page;
  }
  async get(id: string): Promise<StoredEvent | undefined> {
    return this.events.find((e) => e.id === id);
  }
  loadPosition(name: string): number {
    return this.#positions.get(name) ?? 0;
  }
  savePosition(name: string, sequence: number): void {
    this.#positions.set(name, sequence);
  }
  async checkWritable(): Promise<void> {
    if (this.closed) throw new Error('closed');
  }
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.#queue.splice(0)) q.reject(new Error('async store closed with the append pending'));
  }
}

test('publish, subscribe, durable delivery, replay and request/reply over a store that assigns sequences asynchronously', async (t) => {
  const store = new AsyncStore();
  const bus = new EventBus({ store });
  await bus.start();
  t.after(() => bus.stop());
  const live: number[] = [];
  const durable: number[] = [];
  bus.subscribe('a.>', (e) => void live.push(e.sequence));
  bus.subscribe('a.>', async (e) => void durable.push(e.sequence), { durable: 'd', from: 'earliest' });
  const published = await Promise.all(Array.from({ length: 50 }, (_, i) => bus.publish({ type: 'a.b', source: 's', data: i })));
  assert.equal(store.syncAssigned, 0);
  assert.deepEqual(published.map((e) => e.sequence), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.deepEqual(published.map((e) => e.data), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(published[7]!.id, 'remote-8');
  await until(() => live.length === 50 && durable.length === 50);
  assert.deepEqual(live, published.map((e) => e.sequence));
  assert.deepEqual(durable, published.map((e) => e.sequence));
  const replayed: number[] = [];
  for await (const e of bus.replay({ types: ['a.b'] })) replayed.push(e.sequence);
  assert.deepEqual(replayed, live);
  bus.subscribe('math.add', async (req) => {
    const { a, b } = req.data as { a: number; b: number };
    await bus.publish({ type: 'math.sum', source: 'calc', data: a + b, correlationId: req.correlationId!, causationId: req.id });
  });
  const reply = await bus.request({ type: 'math.add', source: 's', data: { a: 2, b: 3 } }, { timeoutMs: 10_000, replyType: 'math.sum' });
  assert.equal(reply.data, 5);
  assert.ok(reply.causationId!.startsWith('remote-'));
  assert.equal((await bus.get(published[3]!.id))?.sequence, 4);
});

test('stop waits for every append in flight, whatever order the store settles them in', async () => {
  const store = new AsyncStore();
  const bus = new EventBus({ store });
  await bus.start();
  const pending = Array.from({ length: 100 }, (_, i) => bus.publish({ type: 'x', source: 's', data: i }));
  const refused = bus.publish({ type: 'refused.now', source: 's' });
  await assert.rejects(refused, { code: 'EVENT_STORE_FAILED' });
  await bus.stop();
  const results = await Promise.allSettled(pending);
  const rejected = results.filter((r) => r.status === 'rejected');
  assert.equal(rejected.length, 0, `stop closed the store under ${rejected.length} pending append(s): ${String((rejected[0] as PromiseRejectedResult | undefined)?.reason)}`);
  assert.equal(store.events.length, 100);
});

test("the plugin's jetstream store type is built by the nats service (ctx.resolve('nats').createEventStore)", async (t) => {
  const seen: JetStreamStoreConfig[] = [];
  const nats = definePlugin({
    name: 'nats',
    version: '0.0.0',
    setup(ctx) {
      const factory: EventStoreFactory = {
        createEventStore(options) {
          seen.push(options);
          return new AsyncStore();
        },
      };
      ctx.provide('nats' as string, factory);
    },
  });
  const kernel = await createTestKernel({ plugins: [nats, { use: events, options: { store: { type: 'jetstream', storage: 'memory' } } }], test: t });
  // Defaults filled in; fields the nats plugin owns pass through for it to validate.
  assert.deepEqual(seen, [{ type: 'jetstream', stream: 'MISTER_SMITH_EVENTS', subjectPrefix: 'ms.events', storage: 'memory' }]);
  const bus = kernel.resolve('events') as EventBus;
  assert.equal(bus.store.kind, 'async-test');
  assert.equal((await bus.publish({ type: 'via.remote', source: 's' })).id, 'remote-1');
  await kernel.stop();
});

test('the jetstream store type without the nats plugin fails setup with EVENT_STORE_UNAVAILABLE', async (t) => {
  await assert.rejects(
    createTestKernel({ plugins: [{ use: events, options: { store: { type: 'jetstream', stream: 'S' } } }], test: t }),
    (e: Error & { code?: string; cause?: { code?: string } }) => {
      const text = `${e.code} ${e.message} ${e.cause?.code ?? ''}`;
      assert.match(text, /EVENT_STORE_UNAVAILABLE|needs the nats plugin/);
      return true;
    },
  );
});
