import assert from 'node:assert/strict';
import { open, readdir, readFile, stat, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EventBus, FileStore, type StoredEvent } from '../../../plugins/events/index.js';
import { fileBus, recordingLogger, tempDir } from './helpers.js';

async function collect(bus: EventBus, query: Parameters<EventBus['replay']>[0] = {}): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of bus.replay(query)) out.push(e);
  return out;
}

async function fill(dir: string, n: number, store: ConstructorParameters<typeof FileStore>[0] | object = {}): Promise<void> {
  const bus = new EventBus({ store: new FileStore({ dir, ...store }) });
  await bus.start();
  await bus.publishMany(Array.from({ length: n }, (_, i) => ({ type: 'n', source: 's', data: { i: i + 1, pad: 'x'.repeat(100) } })));
  await bus.stop();
}

async function lastSegment(dir: string): Promise<string> {
  const logs = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
  return path.join(dir, logs[logs.length - 1]!);
}

for (const fsync of ['always', 'batch', 'never'] as const) {
  test(`fsync '${fsync}': events survive close and reopen, and the sequence continues`, async (t) => {
    const dir = await tempDir(t);
    const bus1 = new EventBus({ store: new FileStore({ dir, fsync }) });
    await bus1.start();
    const published = await Promise.all(Array.from({ length: 20 }, (_, i) => bus1.publish({ type: 'a.b', source: 's', data: i })));
    assert.deepEqual(published.map((e) => e.sequence), Array.from({ length: 20 }, (_, i) => i + 1));
    await bus1.stop();
    const bus2 = await fileBus(t, dir, { fsync });
    const replayed = await collect(bus2);
    assert.deepEqual(replayed, published);
    assert.equal((await bus2.publish({ type: 'a.b', source: 's' })).sequence, 21);
  });
}

test('a corrupted tail record (CRC mismatch) is cut off on open, reported, and the sequence continues above it', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 5);
  const file = await lastSegment(dir);
  const size = (await stat(file)).size;
  const fh = await open(file, 'r+');
  await fh.write(Buffer.from('Z'), 0, 1, size - 10); // inside the last record's payload
  await fh.close();
  const logger = recordingLogger();
  const store = new FileStore({ dir });
  const bus = new EventBus({ store, logger });
  const report = await bus.start();
  t.after(() => bus.stop());
  assert.equal(report.lastSequence, 4);
  assert.equal(report.repairs.length, 1);
  assert.equal(report.repairs[0]!.reason, 'CRC mismatch');
  assert.ok(report.repairs[0]!.droppedBytes > 100);
  assert.ok(logger.lines.some((l) => l.level === 'warn' && /repaired on open/.test(l.msg) && /CRC mismatch/.test(l.msg)));
  assert.equal((await collect(bus)).length, 4);
  // Sequence 5 reached the disk once: it is never handed out again.
  assert.ok((await bus.publish({ type: 'n', source: 's' })).sequence > 5);
  assert.equal((await stat(file)).size < size, true);
});

test('a torn tail (half-written record) is truncated; garbage shorter than a header too', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 3);
  const file = await lastSegment(dir);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(500, 0);
  await appendFile(file, Buffer.concat([header, Buffer.from('{"id":"half')]));
  const s1 = new FileStore({ dir });
  const r1 = await s1.open(() => {});
  assert.equal(r1.lastSequence, 3);
  assert.match(r1.repairs[0]!.reason, /torn/);
  await s1.close();
  // The cut moved the log on to a new segment above the reserved sequences: tear that one.
  await appendFile(await lastSegment(dir), Buffer.from([1, 2, 3]));
  const s2 = new FileStore({ dir });
  const r2 = await s2.open(() => {});
  assert.equal(r2.lastSequence, 3);
  assert.equal(r2.repairs[0]!.droppedBytes, 3);
  await s2.close();
  const s3 = new FileStore({ dir });
  assert.deepEqual((await s3.open(() => {})).repairs, []);
  await s3.close();
});

test('segments roll over by size; fromSequence seeks land in the right segment via the index', async (t) => {
  const dir = await tempDir(t);
  const store = { segmentBytes: 8 * 1024, indexEveryBytes: 1024 };
  await fill(dir, 400, store);
  const logs = (await readdir(dir)).filter((f) => f.endsWith('.log'));
  assert.ok(logs.length > 5, `expected several segments, got ${logs.length}`);
  assert.ok((await readdir(dir)).some((f) => f.endsWith('.idx')), 'sealed segments have an index');
  const bus = await fileBus(t, dir, store);
  for (const [from, to] of [
    [1, 3],
    [57, 61],
    [199, 202],
    [398, 400],
  ] as const) {
    const got = await collect(bus, { fromSequence: from, toSequence: to });
    assert.deepEqual(
      got.map((e) => [e.sequence, (e.data as { i: number }).i]),
      Array.from({ length: to - from + 1 }, (_, k) => [from + k, from + k]),
    );
  }
  const all = await collect(bus);
  assert.deepEqual(all.map((e) => e.sequence), Array.from({ length: 400 }, (_, i) => i + 1));
  const e = all[250]!;
  assert.deepEqual(await bus.get(e.id), e);
  assert.equal(await bus.get(`${e.id}0000`), undefined);
});

test('a missing or stale segment index is rebuilt', async (t) => {
  const dir = await tempDir(t);
  const store = { segmentBytes: 8 * 1024, indexEveryBytes: 1024 };
  await fill(dir, 200, store);
  const idx = (await readdir(dir)).filter((f) => f.endsWith('.idx'));
  await writeFile(path.join(dir, idx[0]!), 'not json');
  const bus = await fileBus(t, dir, store);
  const got = await collect(bus, { fromSequence: 10, toSequence: 12 });
  assert.deepEqual(got.map((e) => e.sequence), [10, 11, 12]);
});

test('retention deletes whole old segments by size and by age, never the active one', async (t) => {
  const dir = await tempDir(t);
  const logger = recordingLogger();
  const store = new FileStore({ dir, segmentBytes: 8 * 1024, retention: { maxBytes: 20 * 1024 }, logger });
  const bus = new EventBus({ store });
  await bus.start();
  t.after(() => bus.stop());
  for (let i = 0; i < 10; i++) await bus.publishMany(Array.from({ length: 40 }, () => ({ type: 'n', source: 's', data: 'x'.repeat(100) })));
  assert.ok(store.bytes <= 20 * 1024 + 8 * 1024, `bytes ${store.bytes}`);
  assert.ok(store.firstSequence > 1);
  const all = await collect(bus);
  assert.equal(all[0]!.sequence, store.firstSequence);
  assert.equal(all[all.length - 1]!.sequence, 400);
  assert.ok(logger.lines.some((l) => /retention deleted events 1\.\./.test(l.msg)));

  const dir2 = await tempDir(t);
  await fill(dir2, 300, { segmentBytes: 8 * 1024 });
  const aged = new FileStore({ dir: dir2, segmentBytes: 8 * 1024, retention: { maxAgeMs: 1 } });
  await new Promise((r) => setTimeout(r, 5));
  await aged.open(() => {});
  assert.equal(aged.segmentCount, 1, 'only the active segment is left');
  assert.ok(aged.firstSequence > 1);
  await aged.close();
});

test('a directory is locked: a second store (this process or a live other one) gets EVENT_STORE_LOCKED', async (t) => {
  const dir = await tempDir(t);
  const a = new FileStore({ dir });
  await a.open(() => {});
  await assert.rejects(new FileStore({ dir }).open(() => {}), { code: 'EVENT_STORE_LOCKED' });
  await a.close();
  // An old-format lock (a bare pid) of a live process that is not us (our parent) is respected…
  await writeFile(path.join(dir, 'LOCK'), String(process.ppid));
  await assert.rejects(new FileStore({ dir }).open(() => {}), (e: Error & { code?: string }) => e.code === 'EVENT_STORE_LOCKED' && /locked by an old-format lock/.test(e.message));
  // …and one left by a dead process is taken over.
  await writeFile(path.join(dir, 'LOCK'), '999999999');
  const b = new FileStore({ dir });
  await b.open(() => {});
  assert.equal((JSON.parse(await readFile(path.join(dir, 'LOCK'), 'utf8')) as { pid: number }).pid, process.pid);
  await b.close();
});

test('a file that is not a segment is refused, not "repaired"; the bus start fails with EVENT_STORE_FAILED', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, '00000000000000000001.log'), 'hello, I am somebody else\'s file');
  const bus = new EventBus({ store: new FileStore({ dir }) });
  await assert.rejects(bus.start(), (e: Error & { code?: string }) => e.code === 'EVENT_STORE_FAILED' && /not an event segment/.test(e.message));
  await assert.rejects(bus.publish({ type: 'a', source: 's' }), { code: 'EVENT_BUS_STOPPED' });
  assert.equal((await readFile(path.join(dir, '00000000000000000001.log'), 'utf8')).startsWith('hello'), true);
});

test('appends to a closed store reject with EVENT_STORE_FAILED; checkWritable fails', async (t) => {
  const dir = await tempDir(t);
  const store = new FileStore({ dir });
  await store.open(() => {});
  await store.checkWritable();
  await store.close();
  await store.close();
  await assert.rejects(store.append({ id: '', sequence: 0, type: 'a', source: 's', time: new Date().toISOString(), data: null }), { code: 'EVENT_STORE_FAILED' });
  await assert.rejects(store.checkWritable());
});

test('durable positions persist in positions.json and survive a corrupt positions file', async (t) => {
  const dir = await tempDir(t);
  const store = new FileStore({ dir, positionsFlushMs: 1 });
  await store.open(() => {});
  store.savePosition('a', 0);
  store.savePosition('a', 7);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'positions.json'), 'utf8')), { a: 7 });
  await store.close();
  await writeFile(path.join(dir, 'positions.json'), '{oops');
  const logger = recordingLogger();
  const again = new FileStore({ dir, logger });
  await again.open(() => {});
  assert.equal(again.loadPosition('a'), 0);
  assert.ok(logger.lines.some((l) => l.level === 'error' && /positions file is unreadable/.test(l.msg)));
  await again.close();
});

test('group commit: concurrent publishes share fsyncs', async (t) => {
  const dir = await tempDir(t);
  let syncs = 0;
  const bus = await fileBus(t, dir, { fsync: 'batch', onSync: () => void syncs++ });
  await Promise.all(Array.from({ length: 200 }, (_, i) => bus.publish({ type: 'g', source: 's', data: i })));
  assert.ok(syncs < 20, `200 concurrent publishes took ${syncs} fsyncs`);
  let strict = 0;
  const dir2 = await tempDir(t);
  const always = await fileBus(t, dir2, { fsync: 'always', onSync: () => void strict++ });
  await Promise.all(Array.from({ length: 20 }, (_, i) => always.publish({ type: 'g', source: 's', data: i })));
  assert.ok(strict >= 20, `fsync 'always' synced ${strict} times for 20 events`);
});

test('a last record that is whole but carries the wrong sequence is cut off too', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 3);
  const file = await lastSegment(dir);
  const { crc32 } = await import('../../../plugins/events/stores/crc32.js');
  const payload = Buffer.from(JSON.stringify({ id: 'x-9', type: 'n', source: 's', time: new Date().toISOString(), sequence: 9, data: null }));
  const header = Buffer.alloc(8);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  const before = (await stat(file)).size;
  await appendFile(file, Buffer.concat([header, payload]));
  const store = new FileStore({ dir });
  const report = await store.open(() => {});
  assert.equal(report.lastSequence, 3);
  assert.deepEqual(report.repairs.map((r) => [r.offset, r.reason]), [[before, 'sequence 9 where 4 was expected']]);
  assert.equal((await stat(file)).size, before);
  await store.close();
});

test('a failed write rejects every waiting publish with EVENT_STORE_FAILED, delivers nothing, and hands the sequences out again', async (t) => {
  const fs = (await import('node:fs')).default;
  const { syncBuiltinESMExports } = await import('node:module');
  const dir = await tempDir(t);
  const bus = await fileBus(t, dir);
  const got: number[] = [];
  bus.subscribe('>', (e) => void got.push(e.sequence));
  await bus.publish({ type: 'ok', source: 's' });
  const original = fs.writeSync;
  let calls = 0;
  // The store imports writeSync by name; syncBuiltinESMExports makes that binding see the stub.
  (fs as { writeSync: unknown }).writeSync = () => {
    calls++;
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  syncBuiltinESMExports();
  try {
    const results = await Promise.allSettled([1, 2, 3].map((i) => bus.publish({ type: 'lost', source: 's', data: i })));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.equal((r as PromiseRejectedResult).reason.code, 'EVENT_STORE_FAILED');
      assert.match((r as PromiseRejectedResult).reason.message, /ENOSPC/);
    }
    assert.ok(calls >= 1);
    assert.equal((await bus.health()).details.lastStoreError !== undefined, true);
  } finally {
    (fs as { writeSync: unknown }).writeSync = original;
    syncBuiltinESMExports();
  }
  const next = await bus.publish({ type: 'ok', source: 's' });
  assert.equal(next.sequence, 2, 'the failed sequences are handed out again');
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(got, [1, 2]);
  await bus.stop();
  const again = await fileBus(t, dir);
  const all = await collect(again);
  assert.deepEqual(all.map((e) => [e.sequence, e.type]), [[1, 'ok'], [2, 'ok']]);
});
