/** The read-only file store: another process's log, read without the lock, never written. */
import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EventBus, FileStore, type StoredEvent } from '../../../plugins/events/index.js';
import { tempDir } from './helpers.js';

async function collect(bus: EventBus): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of bus.replay()) out.push(e);
  return out;
}

async function listing(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const sizes = await Promise.all(names.map(async (n) => `${n}:${(await stat(path.join(dir, n))).size}`));
  return sizes.join(',');
}

test('a read-only store opens a log its writer holds, sees what is on disk (and what the writer adds), rejects publish, writes nothing', async (t) => {
  const dir = await tempDir(t);
  const writer = new EventBus({ store: new FileStore({ dir, segmentBytes: 8 * 1024 }) });
  await writer.start();
  t.after(() => writer.stop());
  await writer.publishMany(Array.from({ length: 100 }, (_, i) => ({ type: 'w', source: 's', data: { i, pad: 'x'.repeat(100) } })));
  const before = await listing(dir);
  const reader = new EventBus({ store: new FileStore({ dir, readOnly: true, positionsFlushMs: 1 }) });
  const report = await reader.start();
  t.after(() => reader.stop());
  assert.equal(report.lastSequence, 100);
  assert.deepEqual((await collect(reader)).map((e) => e.sequence), Array.from({ length: 100 }, (_, i) => i + 1));
  await assert.rejects(reader.publish({ type: 'nope', source: 's' }), (e: Error & { code?: string }) => e.code === 'EVENT_STORE_READ_ONLY' && /read-only/.test(e.message));
  assert.equal((await reader.health()).status, 'unhealthy', 'a read-only bus cannot take writes');
  // The writer goes on, past a rollover: the reader's next replay sees it.
  const more = await writer.publishMany(Array.from({ length: 50 }, (_, i) => ({ type: 'w', source: 's', data: { i: 100 + i, pad: 'x'.repeat(100) } })));
  const seen = await collect(reader);
  assert.equal(seen.length, 150);
  assert.deepEqual(seen[149], more[49]);
  assert.deepEqual(await reader.get(more[10]!.id), more[10]);
  // A durable subscription on the reader delivers what was on disk at open; its position stays in memory.
  const got: number[] = [];
  reader.subscribe('w', (e) => void got.push(e.sequence), { durable: 'ro', from: 'earliest' });
  const deadline = Date.now() + 10_000;
  while (got.length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i + 1));
  await reader.stop();
  await writer.stop();
  const after = (await readdir(dir)).sort();
  assert.ok(!after.includes('positions.json'), 'the reader wrote no positions');
  // Everything the writer had is still there (its LOCK went with its stop).
  const missing = before.split(',').map((entry) => entry.split(':')[0]!).filter((name) => name !== 'LOCK' && !after.includes(name));
  assert.deepEqual(missing, []);
});

test('a read-only store repairs nothing: a torn tail is left on disk and ignored; damage fails the open; a missing dir is not created', async (t) => {
  const dir = await tempDir(t);
  const bus = new EventBus({ store: new FileStore({ dir }) });
  await bus.start();
  await bus.publishMany(Array.from({ length: 5 }, () => ({ type: 'a', source: 's' })));
  await bus.stop();
  const seg = path.join(dir, (await readdir(dir)).find((f) => f.endsWith('.log'))!);
  const torn = Buffer.alloc(8);
  torn.writeUInt32LE(400, 0);
  await appendFile(seg, Buffer.concat([torn, Buffer.from('{"id":"half')]));
  const bytes = await readFile(seg);
  const before = await listing(dir);
  const store = new FileStore({ dir, readOnly: true, onCorruption: 'quarantine' });
  const ro = new EventBus({ store });
  const report = await ro.start();
  assert.equal(report.lastSequence, 5);
  assert.match(report.repairs[0]!.reason, /read-only: not cut/);
  assert.equal((await collect(ro)).length, 5);
  await ro.stop();
  assert.deepEqual(await readFile(seg), bytes, 'the torn tail is still there');
  assert.equal(await listing(dir), before, 'no file created, changed or removed');
  // Damage in the middle: a read-only store neither cuts nor quarantines it.
  const buf = await readFile(seg);
  buf[8 + 8 + 3] = buf[8 + 8 + 3]! ^ 0xff;
  await (await import('node:fs/promises')).writeFile(seg, buf);
  await assert.rejects(new FileStore({ dir, readOnly: true, onCorruption: 'quarantine' }).open(() => {}), { code: 'EVENT_STORE_CORRUPT' });
  assert.ok(!(await readdir(dir)).includes('quarantine'));
  const missing = path.join(dir, 'nope');
  await assert.rejects(new FileStore({ dir: missing, readOnly: true }).open(() => {}), (e: Error & { code?: string }) => e.code === 'EVENT_STORE_FAILED' && /does not exist/.test(e.message));
  await assert.rejects(stat(missing), { code: 'ENOENT' });
});
