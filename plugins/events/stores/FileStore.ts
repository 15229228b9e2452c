/**
 * The file store: an append-only log in segment files, the embedded default for durable setups.
 *
 * Layout of `dir`: `<first sequence, 20 digits>.log` segments (an 8-byte magic header, then
 * records `[u32 LE length][u32 LE CRC-32][JSON payload]`), `<same>.idx` sparse indexes of sealed
 * segments (a cache, rebuilt when missing or wrong), `MANIFEST` (sealed segments' ranges and sizes,
 * the sequence high-water mark, ranges skipped on purpose; see Manifest.ts), `positions.json`
 * (durable subscription positions) and `LOCK` (see DirectoryLock.ts).
 *
 * This class ties the parts together: opening and recovery (with SegmentScan, Manifest,
 * DirectoryLock), retention, and the store contract. Appending and group commit live in
 * SegmentWriter, reading and seeking in SegmentReader, positions in PositionStore.
 */
import { close, ftruncate, fdatasync, fstat, open, read, write } from 'node:fs';
import { access, constants, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { EventError } from '../../../sdk/index.js';
import { EVENT_ERROR_CODES, storeCorrupt, storeFailed } from '../errors.js';
import type { BusLogger } from '../SubscriberHost.js';
import type { StoredEvent } from '../types.js';
import { DirectoryLock, type DirectoryLockOptions } from './DirectoryLock.js';
import { newIdPrefix, sequenceOfId, type CommitListener, type EventStore, type OpenReport, type PendingEvent, type ReadRange, type RepairRecord } from './EventStore.js';
import { isSkipped, readManifest, syncDir, writeManifest, type ManifestData, type SkippedRange } from './Manifest.js';
import { PositionStore } from './PositionStore.js';
import { MAX_RECORD_BYTES } from './RecordCursor.js';
import { findValidRecordAfter, HEADER_BYTES, MAGIC, scanRecords } from './SegmentScan.js';
import { SegmentReader, type Segment } from './SegmentReader.js';
import { SegmentWriter } from './SegmentWriter.js';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const writeAsync = promisify(write);
const readAsync = promisify(read);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);
const fstatAsync = promisify(fstat);

const SEGMENT_RE = /^(\d{20})\.log$/;
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
      const repairs: RepairRecord[] = [];
      const next = await this.#load(repairs);
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

  read(range: ReadRange): AsyncIterable<readonly StoredEvent[]> {
    return this.#reader.read(range, this.firstSequence, this.#writer.last);
  }

  async get(id: string): Promise<StoredEvent | undefined> {
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

  /**
   * Builds the segment list from the directory and the manifest, checks sealed segments, recovers
   * the tail; returns the next sequence to hand out.
   */
  async #load(repairs: RepairRecord[]): Promise<number> {
    this.#segments.length = 0;
    const disk = new Map<string, { first: number; size: number; mtimeMs: number }>();
    for (const name of (await readdir(this.#dir)).filter((n) => SEGMENT_RE.test(n)).sort()) {
      const st = await stat(path.join(this.#dir, name));
      disk.set(name, { first: Number(SEGMENT_RE.exec(name)![1]), size: st.size, mtimeMs: st.mtimeMs });
    }
    let manifest: ManifestData | undefined;
    try {
      manifest = await readManifest(this.#dir);
    } catch (error) {
      throw storeCorrupt('MANIFEST', 0, (error as Error).message, 'Delete MANIFEST to have it rebuilt by scanning every segment.');
    }
    this.#reservedThrough = manifest?.reservedThrough ?? 0;
    this.#skipped = [...(manifest?.skipped ?? [])];
    this.#start = manifest?.start ?? (disk.size > 0 ? [...disk.values()][0]!.first : 1);
    let unsealed: string[];
    if (manifest !== undefined) unsealed = await this.#loadSealedFromManifest(manifest, disk, repairs);
    else unsealed = [...disk.keys()];
    // Segments the manifest does not vouch for: all but the last must be whole (checked by a scan).
    for (let i = 0; i < unsealed.length - 1; i++) {
      const name = unsealed[i]!;
      const d = disk.get(name)!;
      await this.#verifyUnsealed(name, d, disk.get(unsealed[i + 1]!)!.first, repairs);
    }
    let cut = false;
    const tailName = unsealed[unsealed.length - 1];
    if (tailName !== undefined) {
      const d = disk.get(tailName)!;
      const seg: Segment = { file: path.join(this.#dir, tailName), first: d.first, last: d.first - 1, size: d.size, mtimeMs: d.mtimeMs, index: undefined };
      const outcome = await this.#recoverTail(seg, repairs);
      if (outcome !== 'quarantined') this.#segments.push(seg);
      cut = outcome !== 'clean';
    }
    this.#checkContinuity();
    const prev = this.#segments[this.#segments.length - 1];
    let last = prev === undefined ? this.#start - 1 : prev.last;
    // Holes recorded on purpose (quarantine, an earlier repair) after the last event continue the count.
    for (const r of [...this.#skipped].sort((a, b) => a.from - b.from)) if (r.from <= last + 1 && r.to > last) last = r.to;
    let next = last + 1;
    if (cut) {
      // Records were cut or moved aside: continue above every sequence that may have reached the disk.
      const legacyGuess = manifest === undefined ? last + 1 : 0;
      next = Math.max(next, this.#reservedThrough + 1, legacyGuess + 1);
    }
    if (this.#readOnly) return Math.min(next, last + 1);
    const active = this.#segments[this.#segments.length - 1];
    if (active === undefined || active.last + 1 !== next) {
      if (active !== undefined && active.last < active.first) {
        // An empty active segment cannot start at `next`: replace it.
        this.#segments.pop();
        await unlink(active.file);
      }
      const from = (this.#segments[this.#segments.length - 1]?.last ?? this.#start - 1) + 1;
      if (from < next && !isSkipped(this.#skipped, from, next - 1)) this.#skipped.push({ from, to: next - 1, reason: 'cut by repair (never reused)' });
      this.#segments.push(await this.#createSegment(next));
    }
    return next;
  }

  /** Checks every sealed segment the manifest lists (present, exact size); returns the names after them. */
  async #loadSealedFromManifest(manifest: ManifestData, disk: Map<string, { first: number; size: number; mtimeMs: number }>, repairs: RepairRecord[]): Promise<string[]> {
    const listed = new Set<string>();
    for (const entry of manifest.sealed) {
      listed.add(entry.file);
      const d = disk.get(entry.file);
      const problem =
        d === undefined
          ? `sealed segment is missing (it held events ${entry.first}..${entry.last})`
          : d.size !== entry.bytes
            ? `sealed segment is ${d.size < entry.bytes ? 'short' : 'longer than sealed'}: ${d.size} bytes where ${entry.bytes} were sealed (events ${entry.first}..${entry.last})`
            : undefined;
      if (problem !== undefined) {
        await this.#onDamage(entry.file, d === undefined ? 0 : Math.min(d.size, entry.bytes), problem, { first: entry.first, last: entry.last }, repairs, d !== undefined);
        continue;
      }
      const file = path.join(this.#dir, entry.file);
      this.#segments.push({ file, first: entry.first, last: entry.last, size: entry.bytes, mtimeMs: d!.mtimeMs, index: await this.#reader.loadIndex(file, entry.bytes) });
    }
    const lastSealed = manifest.sealed[manifest.sealed.length - 1]?.last ?? manifest.start - 1;
    const rest: string[] = [];
    for (const [name, d] of disk) {
      if (listed.has(name)) continue;
      if (d.first < manifest.start) {
        // Retention recorded the deletion, then the process stopped before the unlink.
        if (!this.#readOnly) await unlink(path.join(this.#dir, name)).catch(() => undefined);
        continue;
      }
      if (d.first <= lastSealed) throw storeCorrupt(name, 0, `segment is not in the manifest but overlaps sealed events (up to ${lastSealed})`, 'Move it out of the directory if it does not belong there.');
      rest.push(name);
    }
    return rest;
  }

  /** A segment the manifest does not know, followed by another: it must hold exactly [first, nextFirst). */
  async #verifyUnsealed(name: string, d: { first: number; size: number; mtimeMs: number }, nextFirst: number, repairs: RepairRecord[]): Promise<void> {
    const file = path.join(this.#dir, name);
    const fd = await openAsync(file, 'r');
    let problem: string | undefined;
    let offset = HEADER_BYTES;
    let scan;
    try {
      await this.#checkHeader(fd, file, d.size);
      scan = await scanRecords(fd, HEADER_BYTES, d.size, d.first, false, this.#indexEvery);
    } finally {
      await closeAsync(fd);
    }
    const last = d.first + scan.count - 1;
    if (scan.problem !== undefined || scan.end !== d.size) {
      problem = `${scan.problem?.reason ?? 'trailing bytes'} after event ${last} in a segment that is not the last`;
      offset = scan.end;
    } else if (last !== nextFirst - 1 && !isSkipped(this.#skipped, last + 1, nextFirst - 1)) {
      problem = `it ends at event ${last} but the next segment starts at ${nextFirst}: events ${last + 1}..${nextFirst - 1} are missing`;
      offset = d.size;
    }
    if (problem !== undefined) {
      await this.#onDamage(name, offset, problem, { first: d.first, last: Math.max(last, nextFirst - 1) }, repairs, true);
      return;
    }
    this.#segments.push({ file, first: d.first, last, size: d.size, mtimeMs: d.mtimeMs, index: scan.index });
  }

  /** Damage that cutting cannot fix: fail loudly, or (onCorruption 'quarantine') move it aside and skip its range. */
  async #onDamage(name: string, offset: number, reason: string, range: { first: number; last: number }, repairs: RepairRecord[], exists: boolean): Promise<void> {
    if (this.#onCorruption !== 'quarantine' || this.#readOnly) {
      throw storeCorrupt(
        name,
        offset,
        reason,
        this.#readOnly
          ? 'A read-only store repairs nothing; open it writable to repair or quarantine.'
          : "Restore the segment from a backup, or set the file store option onCorruption: 'quarantine' to move it aside and go on without its events.",
      );
    }
    let droppedBytes = 0;
    if (exists) {
      const qdir = path.join(this.#dir, 'quarantine');
      await mkdir(qdir, { recursive: true });
      const from = path.join(this.#dir, name);
      droppedBytes = (await stat(from)).size;
      await rename(from, path.join(qdir, `${name}.${new Date().toISOString().replace(/[:.]/g, '-')}`));
      await unlink(from.replace(/\.log$/, '.idx')).catch(() => undefined);
      await syncDir(this.#dir);
    }
    this.#skipped.push({ from: range.first, to: range.last, reason: `quarantined ${name}: ${reason}` });
    repairs.push({ file: name, offset, droppedBytes, reason: `quarantined (${reason})` });
    this.#logger.error({ file: name, offset, reason, first: range.first, last: range.last }, `event store quarantined ${name}: ${reason}; events ${range.first}..${range.last} are skipped`);
  }

  async #checkHeader(fd: number, file: string, size: number): Promise<void> {
    const header = Buffer.alloc(HEADER_BYTES);
    if (size >= HEADER_BYTES) await readAsync(fd, header, 0, HEADER_BYTES, 0);
    if (size >= HEADER_BYTES && !header.equals(MAGIC)) {
      throw new EventError(EVENT_ERROR_CODES.STORE_FAILED, `${file} is not an event segment (bad header); refusing to touch it`, { severity: 'high' });
    }
  }

  /**
   * Scans the last segment. A bad record with nothing valid after it is a torn tail: cut (or, read
   * only, ignored). A bad record with valid records after it is damage: see #onDamage.
   */
  async #recoverTail(seg: Segment, repairs: RepairRecord[]): Promise<'clean' | 'cut' | 'quarantined'> {
    const name = path.basename(seg.file);
    let damage: { offset: number; reason: string } | undefined;
    const fd = await openAsync(seg.file, this.#readOnly ? 'r' : 'r+');
    try {
      const { size } = await fstatAsync(fd);
      await this.#checkHeader(fd, seg.file, size);
      if (size < HEADER_BYTES) {
        if (!this.#readOnly) {
          await ftruncateAsync(fd, 0);
          await writeAsync(fd, MAGIC, 0, HEADER_BYTES, 0);
          await fdatasyncAsync(fd);
        }
        seg.size = HEADER_BYTES;
        seg.index = { seqs: [], offsets: [] };
        if (size === 0) return 'clean';
        repairs.push({ file: name, offset: 0, droppedBytes: size, reason: 'segment header torn' });
        return 'cut';
      }
      const scan = await scanRecords(fd, HEADER_BYTES, size, seg.first, true, this.#indexEvery);
      seg.last = seg.first + scan.count - 1;
      seg.size = scan.end;
      seg.index = scan.index;
      if (scan.problem === undefined) return 'clean';
      const { offset, reason } = scan.problem;
      const validAt = await findValidRecordAfter(fd, offset, size);
      if (validAt !== undefined) {
        damage = { offset, reason: `${reason}, with valid records after it (the next at offset ${validAt})` };
      } else if (this.#readOnly) {
        repairs.push({ file: name, offset, droppedBytes: size - offset, reason: `${reason} (read-only: not cut)` });
        return 'clean';
      } else {
        await ftruncateAsync(fd, offset);
        await fdatasyncAsync(fd);
        repairs.push({ file: name, offset, droppedBytes: size - offset, reason });
        return 'cut';
      }
    } finally {
      await closeAsync(fd);
    }
    // Past the bad record lie events that may have been acknowledged: never cut them.
    await this.#onDamage(name, damage.offset, damage.reason, { first: seg.first, last: Math.max(this.#reservedThrough, seg.last + 1) }, repairs, true);
    return 'quarantined';
  }

  /** Every hole between segments must be a range skipped on purpose. */
  #checkContinuity(): void {
    const segs = this.#segments;
    for (let i = 1; i < segs.length; i++) {
      const a = segs[i - 1]!;
      const b = segs[i]!;
      if (b.first === a.last + 1 || isSkipped(this.#skipped, a.last + 1, b.first - 1)) continue;
      throw storeCorrupt(
        path.basename(a.file),
        a.size,
        b.first <= a.last ? `overlaps the next segment ${path.basename(b.file)}` : `events ${a.last + 1}..${b.first - 1} are missing (no segment holds them)`,
        'Restore the missing segment from a backup.',
      );
    }
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
