/**
 * The file store: an append-only log in segment files, the embedded default for durable setups.
 *
 * Layout of `dir`: `<first sequence, 20 digits>.log` segments (an 8-byte magic header, then
 * records `[u32 LE length][u32 LE CRC-32][JSON payload]`), `<same>.idx` sparse indexes of sealed
 * segments (a cache, rebuilt when missing or wrong), `positions.json` (durable subscription
 * positions, replaced atomically), and `LOCK` (the owning process id).
 *
 * Group commit: appends made while a write is in flight wait together and share the next write()
 * and fdatasync(). `fsync: 'always'` gives each event its own write and sync; `never` skips the
 * sync (a process crash loses nothing written, an OS crash may). On open the last segment is
 * scanned; the first torn or corrupt record and everything after it is cut off and reported.
 */
import { close, fdatasync, fstat, ftruncate, open, read, write, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile, access, constants, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { storeFailed, EVENT_ERROR_CODES } from '../errors.js';
import { EventError } from '../../../sdk/index.js';
import type { BusLogger } from '../SubscriberHost.js';
import type { StoredEvent } from '../types.js';
import { crc32 } from './crc32.js';
import {
  newIdPrefix,
  sequenceOfId,
  type CommitListener,
  type EventStore,
  type OpenReport,
  type PendingEvent,
  type ReadRange,
  type RepairRecord,
} from './EventStore.js';
import { RECORD_HEADER_BYTES, RecordCursor } from './RecordCursor.js';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);
const fstatAsync = promisify(fstat);
const readAsync = promisify(read);

/** Segment files start with this, so a foreign file is refused instead of "repaired". */
const MAGIC = Buffer.from('MSEVLOG1', 'latin1');
const HEADER_BYTES = MAGIC.length;
const SEGMENT_RE = /^(\d{20})\.log$/;
/** Batches up to this size are written with writeSync (see #writeRecords). */
const SYNC_WRITE_BYTES = 256 * 1024;

/** Directories open in this process: a second store on the same directory would corrupt it. */
const OPEN_DIRS = new Set<string>();

export type FsyncMode = 'always' | 'batch' | 'never';

export interface FileStoreOptions {
  /** Directory of the log (created if missing). */
  readonly dir: string;
  /** Default `batch`. */
  readonly fsync?: FsyncMode;
  /** Rollover size (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Cap of one group-commit batch (default 4 MiB). */
  readonly maxBatchBytes?: number;
  /** `batch` mode: wait up to this many ms (≤ 5) for more appends before writing (default 0). */
  readonly batchDelayMs?: number;
  /** Whole sealed segments beyond these limits are deleted at rollover and on open. */
  readonly retention?: { readonly maxAgeMs?: number; readonly maxBytes?: number };
  /** A sparse index entry every this many bytes (default 64 KiB). */
  readonly indexEveryBytes?: number;
  /** How long a changed durable position may wait before it is written (default 100 ms). */
  readonly positionsFlushMs?: number;
  readonly logger?: BusLogger;
  /** Observes every fsync's duration in seconds (the plugin feeds a histogram). */
  readonly onSync?: (seconds: number) => void;
}

interface Segment {
  readonly file: string;
  readonly first: number;
  last: number;
  /** Committed bytes, header included. */
  size: number;
  mtimeMs: number;
  /** Sparse index: sequences and their byte offsets, ascending. Undefined until built. */
  index: { seqs: number[]; offsets: number[] } | undefined;
}

interface Batch {
  readonly events: PendingEvent[];
  /** The framed records, encoded at append time so encoding overlaps the previous batch's fsync. */
  buf: Buffer;
  used: number;
  /** Start of each record in `buf`. */
  readonly offsets: number[];
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

const NOOP_LOGGER: BusLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class FileStore implements EventStore {
  readonly kind = 'file';
  readonly #dir: string;
  readonly #fsync: FsyncMode;
  readonly #segmentBytes: number;
  readonly #maxBatchBytes: number;
  readonly #batchDelayMs: number;
  readonly #retention: { maxAgeMs?: number; maxBytes?: number };
  readonly #indexEvery: number;
  readonly #positionsFlushMs: number;
  readonly #logger: BusLogger;
  readonly #onSync: ((seconds: number) => void) | undefined;
  #prefix = newIdPrefix();
  #segments: Segment[] = [];
  #fd = -1;
  #next = 1;
  #last = 0;
  #bytes = 0;
  #onCommit: CommitListener | undefined;
  #state: 'closed' | 'open' | 'closing' = 'closed';
  #lockedDir: string | undefined;
  readonly #batches: Batch[] = [];
  #writing = false;
  #flushTimer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  /** Buffers of written batches, reused (two are enough: one in flight, one filling). */
  readonly #spare: Buffer[] = [];
  #idle: (() => void) | undefined;
  #lastError: Error | undefined;
  readonly #positions = new Map<string, number>();
  #positionsDirty = false;
  #positionsTimer: NodeJS.Timeout | undefined;
  #positionsWrite: Promise<void> = Promise.resolve();
  #closePromise: Promise<void> | undefined;
  // Bound once: the only callbacks the commit path schedules.
  readonly #kick = (): void => {
    this.#flushTimer = undefined;
    void this.#writeLoop();
  };
  readonly #flushPositionsTimer = (): void => {
    this.#positionsTimer = undefined;
    void this.#persistPositions();
  };

  constructor(options: FileStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir.length === 0) throw new TypeError('FileStore needs a dir');
    this.#dir = path.resolve(options.dir);
    this.#fsync = options.fsync ?? 'batch';
    this.#segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.#maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
    this.#batchDelayMs = Math.min(5, Math.max(0, options.batchDelayMs ?? 0));
    this.#retention = { ...options.retention };
    this.#indexEvery = options.indexEveryBytes ?? 64 * 1024;
    this.#positionsFlushMs = options.positionsFlushMs ?? 100;
    this.#logger = options.logger ?? NOOP_LOGGER;
    this.#onSync = options.onSync;
  }

  /** The directory of the log. */
  get dir(): string {
    return this.#dir;
  }

  get fsync(): FsyncMode {
    return this.#fsync;
  }

  get firstSequence(): number {
    const s = this.#segments[0];
    return s === undefined ? this.#last + 1 : Math.min(s.first, this.#last + 1);
  }

  get lastSequence(): number {
    return this.#last;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Number of segment files. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  async open(onCommit: CommitListener): Promise<OpenReport> {
    if (this.#state !== 'closed') throw new EventError(EVENT_ERROR_CODES.INVALID_STATE, `file store ${this.#dir} is already open`);
    await mkdir(this.#dir, { recursive: true });
    await this.#lock();
    try {
      const repairs: RepairRecord[] = [];
      const names = (await readdir(this.#dir)).filter((n) => SEGMENT_RE.test(n)).sort();
      this.#segments = [];
      for (const name of names) {
        const file = path.join(this.#dir, name);
        const st = await stat(file);
        this.#segments.push({ file, first: Number(SEGMENT_RE.exec(name)![1]), last: 0, size: st.size, mtimeMs: st.mtimeMs, index: undefined });
      }
      for (let i = 0; i < this.#segments.length - 1; i++) {
        const s = this.#segments[i]!;
        s.last = this.#segments[i + 1]!.first - 1;
        s.index = await this.#loadIndex(s);
      }
      if (this.#segments.length === 0) {
        this.#segments.push(await this.#createSegment(1));
      } else {
        await this.#recoverTail(this.#segments[this.#segments.length - 1]!, repairs);
      }
      const active = this.#segments[this.#segments.length - 1]!;
      this.#last = active.last;
      this.#next = this.#last + 1;
      this.#bytes = this.#segments.reduce((sum, s) => sum + s.size, 0);
      this.#fd = await openAsync(active.file, 'r+');
      await this.#loadPositions();
      this.#prefix = newIdPrefix();
      this.#onCommit = onCommit;
      this.#state = 'open';
      await this.#applyRetention();
      return { firstSequence: this.firstSequence, lastSequence: this.#last, repairs };
    } catch (error) {
      if (this.#fd >= 0) await closeAsync(this.#fd).catch(() => undefined);
      this.#fd = -1;
      await this.#unlock();
      throw error;
    }
  }

  append(event: PendingEvent): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(storeFailed('append', new Error(`file store ${this.#dir} is ${this.#state}`)));
    const seq = this.#next;
    event.sequence = seq;
    event.id = this.#prefix + '-' + seq;
    let payload: string;
    try {
      payload = JSON.stringify(event);
    } catch (error) {
      return Promise.reject(storeFailed('append', error, { sequence: seq }));
    }
    this.#next = seq + 1;
    let batch = this.#batches.length > (this.#writing ? 1 : 0) ? this.#batches[this.#batches.length - 1] : undefined;
    // 'always' gives every event its own batch: its own write and fsync.
    if (batch === undefined || this.#fsync === 'always' || batch.used >= this.#maxBatchBytes) batch = this.#newBatch();
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: reserve that, then frame in place.
    const need = batch.used + RECORD_HEADER_BYTES + payload.length * 3;
    if (need > batch.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, batch.buf.length * 2));
      batch.buf.copy(bigger, 0, 0, batch.used);
      batch.buf = bigger;
    }
    const buf = batch.buf;
    const at = batch.used;
    const n = buf.write(payload, at + RECORD_HEADER_BYTES, 'utf8');
    buf.writeUInt32LE(n, at);
    buf.writeUInt32LE(crc32(buf, at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + n), at + 4);
    batch.used = at + RECORD_HEADER_BYTES + n;
    batch.offsets.push(at);
    batch.events.push(event);
    if (!this.#writing && this.#flushTimer === undefined) {
      this.#flushTimer = this.#fsync === 'batch' && this.#batchDelayMs > 0 ? setTimeout(this.#kick, this.#batchDelayMs) : setImmediate(this.#kick);
    }
    return batch.promise;
  }

  async *read(range: ReadRange): AsyncIterable<readonly StoredEvent[]> {
    const pageSize = Math.max(1, range.pageSize ?? 1024);
    const to = Math.min(range.to ?? this.#last, this.#last);
    let seq = Math.max(range.from, this.firstSequence, 1);
    while (seq <= to) {
      const segIndex = this.#segmentFor(seq);
      if (segIndex < 0) return;
      const seg = this.#segments[segIndex]!;
      const [startSeq, startOffset] = await this.#seek(seg, seq);
      let fd: number;
      try {
        fd = await openAsync(seg.file, 'r');
      } catch (error) {
        // Retention may have deleted it between the lookup and the open: continue with what is left.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && this.#segments.indexOf(seg) < 0) {
          seq = Math.max(seq, this.firstSequence);
          continue;
        }
        throw storeFailed('read', error, { file: seg.file });
      }
      try {
        const cursor = new RecordCursor(fd, startOffset, seg.size);
        let expected = startSeq;
        let page: StoredEvent[] = [];
        while (expected <= to && expected <= seg.last) {
          const status = cursor.next(true);
          if (status === 'need-more') {
            await cursor.fill();
            continue;
          }
          if (status === 'end') break;
          if (status !== 'ok') {
            throw storeFailed('read', new Error(`corrupt record (${status}) in ${path.basename(seg.file)} at offset ${cursor.position}`), { file: seg.file });
          }
          if (expected >= seq) {
            const event = JSON.parse(cursor.buffer.toString('utf8', cursor.payloadStart, cursor.payloadEnd)) as StoredEvent;
            page.push(event);
            if (page.length >= pageSize) {
              yield page;
              page = [];
            }
          }
          expected++;
        }
        if (page.length > 0) yield page;
        seq = Math.max(expected, seg.last + 1);
      } finally {
        await closeAsync(fd).catch(() => undefined);
      }
    }
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const seq = sequenceOfId(id);
    if (Number.isNaN(seq) || seq < this.firstSequence || seq > this.#last) return undefined;
    for await (const page of this.read({ from: seq, to: seq, pageSize: 1 })) {
      const e = page[0];
      return e !== undefined && e.id === id ? e : undefined;
    }
    return undefined;
  }

  loadPosition(name: string): number {
    return this.#positions.get(name) ?? 0;
  }

  savePosition(name: string, sequence: number): void {
    if (this.#positions.get(name) === sequence) return;
    this.#positions.set(name, sequence);
    this.#positionsDirty = true;
    if (this.#positionsTimer === undefined && this.#state === 'open') this.#positionsTimer = setTimeout(this.#flushPositionsTimer, this.#positionsFlushMs);
  }

  async checkWritable(): Promise<void> {
    if (this.#state !== 'open') throw new Error(`file store is ${this.#state}`);
    await access(this.#dir, constants.W_OK);
    await access(this.#segments[this.#segments.length - 1]!.file, constants.W_OK);
  }

  /** The last write or sync error, if the most recent batch failed. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer as NodeJS.Timeout);
      clearImmediate(this.#flushTimer as NodeJS.Immediate);
      this.#flushTimer = undefined;
    }
    // Let every accepted append reach the disk before the file closes.
    if (this.#batches.length > 0 || this.#writing) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        if (!this.#writing) void this.#writeLoop();
      });
    }
    try {
      if (this.#fd >= 0) {
        await this.#sync();
        await closeAsync(this.#fd);
      }
    } finally {
      this.#fd = -1;
      if (this.#positionsTimer !== undefined) clearTimeout(this.#positionsTimer);
      this.#positionsTimer = undefined;
      await this.#persistPositions().catch((error: unknown) => this.#logger.error({ err: error }, 'could not save durable positions on close'));
      this.#onCommit = undefined;
      this.#state = 'closed';
      await this.#unlock();
    }
  }

  #newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const buf = this.#spare.pop() ?? Buffer.allocUnsafe(this.#fsync === 'always' ? 4096 : 256 * 1024);
    const batch: Batch = { events: [], buf, used: 0, offsets: [], promise, resolve, reject };
    this.#batches.push(batch);
    return batch;
  }

  async #writeLoop(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#batches.length > 0) {
        const batch = this.#batches[0]!;
        try {
          await this.#writeBatch(batch);
        } catch (error) {
          this.#failFrom(batch, error);
          continue;
        }
        this.#batches.shift();
        this.#lastError = undefined;
        const onCommit = this.#onCommit;
        if (onCommit !== undefined) for (const e of batch.events) onCommit(e as StoredEvent);
        batch.resolve();
      }
    } finally {
      this.#writing = false;
      const idle = this.#idle;
      this.#idle = undefined;
      idle?.();
    }
  }

  /** A failed batch fails every batch queued behind it too: their sequences are handed out again. */
  #failFrom(batch: Batch, error: unknown): void {
    const failure = storeFailed('append', error, { dir: this.#dir, fromSequence: batch.events[0]?.sequence });
    this.#lastError = failure;
    this.#logger.error({ err: error, dir: this.#dir }, `event store write failed; ${this.#batches.reduce((n, b) => n + b.events.length, 0)} pending event(s) rejected`);
    const failed = this.#batches.splice(0);
    this.#next = this.#last + 1;
    for (const b of failed) b.reject(failure);
  }

  async #writeBatch(batch: Batch): Promise<void> {
    const { offsets } = batch;
    const n = offsets.length;
    // A batch is split where a segment fills up; each part is one write() and one sync.
    let i = 0;
    while (i < n) {
      let active = this.#segments[this.#segments.length - 1]!;
      let j = i;
      while (j < n) {
        const end = j + 1 < n ? offsets[j + 1]! : batch.used;
        // An empty segment takes at least one record, however large.
        if (j > i || active.size > HEADER_BYTES) {
          if (active.size + (end - offsets[i]!) > this.#segmentBytes) break;
        }
        j++;
      }
      if (j === i) {
        active = await this.#rollover();
        continue;
      }
      await this.#writeRecords(active, batch, i, j);
      i = j;
    }
    if (batch.buf.length <= 8 * 1024 * 1024 && this.#spare.length < 2) this.#spare.push(batch.buf);
  }

  /** Writes records [from, to) of the batch at the segment's end and syncs. */
  async #writeRecords(active: Segment, batch: Batch, from: number, to: number): Promise<void> {
    const { offsets, events, buf } = batch;
    const start = offsets[from]!;
    const end = to < offsets.length ? offsets[to]! : batch.used;
    const total = end - start;
    const index = active.index ?? (active.index = { seqs: [], offsets: [] });
    const idxSeqs: number[] = [];
    const idxOffsets: number[] = [];
    let lastIndexed = index.offsets.length > 0 ? index.offsets[index.offsets.length - 1]! : -Infinity;
    for (let i = from; i < to; i++) {
      const fileOffset = active.size + (offsets[i]! - start);
      if (fileOffset - lastIndexed >= this.#indexEvery) {
        idxSeqs.push(events[i]!.sequence);
        idxOffsets.push(fileOffset);
        lastIndexed = fileOffset;
      }
    }
    const before = active.size;
    try {
      let written = 0;
      while (written < total) {
        // A small batch goes to the page cache synchronously (tens of µs): that saves a thread-pool
        // round trip per group commit, which on a busy machine costs more than the copy. Large
        // batches stay asynchronous so the event loop never stalls on them.
        const bytesWritten =
          total <= SYNC_WRITE_BYTES
            ? writeSync(this.#fd, buf, start + written, total - written, before + written)
            : (await writeAsync(this.#fd, buf, start + written, total - written, before + written)).bytesWritten;
        written += bytesWritten;
      }
      if (this.#fsync !== 'never') await this.#sync();
    } catch (error) {
      // Cut whatever part reached the file, so the log ends on a whole record.
      await ftruncateAsync(this.#fd, before).catch(() => undefined);
      throw error;
    }
    active.size = before + total;
    active.last = events[to - 1]!.sequence;
    active.mtimeMs = Date.now();
    for (let i = 0; i < idxSeqs.length; i++) {
      index.seqs.push(idxSeqs[i]!);
      index.offsets.push(idxOffsets[i]!);
    }
    this.#bytes += total;
    this.#last = active.last;
  }

  async #sync(): Promise<void> {
    const began = performance.now();
    await fdatasyncAsync(this.#fd);
    this.#onSync?.((performance.now() - began) / 1000);
  }

  async #rollover(): Promise<Segment> {
    const old = this.#segments[this.#segments.length - 1]!;
    if (this.#fsync === 'never') await this.#sync();
    await closeAsync(this.#fd);
    this.#fd = -1;
    await this.#saveIndex(old);
    const next = await this.#createSegment(old.last + 1);
    this.#segments.push(next);
    this.#fd = await openAsync(next.file, 'r+');
    this.#bytes += next.size;
    this.#logger.debug({ sealed: path.basename(old.file), next: path.basename(next.file) }, 'event store segment rolled over');
    await this.#applyRetention();
    return next;
  }

  async #createSegment(first: number): Promise<Segment> {
    const file = path.join(this.#dir, `${String(first).padStart(20, '0')}.log`);
    const fd = await openAsync(file, 'w');
    try {
      await writeAsync(fd, MAGIC, 0, HEADER_BYTES, 0);
      await fdatasyncAsync(fd);
    } finally {
      await closeAsync(fd);
    }
    await this.#syncDir();
    return { file, first, last: first - 1, size: HEADER_BYTES, mtimeMs: Date.now(), index: { seqs: [], offsets: [] } };
  }

  /** Makes a created or deleted file name durable (a new segment must survive a crash too). */
  async #syncDir(): Promise<void> {
    if (this.#fsync === 'never') return;
    try {
      const fd = await openAsync(this.#dir, 'r');
      try {
        await fdatasyncAsync(fd);
      } finally {
        await closeAsync(fd);
      }
    } catch {
      // Some platforms cannot sync a directory; the data files themselves are synced.
    }
  }

  /** Scans the active segment, cuts a torn or corrupt tail, rebuilds its index. */
  async #recoverTail(seg: Segment, repairs: RepairRecord[]): Promise<void> {
    const fd = await openAsync(seg.file, 'r+');
    try {
      const { size } = await fstatAsync(fd);
      const name = path.basename(seg.file);
      const header = Buffer.alloc(HEADER_BYTES);
      if (size < HEADER_BYTES) {
        await ftruncateAsync(fd, 0);
        await writeAsync(fd, MAGIC, 0, HEADER_BYTES, 0);
        await fdatasyncAsync(fd);
        if (size > 0) repairs.push({ file: name, offset: 0, droppedBytes: size, reason: 'segment header torn' });
        seg.size = HEADER_BYTES;
        seg.last = seg.first - 1;
        seg.index = { seqs: [], offsets: [] };
        return;
      }
      await readAsync(fd, header, 0, HEADER_BYTES, 0);
      if (!header.equals(MAGIC)) {
        throw new EventError(EVENT_ERROR_CODES.STORE_FAILED, `${seg.file} is not an event segment (bad header); refusing to touch it`, { severity: 'high' });
      }
      const cursor = new RecordCursor(fd, HEADER_BYTES, size);
      const index = { seqs: [] as number[], offsets: [] as number[] };
      let lastIndexed = -Infinity;
      let expected = seg.first;
      let reason: string | undefined;
      let badAt = size;
      for (;;) {
        const status = cursor.next(true);
        if (status === 'need-more') {
          await cursor.fill();
          continue;
        }
        if (status === 'end') break;
        if (status !== 'ok') {
          reason = status === 'torn' ? 'torn record (incomplete write)' : status === 'crc' ? 'CRC mismatch' : 'impossible record length';
          badAt = cursor.position;
          break;
        }
        // The CRC proves each record whole; parsing every payload would double the cost of
        // opening a large segment, so only the first and the last are checked for their sequence.
        if (expected === seg.first || cursor.position + RECORD_HEADER_BYTES > size) {
          const problem = sequenceProblem(cursor, expected);
          if (problem !== undefined) {
            reason = problem;
            badAt = cursor.recordOffset;
            break;
          }
        }
        if (cursor.recordOffset - lastIndexed >= this.#indexEvery) {
          index.seqs.push(expected);
          index.offsets.push(cursor.recordOffset);
          lastIndexed = cursor.recordOffset;
        }
        expected++;
      }
      const good = reason === undefined ? size : badAt;
      if (reason !== undefined) {
        await ftruncateAsync(fd, good);
        await fdatasyncAsync(fd);
        repairs.push({ file: name, offset: good, droppedBytes: size - good, reason });
      }
      seg.size = good;
      seg.last = expected - 1;
      seg.index = index;
    } finally {
      await closeAsync(fd);
    }
  }

  /** Index of the segment holding `seq`, or -1. */
  #segmentFor(seq: number): number {
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid]!.first <= seq) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && seq <= segs[found]!.last ? found : -1;
  }

  /** The closest indexed record at or before `seq`: [its sequence, its offset]. */
  async #seek(seg: Segment, seq: number): Promise<[number, number]> {
    if (seg.index === undefined) seg.index = await this.#buildIndex(seg);
    const { seqs, offsets } = seg.index;
    let lo = 0;
    let hi = seqs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (seqs[mid]! <= seq) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? [seg.first, HEADER_BYTES] : [seqs[found]!, offsets[found]!];
  }

  /** Walks a sealed segment's record headers (no parsing) to rebuild its sparse index. */
  async #buildIndex(seg: Segment): Promise<{ seqs: number[]; offsets: number[] }> {
    const fd = await openAsync(seg.file, 'r');
    const index = { seqs: [] as number[], offsets: [] as number[] };
    try {
      const cursor = new RecordCursor(fd, HEADER_BYTES, seg.size);
      let seq = seg.first;
      let lastIndexed = -Infinity;
      for (;;) {
        const status = cursor.skip();
        if (status === 'need-more') {
          await cursor.fill();
          continue;
        }
        if (status !== 'ok') break;
        if (cursor.recordOffset - lastIndexed >= this.#indexEvery) {
          index.seqs.push(seq);
          index.offsets.push(cursor.recordOffset);
          lastIndexed = cursor.recordOffset;
        }
        seq++;
      }
    } finally {
      await closeAsync(fd);
    }
    await this.#saveIndex({ ...seg, index });
    return index;
  }

  async #loadIndex(seg: Segment): Promise<Segment['index']> {
    try {
      const raw = JSON.parse(await readFile(seg.file.replace(/\.log$/, '.idx'), 'utf8')) as { size?: unknown; seqs?: unknown; offsets?: unknown };
      if (raw.size !== seg.size || !Array.isArray(raw.seqs) || !Array.isArray(raw.offsets) || raw.seqs.length !== raw.offsets.length) return undefined;
      return { seqs: raw.seqs as number[], offsets: raw.offsets as number[] };
    } catch {
      return undefined;
    }
  }

  async #saveIndex(seg: Segment): Promise<void> {
    if (seg.index === undefined) return;
    try {
      await writeFile(seg.file.replace(/\.log$/, '.idx'), JSON.stringify({ size: seg.size, seqs: seg.index.seqs, offsets: seg.index.offsets }));
    } catch (error) {
      this.#logger.warn({ err: error, file: seg.file }, 'could not write a segment index (it is rebuilt when needed)');
    }
  }

  /** Deletes whole sealed segments that are too old or beyond the byte budget, oldest first. */
  async #applyRetention(): Promise<void> {
    const { maxAgeMs, maxBytes } = this.#retention;
    if (maxAgeMs === undefined && maxBytes === undefined) return;
    const now = Date.now();
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const tooOld = maxAgeMs !== undefined && now - oldest.mtimeMs > maxAgeMs;
      const tooBig = maxBytes !== undefined && this.#bytes > maxBytes;
      if (!tooOld && !tooBig) break;
      this.#segments.shift();
      this.#bytes -= oldest.size;
      await unlink(oldest.file).catch(() => undefined);
      await unlink(oldest.file.replace(/\.log$/, '.idx')).catch(() => undefined);
      this.#logger.info(
        { file: path.basename(oldest.file), first: oldest.first, last: oldest.last, reason: tooOld ? 'maxAgeMs' : 'maxBytes' },
        `event store retention deleted events ${oldest.first}..${oldest.last}`,
      );
    }
    await this.#syncDir();
  }

  async #loadPositions(): Promise<void> {
    this.#positions.clear();
    const file = path.join(this.#dir, 'positions.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return;
    }
    try {
      const raw = JSON.parse(text) as Record<string, unknown>;
      for (const [name, seq] of Object.entries(raw)) if (typeof seq === 'number' && Number.isSafeInteger(seq)) this.#positions.set(name, Math.min(seq, this.#last));
    } catch (error) {
      this.#logger.error({ err: error, file }, 'durable positions file is unreadable; durable subscriptions restart from their `from` option');
    }
  }

  #persistPositions(): Promise<void> {
    if (!this.#positionsDirty) return this.#positionsWrite;
    this.#positionsDirty = false;
    const snapshot = JSON.stringify(Object.fromEntries(this.#positions));
    // Writes are chained so an older snapshot never lands after a newer one.
    this.#positionsWrite = this.#positionsWrite.then(async () => {
      const file = path.join(this.#dir, 'positions.json');
      const tmp = `${file}.tmp`;
      const fd = await openAsync(tmp, 'w');
      try {
        await writeAsync(fd, snapshot, 0, 'utf8');
        if (this.#fsync !== 'never') await fdatasyncAsync(fd);
      } finally {
        await closeAsync(fd);
      }
      await rename(tmp, file);
    }).catch((error: unknown) => {
      this.#positionsDirty = true;
      this.#logger.error({ err: error }, 'could not save durable subscription positions');
    });
    return this.#positionsWrite;
  }

  async #lock(): Promise<void> {
    const dir = await realpath(this.#dir);
    if (OPEN_DIRS.has(dir)) {
      throw new EventError(EVENT_ERROR_CODES.STORE_LOCKED, `event store ${dir} is already open in this process`, { context: { dir } });
    }
    const lockFile = path.join(dir, 'LOCK');
    try {
      const holder = Number((await readFile(lockFile, 'utf8')).trim());
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new EventError(EVENT_ERROR_CODES.STORE_LOCKED, `event store ${dir} is locked by live process ${holder}`, { context: { dir, pid: holder } });
      }
    } catch (error) {
      if (error instanceof EventError) throw error;
      // No lock file, or an unreadable one: take it.
    }
    await writeFile(lockFile, String(process.pid));
    OPEN_DIRS.add(dir);
    this.#lockedDir = dir;
  }

  async #unlock(): Promise<void> {
    const dir = this.#lockedDir;
    if (dir === undefined) return;
    this.#lockedDir = undefined;
    OPEN_DIRS.delete(dir);
    await unlink(path.join(dir, 'LOCK')).catch(() => undefined);
  }
}

/** Why the record under `cursor` is not event `expected`, or undefined when it is. */
function sequenceProblem(cursor: RecordCursor, expected: number): string | undefined {
  let parsed: { sequence?: unknown };
  try {
    parsed = JSON.parse(cursor.buffer.toString('utf8', cursor.payloadStart, cursor.payloadEnd)) as { sequence?: unknown };
  } catch {
    return 'unparseable payload';
  }
  return parsed.sequence === expected ? undefined : `sequence ${String(parsed.sequence)} where ${expected} was expected`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
