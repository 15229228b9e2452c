/**
 * What the file store guarantees about acknowledged events (issue: nothing acknowledged is ever
 * lost): repair cuts only a torn tail, anything else fails the open loudly (or, when asked, is
 * quarantined), sequences are never reused, missing or short sealed segments are detected, and
 * events too large to read back are refused at publish.
 */
import assert from 'node:assert/strict';
import { open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EventBus, FileStore, type StoredEvent } from '../../../plugins/events/index.js';
import { tempDir } from './helpers.js';

type Store = ConstructorParameters<typeof FileStore>[0];

async function fill(dir: string, n: number, store: Partial<Store> = {}): Promise<StoredEvent[]> {
  const bus = new EventBus({ store: new FileStore({ dir, ...store }) });
  await bus.start();
  const out = await bus.publishMany(Array.from({ length: n }, (_, i) => ({ type: 'n', source: 's', data: { i: i + 1, pad: 'x'.repeat(100) } })));
  await bus.stop();
  return out;
}

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
}

/** Byte offset of the record holding `sequence` in a segment (walks the record headers). */
async function offsetOf(file: string, firstSequence: number, sequence: number): Promise<number> {
  const buf = await readFile(file);
  let at = 8;
  for (let s = firstSequence; s < sequence; s++) at += 8 + buf.readUInt32LE(at);
  return at;
}

async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

async function collect(bus: EventBus, query: Parameters<EventBus['replay']>[0] = {}): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of bus.replay(query)) out.push(e);
  return out;
}

test('one bad byte in the middle of the active segment fails the open naming segment and offset; nothing is cut', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 1000);
  const [name] = await segments(dir);
  const file = path.join(dir, name!);
  const at = await offsetOf(file, 1, 500);
  await flipByte(file, at + 20);
  const size = (await stat(file)).size;
  const bus = new EventBus({ store: new FileStore({ dir }) });
  await assert.rejects(bus.start(), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
    assert.equal(e.code, 'EVENT_STORE_CORRUPT');
    assert.equal(e.context?.file, name);
    assert.equal(e.context?.offset, at);
    assert.match(e.message, new RegExp(`${name}.*offset ${at}`));
    assert.match(e.message, /onCorruption/, 'the message says how to go on');
    return true;
  });
  assert.equal((await stat(file)).size, size, 'the segment was not truncated');
  // A second attempt fails the same way: nothing was "repaired" in between.
  await assert.rejects(new FileStore({ dir }).open(() => {}), { code: 'EVENT_STORE_CORRUPT' });
});

test("a corrupt length field in the middle (the record seems to run past the end) is corruption too, not a torn tail", async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 200);
  const [name] = await segments(dir);
  const file = path.join(dir, name!);
  const at = await offsetOf(file, 1, 50);
  const fh = await open(file, 'r+');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(50_000_000, 0);
  await fh.write(len, 0, 4, at);
  await fh.close();
  await assert.rejects(new FileStore({ dir }).open(() => {}), (e: Error & { code?: string; context?: Record<string, unknown> }) => e.code === 'EVENT_STORE_CORRUPT' && e.context?.offset === at);
});

test("onCorruption: 'quarantine' moves the damaged segment aside, goes on, and never reuses its sequences", async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 300, { segmentBytes: 16 * 1024 });
  const names = await segments(dir);
  assert.ok(names.length >= 3);
  const active = path.join(dir, names[names.length - 1]!);
  const first = Number(names[names.length - 1]!.slice(0, 20));
  const original = await readFile(active);
  await flipByte(active, (await offsetOf(active, first, first + 1)) + 20);
  const store = new FileStore({ dir, segmentBytes: 16 * 1024, onCorruption: 'quarantine' } as Store);
  const bus = new EventBus({ store });
  const report = await bus.start();
  t.after(() => bus.stop());
  assert.equal(report.repairs.length, 1);
  assert.equal(report.repairs[0]!.file, names[names.length - 1]);
  assert.match(report.repairs[0]!.reason, /quarantined/);
  const aside = await readdir(path.join(dir, 'quarantine'));
  assert.equal(aside.length, 1);
  assert.ok((await readFile(path.join(dir, 'quarantine', aside[0]!))).length === original.length, 'moved intact');
  const next = await bus.publish({ type: 'after', source: 's' });
  assert.ok(next.sequence > 300, `sequence ${next.sequence} was handed out before`);
  const all = await collect(bus);
  assert.deepEqual(all.map((e) => e.sequence), [...Array.from({ length: first - 1 }, (_, i) => i + 1), next.sequence]);
  await bus.stop();
  // Reopening keeps the quarantined range as a known hole, not an error.
  const again = new EventBus({ store: new FileStore({ dir, segmentBytes: 16 * 1024 }) });
  await again.start();
  t.after(() => again.stop());
  assert.equal((await collect(again)).length, first);
});

test('a torn tail is cut, and the sequences of the cut records are never handed out again', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 5);
  const [name] = await segments(dir);
  const file = path.join(dir, name!);
  const cutAt = await offsetOf(file, 1, 5);
  // The last record was whole and acknowledged; its payload rots: a bad final record, nothing after it.
  await flipByte(file, cutAt + 20);
  const bus = new EventBus({ store: new FileStore({ dir }) });
  const report = await bus.start();
  t.after(() => bus.stop());
  assert.deepEqual(report.repairs.map((r) => [r.file, r.offset, r.reason]), [[name, cutAt, 'CRC mismatch']]);
  assert.equal(report.lastSequence, 4);
  const next = await bus.publish({ type: 'n', source: 's' });
  assert.ok(next.sequence > 5, `sequence 5 reached the disk once; it was handed out again as ${next.sequence}`);
  await bus.stop();
  const reopened = new EventBus({ store: new FileStore({ dir }) });
  const r2 = await reopened.start();
  t.after(() => reopened.stop());
  assert.deepEqual(r2.repairs, []);
  assert.deepEqual((await collect(reopened)).map((e) => e.sequence), [1, 2, 3, 4, next.sequence]);
  assert.ok((await reopened.publish({ type: 'n', source: 's' })).sequence === next.sequence + 1);
});

test('a sealed segment deleted or truncated at a record boundary fails the open with EVENT_STORE_CORRUPT naming it', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 400, { segmentBytes: 8 * 1024 });
  const names = await segments(dir);
  assert.ok(names.length >= 4);
  const victim = path.join(dir, names[1]!);
  const first = Number(names[1]!.slice(0, 20));
  const boundary = await offsetOf(victim, first, first + 10);
  await truncate(victim, boundary);
  await assert.rejects(new FileStore({ dir, segmentBytes: 8 * 1024 }).open(() => {}), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
    assert.equal(e.code, 'EVENT_STORE_CORRUPT');
    assert.equal(e.context?.file, names[1]);
    assert.match(e.message, /short|bytes/);
    return true;
  });
  await rm(victim);
  await rm(victim.replace(/\.log$/, '.idx'), { force: true });
  await assert.rejects(new FileStore({ dir, segmentBytes: 8 * 1024 }).open(() => {}), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
    assert.equal(e.code, 'EVENT_STORE_CORRUPT');
    assert.equal(e.context?.file, names[1]);
    assert.match(e.message, /missing/);
    return true;
  });
});

test('without the manifest, sealed segments are verified by scanning: a deleted middle segment is still found', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 400, { segmentBytes: 8 * 1024 });
  const names = await segments(dir);
  await rm(path.join(dir, 'MANIFEST'), { force: true });
  await rm(path.join(dir, names[2]!));
  await assert.rejects(new FileStore({ dir, segmentBytes: 8 * 1024 }).open(() => {}), (e: Error & { code?: string; context?: Record<string, unknown> }) => e.code === 'EVENT_STORE_CORRUPT' && e.context?.file === names[1]);
});

test('a sealed segment removed or cut while the store is open fails the replay loudly instead of skipping', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 400, { segmentBytes: 8 * 1024 });
  const names = await segments(dir);
  const bus = new EventBus({ store: new FileStore({ dir, segmentBytes: 8 * 1024 }) });
  await bus.start();
  t.after(() => bus.stop());
  const victim = path.join(dir, names[1]!);
  const first = Number(names[1]!.slice(0, 20));
  await truncate(victim, await offsetOf(victim, first, first + 3));
  await assert.rejects(collect(bus), (e: Error & { code?: string; context?: Record<string, unknown> }) => e.code === 'EVENT_STORE_CORRUPT' && e.context?.file === names[1]);
  await rm(victim);
  await assert.rejects(collect(bus), (e: Error & { code?: string; context?: Record<string, unknown> }) => e.code === 'EVENT_STORE_CORRUPT' && /missing/.test(e.message));
});

test('a replay asking for sequences before retention rejects with EVENT_BEFORE_RETENTION saying where the log starts', async (t) => {
  const dir = await tempDir(t);
  const store = new FileStore({ dir, segmentBytes: 8 * 1024, retention: { maxBytes: 20 * 1024 } });
  const bus = new EventBus({ store });
  await bus.start();
  t.after(() => bus.stop());
  for (let i = 0; i < 10; i++) await bus.publishMany(Array.from({ length: 40 }, () => ({ type: 'n', source: 's', data: 'x'.repeat(100) })));
  const firstHeld = store.firstSequence;
  assert.ok(firstHeld > 1);
  await assert.rejects(collect(bus, { fromSequence: 1 }), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
    assert.equal(e.code, 'EVENT_BEFORE_RETENTION');
    assert.equal(e.context?.firstSequence, firstHeld);
    assert.equal(e.context?.fromSequence, 1);
    return true;
  });
  // Without an explicit start the replay begins at the oldest event held, as documented.
  assert.equal((await collect(bus))[0]!.sequence, firstHeld);
  assert.equal((await collect(bus, { fromSequence: firstHeld }))[0]!.sequence, firstHeld);
});

test('an event over maxEventBytes is refused at publish with EVENT_TOO_LARGE and uses no sequence', async (t) => {
  const dir = await tempDir(t);
  const bus = new EventBus({ store: new FileStore({ dir, maxEventBytes: 4096 } as Store) });
  await bus.start();
  t.after(() => bus.stop());
  await bus.publish({ type: 'ok', source: 's' });
  await assert.rejects(bus.publish({ type: 'big', source: 's', data: 'x'.repeat(5000) }), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
    assert.equal(e.code, 'EVENT_TOO_LARGE');
    assert.equal(e.context?.maxEventBytes, 4096);
    assert.ok((e.context?.bytes as number) > 5000);
    return true;
  });
  assert.equal((await bus.publish({ type: 'ok', source: 's' })).sequence, 2);
  // Multi-byte characters count as the bytes they take.
  await assert.rejects(bus.publish({ type: 'big', source: 's', data: 'ü'.repeat(2100) }), { code: 'EVENT_TOO_LARGE' });
});

test('the default limit refuses an event far larger than any reader expects, well under the record limit', async (t) => {
  const dir = await tempDir(t);
  const bus = new EventBus({ store: new FileStore({ dir }) });
  await bus.start();
  t.after(() => bus.stop());
  await assert.rejects(bus.publish({ type: 'big', source: 's', data: 'x'.repeat(5 * 1024 * 1024) }), { code: 'EVENT_TOO_LARGE' });
  assert.equal((await bus.publish({ type: 'ok', source: 's', data: 'x'.repeat(1024 * 1024) })).sequence, 1);
});

test("onCorruption: 'quarantine' goes on past a missing sealed segment: its range is a known hole, replay continues across it", async (t) => {
  const dir = await tempDir(t);
  await fill(dir, 400, { segmentBytes: 8 * 1024 });
  const names = await segments(dir);
  const first = Number(names[1]!.slice(0, 20));
  const next = Number(names[2]!.slice(0, 20));
  await rm(path.join(dir, names[1]!));
  const bus = new EventBus({ store: new FileStore({ dir, segmentBytes: 8 * 1024, onCorruption: 'quarantine' } as Store) });
  const report = await bus.start();
  t.after(() => bus.stop());
  assert.deepEqual(report.repairs.map((r) => [r.file, r.droppedBytes]), [[names[1], 0]]);
  assert.match(report.repairs[0]!.reason, /quarantined \(sealed segment is missing/);
  const seqs = (await collect(bus)).map((e) => e.sequence);
  const expected = Array.from({ length: 400 }, (_, i) => i + 1).filter((s) => s < first || s >= next);
  assert.deepEqual(seqs, expected);
  assert.equal((await bus.publish({ type: 'n', source: 's' })).sequence, 401);
  await bus.stop();
  // The hole is recorded: a plain reopen (onCorruption 'fail') accepts it.
  const again = new EventBus({ store: new FileStore({ dir, segmentBytes: 8 * 1024 }) });
  await again.start();
  t.after(() => again.stop());
  assert.equal((await collect(again)).length, expected.length + 1);
});
