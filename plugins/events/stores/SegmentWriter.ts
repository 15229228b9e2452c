/**
 * The file store's write path: sequence assignment, framing, group commit.
 *
 * `append` assigns the sequence and id, encodes and frames the record into the open batch at once
 * (so encoding overlaps the previous batch's fsync) and returns the batch's promise. Appends made
 * while a write is in flight wait together and share the next write() and fdatasync(); `fsync:
 * 'always'` gives each event its own batch; `never` skips the sync. A failed write cuts what
 * reached the file, rejects its batch and every batch queued behind it (their sequences were never
 * written, so they are handed out again).
 */
import { writeSync } from 'node:fs';
import path from 'node:path';
import { EventError } from '../../../sdk/index.js';
import { EVENT_ERROR_CODES, storeFailed } from '../errors.js';
import type { BusLogger } from '../SubscriberHost.js';
import type { StoredEvent } from '../types.js';
import { crc32 } from './crc32.js';
import type { CommitListener, PendingEvent } from './EventStore.js';
import { RECORD_HEADER_BYTES } from './RecordCursor.js';
import { HEADER_BYTES } from './SegmentScan.js';
import type { Segment } from './SegmentReader.js';
import { WriteFailureLog } from './WriteFailureLog.js';
import { openAsync, closeAsync, writeAsync, fdatasyncAsync, ftruncateAsync } from './fdAsync.js';


/** Batches up to this size are written with writeSync (see #writeRecords). */
const SYNC_WRITE_BYTES = 256 * 1024;

interface Batch {
  readonly events: PendingEvent[];
  /** The framed records. */
  buf: Buffer;
  used: number;
  /** Start of each record in `buf`. */
  readonly offsets: number[];
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

export interface SegmentWriterOptions {
  /** The store's segment list (shared; the last one is the active segment). */
  readonly segments: Segment[];
  readonly dir: string;
  readonly fsync: 'always' | 'batch' | 'never';
  readonly segmentBytes: number;
  readonly maxBatchBytes: number;
  readonly batchDelayMs: number;
  readonly maxEventBytes: number;
  readonly indexEvery: number;
  readonly logger: BusLogger;
  readonly writeErrorLogIntervalMs: number;
  readonly onSync?: (seconds: number) => void;
  /** Makes sure sequences through `through` are covered by the durable high-water mark. */
  reserve(through: number): Promise<void>;
  /** Seals the active segment and returns the new one (already in `segments`). */
  rollover(): Promise<Segment>;
}

export class SegmentWriter {
  readonly #o: SegmentWriterOptions;
  readonly #failures: WriteFailureLog;
  /** Listener for committed events, in sequence order. */
  onCommit: CommitListener | undefined;
  /** Bytes of all segments. */
  bytes = 0;
  #prefix = '';
  #fd = -1;
  #next = 1;
  #last = 0;
  readonly #batches: Batch[] = [];
  #writing = false;
  #flushTimer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  /** Buffers of written batches, reused (two are enough: one in flight, one filling). */
  readonly #spare: Buffer[] = [];
  #idle: (() => void) | undefined;
  #lastError: Error | undefined;
  // Bound once: the only callback the commit path schedules.
  readonly #kick = (): void => {
    this.#flushTimer = undefined;
    void this.#writeLoop();
  };

  constructor(options: SegmentWriterOptions) {
    this.#o = options;
    this.#failures = new WriteFailureLog(options.logger, options.writeErrorLogIntervalMs);
  }

  /** The last committed sequence. */
  get last(): number {
    return this.#last;
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Starts over after an open: `last` committed, `next` to hand out, `bytes` on disk, a fresh id prefix. */
  reset(last: number, next: number, bytes: number, prefix: string): void {
    this.#last = last;
    this.#next = next;
    this.bytes = bytes;
    this.#prefix = prefix;
    this.#lastError = undefined;
  }

  /** A read-only store found more committed events on disk. */
  advance(last: number, bytes: number): void {
    this.#last = last;
    this.#next = last + 1;
    this.bytes = bytes;
  }

  async openActive(): Promise<void> {
    this.#fd = await openAsync(this.#active().file, 'r+');
  }

  async syncActive(): Promise<void> {
    if (this.#fd >= 0) await this.#sync();
  }

  async closeActive(): Promise<void> {
    const fd = this.#fd;
    this.#fd = -1;
    if (fd >= 0) await closeAsync(fd);
  }

  append(event: PendingEvent): Promise<void> {
    const seq = this.#next;
    event.sequence = seq;
    event.id = this.#prefix + '-' + seq;
    let payload: string;
    try {
      payload = JSON.stringify(event);
    } catch (error) {
      return this.#refuse(event, storeFailed('append', error, { sequence: seq }));
    }
    // A UTF-16 unit takes at least one UTF-8 byte: a payload this long is too large whatever it holds.
    if (payload.length > this.#o.maxEventBytes) return this.#refuse(event, this.#tooLarge(event, Buffer.byteLength(payload)));
    let batch = this.#batches.length > (this.#writing ? 1 : 0) ? this.#batches[this.#batches.length - 1] : undefined;
    // 'always' gives every event its own batch: its own write and fsync.
    if (batch === undefined || this.#o.fsync === 'always' || batch.used >= this.#o.maxBatchBytes) batch = this.#newBatch();
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
    if (n > this.#o.maxEventBytes) {
      if (batch.events.length === 0) this.#dropEmpty(batch);
      return this.#refuse(event, this.#tooLarge(event, n));
    }
    this.#next = seq + 1;
    buf.writeUInt32LE(n, at);
    buf.writeUInt32LE(crc32(buf, at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + n), at + 4);
    batch.used = at + RECORD_HEADER_BYTES + n;
    batch.offsets.push(at);
    batch.events.push(event);
    if (!this.#writing && this.#flushTimer === undefined) {
      this.#flushTimer = this.#o.fsync === 'batch' && this.#o.batchDelayMs > 0 ? setTimeout(this.#kick, this.#o.batchDelayMs) : setImmediate(this.#kick);
    }
    return batch.promise;
  }

  /** Resolves once every accepted append has been written (or failed). */
  async drain(): Promise<void> {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer as NodeJS.Timeout);
      clearImmediate(this.#flushTimer as NodeJS.Immediate);
      this.#flushTimer = undefined;
    }
    if (this.#batches.length === 0 && !this.#writing) return;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
      if (!this.#writing) void this.#writeLoop();
    });
  }

  #refuse(event: PendingEvent, error: Error): Promise<void> {
    event.sequence = 0;
    event.id = '';
    return Promise.reject(error);
  }

  #tooLarge(event: PendingEvent, bytes: number): EventError {
    return new EventError(
      EVENT_ERROR_CODES.TOO_LARGE,
      `event '${event.type}' encodes to ${bytes} bytes, over the store's maxEventBytes (${this.#o.maxEventBytes}); store large payloads elsewhere and publish a reference`,
      { context: { type: event.type, bytes, maxEventBytes: this.#o.maxEventBytes } },
    );
  }

  #dropEmpty(batch: Batch): void {
    const i = this.#batches.lastIndexOf(batch);
    if (i >= 0) this.#batches.splice(i, 1);
    batch.resolve();
  }

  #active(): Segment {
    return this.#o.segments[this.#o.segments.length - 1]!;
  }

  #newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const buf = this.#spare.pop() ?? Buffer.allocUnsafe(this.#o.fsync === 'always' ? 4096 : 256 * 1024);
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
          await this.#o.reserve(batch.events[batch.events.length - 1]!.sequence);
          await this.#writeBatch(batch);
        } catch (error) {
          this.#failFrom(batch, error);
          continue;
        }
        this.#batches.shift();
        if (this.#lastError !== undefined) {
          this.#lastError = undefined;
          this.#failures.succeeded();
        }
        const onCommit = this.onCommit;
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

  /** A failed batch fails every batch queued behind it too: their sequences (never written) are handed out again. */
  #failFrom(batch: Batch, error: unknown): void {
    const failure = storeFailed('append', error, { dir: this.#o.dir, fromSequence: batch.events[0]?.sequence });
    this.#lastError = failure;
    const failed = this.#batches.splice(0);
    this.#failures.failed(error, { dir: this.#o.dir }, failed.reduce((n, b) => n + b.events.length, 0));
    this.#next = batch.events[0]!.sequence;
    for (const b of failed) b.reject(failure);
  }

  async #writeBatch(batch: Batch): Promise<void> {
    const { offsets } = batch;
    const n = offsets.length;
    // A batch is split where a segment fills up; each part is one write() and one sync.
    let i = 0;
    while (i < n) {
      let active = this.#active();
      let j = i;
      while (j < n) {
        const end = j + 1 < n ? offsets[j + 1]! : batch.used;
        // An empty segment takes at least one record, however large.
        if (j > i || active.size > HEADER_BYTES) {
          if (active.size + (end - offsets[i]!) > this.#o.segmentBytes) break;
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

  async #rollover(): Promise<Segment> {
    if (this.#o.fsync === 'never') await this.#sync();
    await this.closeActive();
    const next = await this.#o.rollover();
    this.#fd = await openAsync(next.file, 'r+');
    this.bytes += next.size;
    this.#o.logger.debug({ next: path.basename(next.file) }, 'event store writes to a new segment');
    return next;
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
      if (fileOffset - lastIndexed >= this.#o.indexEvery) {
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
      if (this.#o.fsync !== 'never') await this.#sync();
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
    this.bytes += total;
    this.#last = active.last;
  }

  async #sync(): Promise<void> {
    const began = performance.now();
    await fdatasyncAsync(this.#fd);
    this.#o.onSync?.((performance.now() - began) / 1000);
  }
}
