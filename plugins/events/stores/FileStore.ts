/**
 * The file store: an append-only log in segment files, the embedded default for durable setups.
 *
 * Layout of `dir`: `<first sequence, 20 digits>.log` segments (an 8-byte magic header, then
 * records `[u32 LE length][u32 LE CRC-32][JSON payload]`), `<same>.idx` sparse indexes of sealed
 * segments (a cache, rebuilt when missing or wrong), `MANIFEST` (sealed segments' ranges and sizes,
 * the sequence high-water mark, ranges skipped on purpose; see Manifest.ts), `positions.json`
 * (durable subscription positions) and `LOCK` (see DirectoryLock.ts).
 *
 * This class ties the parts together: the store contract, segment creation and rollover, the
 * manifest, retention and the read-only refresh. The parts, one job each: DirectoryLock (the
 * exclusive lock), LogRecovery (checking and recovering the log on open), SegmentWriter (appends,
 * group commit), SegmentReader (reads, seeks, indexes), SegmentScan (walking records),
 * PositionStore (durable positions), Manifest (what the log promised).
 */
import { access, constants, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { EventError } from '../../../sdk/index.js';
import { EVENT_ERROR_CODES, storeFailed } from '../errors.js';
import type { BusLogger } from '../SubscriberHost.js';
import type { StoredEvent } from '../types.js';
import { DirectoryLock, type DirectoryLockOptions } from './DirectoryLock.js';
import { newIdPrefix, sequenceOfId, type CommitListener, type EventStore, type OpenReport, type PendingEvent, type ReadRange } from './EventStore.js';
import { isSkipped, readManifest, syncDir, writeManifest, type SkippedRange } from './Manifest.js';
import { PositionStore } from './PositionStore.js';
import { MAX_RECORD_BYTES } from './RecordCursor.js';
import { LogRecovery, SEGMENT_RE } from './LogRecovery.js';
import { HEADER_BYTES, MAGIC, scanRecords } from './SegmentScan.js';
import { SegmentReader, type Segment } from './SegmentReader.js';
import { SegmentWriter } from './SegmentWriter.js';
import { openAsync, closeAsync, writeAsync, fdatasyncAsync, fstatAsync } from './fdAsync.js';


/** Sequences reserved per MANIFEST write: one small durable write per this many events. */
const RESERVE_BLOCK = 65_536;

export type FsyncMode = 'always' | 'batch' | 'never';

export interface FileStoreOptions {
  /** Directory of the log (created if missing, unless `readOnly`). */
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
  /** An event encoding to more bytes than this is refused with `EVENT_TOO_LARGE` (default 4 MiB). */
  readonly maxEventBytes?: number;
  /**
   * What opening does with damage that cutting the tail cannot fix without losing acknowledged
   * events: `fail` (default) refuses to open with `EVENT_STORE_CORRUPT`; `quarantine` moves the
   * damaged segment to `<dir>/quarantine/`, records its range as skipped, and goes on.
   */
  readonly onCorruption?: 'fail' | 'quarantine';
  /** Open without the lock, repair nothing, never write; appends reject with `EVENT_STORE_READ_ONLY`. */
  readonly readOnly?: boolean;
  /** Heartbeat and staleness bound of the directory lock. */
  readonly lock?: DirectoryLockOptions;
  /** At most one error line per this many ms while writes keep failing (default 10 s). */
  readonly writeErrorLogIntervalMs?: number;
  readonly logger?: BusLogger;
  /** Observes every fsync's duration in seconds (the plugin feeds a histogram). */
  readonly onSync?: (seconds: number) => void;
}

export const DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024;
const NOOP_LOGGER: BusLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class FileStore implements EventStore {
  readonly kind = 'file';
  readonly #dir: string;
  readonly #fsync: FsyncMode;
  readonly #segmentBytes: number;
  readonly #retention: { maxAgeMs?: number; maxBytes?: number };
  readonly #indexEvery: number;
  readonly #onCorruption: 'fail' | 'quarantine';
  readonly #readOnly: boolean;
  readonly #logger: BusLogger;
  readonly #lock: DirectoryLock;
  readonly #positions: PositionStore;
  readonly #reader: SegmentReader;
  readonly #writer: SegmentWriter;
  readonly #segments: Segment[] = [];
  #reservedThrough = 0;
  #skipped: SkippedRange[] = [];
  #start = 1;
  #state: 'closed' | 'open' | 'closing' = 'closed';
  #lockLost: string | undefined;
  #closePromise: Promise<void> | undefined;

  constructor(options: FileStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir.length === 0) throw new TypeError('FileStore needs a dir');
    const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    if (!Number.isSafeInteger(maxEventBytes) || maxEventBytes < 1 || maxEventBytes > MAX_RECORD_BYTES) {
      throw new RangeError(`FileStore maxEventBytes must be an integer in 1..${MAX_RECORD_BYTES}, got ${maxEventBytes}`);
    }
    this.#dir = path.resolve(options.dir);
    this.#fsync = options.fsync ?? 'batch';
    this.#segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.#retention = { ...options.retention };
    this.#indexEvery = options.indexEveryBytes ?? 64 * 1024;
    this.#onCorruption = options.onCorruption ?? 'fail';
    this.#readOnly = options.readOnly === true;
    this.#logger = options.logger ?? NOOP_LOGGER;
    this.#lock = new DirectoryLock(this.#dir, options.lock);
    this.#positions = new PositionStore(this.#dir, {
      flushMs: options.positionsFlushMs ?? 100,
      sync: this.#fsync !== 'never',
      persist: !this.#readOnly,
      logger: this.#logger,
    });
    this.#reader = new SegmentReader(this.#segments, this.#indexEvery, (s) => this.#saveIndexQuietly(s));
    this.#writer = new SegmentWriter({
      segments: this.#segments,
      fsync: this.#fsync,
      segmentBytes: this.#segmentBytes,
      maxBatchBytes: options.maxBatchBytes ?? 4 * 1024 * 1024,
      batchDelayMs: Math.min(5, Math.max(0, options.batchDelayMs ?? 0)),
      maxEventBytes,
      indexEvery: this.#indexEvery,
      logger: this.#logger,
      writeErrorLogIntervalMs: options.writeErrorLogIntervalMs ?? 10_000,
      dir: this.#dir,
      ...(options.onSync !== undefined ? { onSync: options.onSync } : {}),
      reserve: (through) => this.#reserve(through),
      rollover: () => this.#rollover(),
    });
  }

  /** The directory of the log. */
  get dir(): string {
    return this.#dir;
  }

  get fsync(): FsyncMode {
    return this.#fsync;
  }

  /** Whether this store was opened read-only. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  get firstSequence(): number {
    const s = this.#segments[0];
    const last = this.#writer.last;
    return s === undefined ? last + 1 : Math.min(s.first, last + 1);
  }

  get lastSequence(): number {
    return this.#writer.last;
  }

  get bytes(): number {
    return this.#writer.bytes;
  }

  /** Number of segment files. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  /** The last write or sync error, if the most recent batch failed. */
  get lastError(): Error | undefined {
    return this.#writer.lastError;
  }

  async open(onCommit: CommitListener): Promise<OpenReport> {
    if (this.#state !== 'closed') throw new EventError(EVENT_ERROR_CODES.INVALID_STATE, `file store ${this.#dir} is already open`);
    if (this.#readOnly) {
      const st = await stat(this.#dir).catch(() => undefined);
      if (st === undefined || !st.isDirectory()) throw storeFailed('open', new Error(`${this.#dir} does not exist (a read-only store never creates it)`), { dir: this.#dir });
    } else {
      await mkdir(this.#dir, { recursive: true });
      this.#lockLost = undefined;
      await this.#lock.acquire((why) => {
        this.#lockLost = why;
        this.#logger.error({ dir: this.#dir }, `event store ${this.#dir} lost its lock (${why}); publishes fail from now on`);
      });
    }
    try {
      const log = await new LogRecovery({
        dir: this.#dir,
        readOnly: this.#readOnly,
        onCorruption: this.#onCorruption,
        indexEvery: this.#indexEvery,
        logger: this.#logger,
        loadIndex: (file, size) => this.#reader.loadIndex(file, size),
      }).recover();
      const repairs = log.repairs;
      this.#segments.length = 0;
      this.#segments.push(...log.segments);
      this.#skipped = log.skipped;
      this.#start = log.start;
      this.#reservedThrough = log.reservedThrough;
      const next = this.#readOnly ? log.last + 1 : log.next;
      if (!this.#readOnly) await this.#placeActive(next);
      // The last event held (an empty active segment after a skipped range holds none).
      const last = this.#segments.reduce((max, s) => (s.last >= s.first ? Math.max(max, s.last) : max), this.#start - 1);
      this.#writer.reset(Math.min(last, next - 1), next, this.#segments.reduce((sum, s) => sum + s.size, 0), newIdPrefix());
      if (!this.#readOnly) {
        await this.#writer.openActive();
        await this.#saveManifest();
      }
      await this.#positions.load(this.#writer.last);
      this.#writer.onCommit = onCommit;
      this.#state = 'open';
      if (!this.#readOnly) await this.#applyRetention();
      return { firstSequence: this.firstSequence, lastSequence: this.#writer.last, repairs };
    } catch (error) {
      await this.#writer.closeActive().catch(() => undefined);
      if (!this.#readOnly) await this.#lock.release().catch(() => undefined);
      throw error;
    }
  }

  append(event: PendingEvent): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(storeFailed('append', new Error(`file store ${this.#dir} is ${this.#state}`)));
    if (this.#readOnly) {
      return Promise.reject(new EventError(EVENT_ERROR_CODES.STORE_READ_ONLY, `event store ${this.#dir} is open read-only; publish through the process that owns it`, { context: { dir: this.#dir } }));
    }
    if (this.#lockLost !== undefined) {
      return Promise.reject(new EventError(EVENT_ERROR_CODES.STORE_LOCKED, `event store ${this.#dir} lost its lock: ${this.#lockLost}`, { context: { dir: this.#dir } }));
    }
    return this.#writer.append(event);
  }

  /**
   * Read-only: takes in what the writer appended since open (the active segment's new whole
   * records, new segments, segments retention deleted). A record still being written is left for
   * the next refresh. Writable stores know everything already: a no-op.
   */
  async refresh(): Promise<void> {
    if (!this.#readOnly || this.#state !== 'open') return;
    const names = (await readdir(this.#dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    const present = new Set(names);
    while (this.#segments.length > 1 && !present.has(path.basename(this.#segments[0]!.file))) this.#segments.shift();
    const manifest = await readManifest(this.#dir).catch(() => undefined);
    if (manifest !== undefined) this.#skipped = [...manifest.skipped];
    let active = this.#segments[this.#segments.length - 1]!;
    await this.#extend(active);
    for (const name of names) {
      const first = Number(SEGMENT_RE.exec(name)![1]);
      if (first <= active.last || first <= active.first) continue;
      // Only whole segments follow: the writer seals one before it starts the next.
      if (first !== active.last + 1 && !isSkipped(this.#skipped, active.last + 1, first - 1)) break;
      active = { file: path.join(this.#dir, name), first, last: first - 1, size: HEADER_BYTES, mtimeMs: Date.now(), index: { seqs: [], offsets: [] } };
      this.#segments.push(active);
      await this.#extend(active);
    }
    const last = this.#segments.reduce((max, s) => (s.last >= s.first ? Math.max(max, s.last) : max), this.#writer.last);
    this.#writer.advance(last, this.#segments.reduce((sum, s) => sum + s.size, 0));
  }

  /** Read-only: scans the whole records appended to `seg` beyond what is known. */
  async #extend(seg: Segment): Promise<void> {
    let fd: number;
    try {
      fd = await openAsync(seg.file, 'r');
    } catch {
      return; // gone (retention): the next refresh drops it
    }
    try {
      const { size } = await fstatAsync(fd);
      if (size <= seg.size) return;
      const scan = await scanRecords(fd, seg.size, size, seg.last + 1, true, this.#indexEvery, seg.index ?? { seqs: [], offsets: [] });
      seg.index = scan.index;
      seg.last += scan.count;
      seg.size = scan.end;
    } finally {
      await closeAsync(fd);
    }
  }

  read(range: ReadRange): AsyncIterable<readonly StoredEvent[]> {
    return this.#reader.read(range, this.firstSequence, this.#writer.last);
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    await this.refresh();
    const seq = sequenceOfId(id);
    if (Number.isNaN(seq) || seq < this.firstSequence || seq > this.#writer.last) return undefined;
    for await (const page of this.read({ from: seq, to: seq, pageSize: 1 })) {
      const e = page[0];
      return e !== undefined && e.id === id && e.sequence === seq ? e : undefined;
    }
    return undefined;
  }

  loadPosition(name: string): number {
    return this.#positions.get(name);
  }

  savePosition(name: string, sequence: number): void {
    this.#positions.set(name, sequence);
  }

  async checkWritable(): Promise<void> {
    if (this.#state !== 'open') throw new Error(`file store is ${this.#state}`);
    if (this.#readOnly) throw new Error('file store is open read-only');
    if (this.#lockLost !== undefined) throw new Error(`file store lost its lock: ${this.#lockLost}`);
    await access(this.#dir, constants.W_OK);
    await access(this.#segments[this.#segments.length - 1]!.file, constants.W_OK);
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    try {
      await this.#writer.drain();
      if (!this.#readOnly) await this.#writer.syncActive();
      await this.#writer.closeActive();
    } finally {
      await this.#positions.close();
      this.#writer.onCommit = undefined;
      this.#state = 'closed';
      this.#closePromise = undefined;
      if (!this.#readOnly) await this.#lock.release();
    }
  }

  /** Makes sure the active segment starts where the next sequence goes (after a cut, above the reserved mark). */
  async #placeActive(next: number): Promise<void> {
    const active = this.#segments[this.#segments.length - 1];
    if (active !== undefined && active.last + 1 === next) return;
    if (active !== undefined && active.last < active.first) {
      // An empty active segment cannot start at `next`: replace it.
      this.#segments.pop();
      await unlink(active.file);
    }
    const from = (this.#segments[this.#segments.length - 1]?.last ?? this.#start - 1) + 1;
    if (from < next && !isSkipped(this.#skipped, from, next - 1)) this.#skipped.push({ from, to: next - 1, reason: 'cut by repair (never reused)' });
    this.#segments.push(await this.#createSegment(next));
  }

  async #saveManifest(): Promise<void> {
    const sealed = this.#segments.slice(0, -1).map((s) => ({ file: path.basename(s.file), first: s.first, last: s.last, bytes: s.size }));
    const start = this.#segments[0]?.first ?? this.#start;
    this.#start = start;
    this.#skipped = this.#skipped.filter((r) => r.to >= start);
    this.#reservedThrough = Math.max(this.#reservedThrough, this.#writer.last);
    await writeManifest(this.#dir, { version: 1, start, reservedThrough: this.#reservedThrough, sealed, skipped: this.#skipped });
  }

  /** Raises the high-water mark before a write would go past it. */
  async #reserve(through: number): Promise<void> {
    if (through <= this.#reservedThrough) return;
    this.#reservedThrough = through + RESERVE_BLOCK;
    await this.#saveManifest();
  }

  async #rollover(): Promise<Segment> {
    const old = this.#segments[this.#segments.length - 1]!;
    await this.#saveIndexQuietly(old);
    const next = await this.#createSegment(old.last + 1);
    this.#segments.push(next);
    // Sealed in the manifest before the first write to the new segment.
    await this.#saveManifest();
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
    await syncDir(this.#dir);
    return { file, first, last: first - 1, size: HEADER_BYTES, mtimeMs: Date.now(), index: { seqs: [], offsets: [] } };
  }

  async #saveIndexQuietly(seg: Segment): Promise<void> {
    if (this.#readOnly) return;
    try {
      await this.#reader.saveIndex(seg);
    } catch (error) {
      this.#logger.warn({ err: error, file: seg.file }, 'could not write a segment index (it is rebuilt when needed)');
    }
  }

  /** Deletes whole sealed segments that are too old or beyond the byte budget, oldest first. */
  async #applyRetention(): Promise<void> {
    const { maxAgeMs, maxBytes } = this.#retention;
    if (maxAgeMs === undefined && maxBytes === undefined) return;
    const now = Date.now();
    const doomed: Segment[] = [];
    let bytes = this.#writer.bytes;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const tooOld = maxAgeMs !== undefined && now - oldest.mtimeMs > maxAgeMs;
      const tooBig = maxBytes !== undefined && bytes > maxBytes;
      if (!tooOld && !tooBig) break;
      this.#segments.shift();
      bytes -= oldest.size;
      doomed.push(oldest);
      this.#logger.info(
        { file: path.basename(oldest.file), first: oldest.first, last: oldest.last, reason: tooOld ? 'maxAgeMs' : 'maxBytes' },
        `event store retention deleted events ${oldest.first}..${oldest.last}`,
      );
    }
    if (doomed.length === 0) return;
    this.#writer.bytes = bytes;
    // The manifest forgets them first: a crash before the unlinks leaves leftovers, not a "missing" segment.
    await this.#saveManifest();
    for (const s of doomed) {
      await unlink(s.file).catch(() => undefined);
      await unlink(s.file.replace(/\.log$/, '.idx')).catch(() => undefined);
    }
    await syncDir(this.#dir);
  }
}
