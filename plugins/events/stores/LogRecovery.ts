/**
 * Opening a file store's log: what is on disk checked against what the manifest promised.
 * - Sealed segments listed in the manifest must exist with their exact size; without a manifest
 *   (a log from before manifests, or a deleted one) every segment but the last is scanned and must
 *   hold exactly the events up to the next segment's first.
 * - The last segment is scanned record by record (CRC, and the sequences of its first and last
 *   record). A bad record with nothing valid after it is a torn tail: cut (read-only: ignored). A
 *   bad record with valid records after it is damage.
 * - Damage (and a missing or short sealed segment) fails the open with `EVENT_STORE_CORRUPT`
 *   naming segment and offset, or, with `onCorruption: 'quarantine'`, moves the segment to
 *   `quarantine/` and records its range as skipped. Nothing that may have been acknowledged is
 *   ever cut.
 */
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { EventError } from '../../../sdk/index.js';
import { EVENT_ERROR_CODES, storeCorrupt } from '../errors.js';
import type { BusLogger } from '../SubscriberHost.js';
import type { RepairRecord } from './EventStore.js';
import { isSkipped, readManifest, syncDir, type ManifestData, type SkippedRange } from './Manifest.js';
import { findValidRecordAfter, HEADER_BYTES, MAGIC, scanRecords, type SparseIndex } from './SegmentScan.js';
import type { Segment } from './SegmentReader.js';
import { openAsync, closeAsync, readAsync, writeAsync, fdatasyncAsync, ftruncateAsync, fstatAsync } from './fdAsync.js';


export const SEGMENT_RE = /^(\d{20})\.log$/;

export interface LogRecoveryOptions {
  readonly dir: string;
  readonly readOnly: boolean;
  readonly onCorruption: 'fail' | 'quarantine';
  readonly indexEvery: number;
  readonly logger: BusLogger;
  loadIndex(file: string, size: number): Promise<SparseIndex | undefined>;
}

/** The log as recovered: its segments (the last one active), ranges skipped on purpose, where to go on. */
export interface RecoveredLog {
  readonly segments: Segment[];
  readonly skipped: SkippedRange[];
  /** First sequence retention keeps. */
  readonly start: number;
  readonly reservedThrough: number;
  /** The last event held. */
  readonly last: number;
  /** The next sequence to hand out. */
  readonly next: number;
  readonly repairs: RepairRecord[];
}

/** One open's recovery (use once). */
export class LogRecovery {
  readonly #o: LogRecoveryOptions;
  readonly #segments: Segment[] = [];
  #skipped: SkippedRange[] = [];
  #start = 1;
  #reservedThrough = 0;

  constructor(options: LogRecoveryOptions) {
    this.#o = options;
  }

  /**
   * Builds the segment list from the directory and the manifest, checks sealed segments, recovers
   * the tail. `next` is the sequence to hand out: after a cut, above the reserved high-water mark.
   */
  async recover(): Promise<RecoveredLog> {
    const repairs: RepairRecord[] = [];
    const disk = new Map<string, { first: number; size: number; mtimeMs: number }>();
    for (const name of (await readdir(this.#o.dir)).filter((n) => SEGMENT_RE.test(n)).sort()) {
      const st = await stat(path.join(this.#o.dir, name));
      disk.set(name, { first: Number(SEGMENT_RE.exec(name)![1]), size: st.size, mtimeMs: st.mtimeMs });
    }
    let manifest: ManifestData | undefined;
    try {
      manifest = await readManifest(this.#o.dir);
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
      const seg: Segment = { file: path.join(this.#o.dir, tailName), first: d.first, last: d.first - 1, size: d.size, mtimeMs: d.mtimeMs, index: undefined };
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
    return { segments: this.#segments, skipped: this.#skipped, start: this.#start, reservedThrough: this.#reservedThrough, last, next, repairs };
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
      const file = path.join(this.#o.dir, entry.file);
      this.#segments.push({ file, first: entry.first, last: entry.last, size: entry.bytes, mtimeMs: d!.mtimeMs, index: await this.#o.loadIndex(file, entry.bytes) });
    }
    const lastSealed = manifest.sealed[manifest.sealed.length - 1]?.last ?? manifest.start - 1;
    const rest: string[] = [];
    for (const [name, d] of disk) {
      if (listed.has(name)) continue;
      if (d.first < manifest.start) {
        // Retention recorded the deletion, then the process stopped before the unlink.
        if (!this.#o.readOnly) await unlink(path.join(this.#o.dir, name)).catch(() => undefined);
        continue;
      }
      if (d.first <= lastSealed) throw storeCorrupt(name, 0, `segment is not in the manifest but overlaps sealed events (up to ${lastSealed})`, 'Move it out of the directory if it does not belong there.');
      rest.push(name);
    }
    return rest;
  }

  /** A segment the manifest does not know, followed by another: it must hold exactly [first, nextFirst). */
  async #verifyUnsealed(name: string, d: { first: number; size: number; mtimeMs: number }, nextFirst: number, repairs: RepairRecord[]): Promise<void> {
    const file = path.join(this.#o.dir, name);
    const fd = await openAsync(file, 'r');
    let problem: string | undefined;
    let offset = HEADER_BYTES;
    let scan;
    try {
      await this.#checkHeader(fd, file, d.size);
      scan = await scanRecords(fd, HEADER_BYTES, d.size, d.first, false, this.#o.indexEvery);
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
    if (this.#o.onCorruption !== 'quarantine' || this.#o.readOnly) {
      throw storeCorrupt(
        name,
        offset,
        reason,
        this.#o.readOnly
          ? 'A read-only store repairs nothing; open it writable to repair or quarantine.'
          : "Restore the segment from a backup, or set the file store option onCorruption: 'quarantine' to move it aside and go on without its events.",
      );
    }
    let droppedBytes = 0;
    if (exists) {
      const qdir = path.join(this.#o.dir, 'quarantine');
      await mkdir(qdir, { recursive: true });
      const from = path.join(this.#o.dir, name);
      droppedBytes = (await stat(from)).size;
      await rename(from, path.join(qdir, `${name}.${new Date().toISOString().replace(/[:.]/g, '-')}`));
      await unlink(from.replace(/\.log$/, '.idx')).catch(() => undefined);
      await syncDir(this.#o.dir);
    }
    this.#skipped.push({ from: range.first, to: range.last, reason: `quarantined ${name}: ${reason}` });
    repairs.push({ file: name, offset, droppedBytes, reason: `quarantined (${reason})` });
    this.#o.logger.error({ file: name, offset, reason, first: range.first, last: range.last }, `event store quarantined ${name}: ${reason}; events ${range.first}..${range.last} are skipped`);
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
    const fd = await openAsync(seg.file, this.#o.readOnly ? 'r' : 'r+');
    try {
      const { size } = await fstatAsync(fd);
      await this.#checkHeader(fd, seg.file, size);
      if (size < HEADER_BYTES) {
        if (!this.#o.readOnly) {
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
      const scan = await scanRecords(fd, HEADER_BYTES, size, seg.first, true, this.#o.indexEvery);
      seg.last = seg.first + scan.count - 1;
      seg.size = scan.end;
      seg.index = scan.index;
      if (scan.problem === undefined) return 'clean';
      const { offset, reason } = scan.problem;
      const validAt = await findValidRecordAfter(fd, offset, size);
      if (validAt !== undefined) {
        damage = { offset, reason: `${reason}, with valid records after it (the next at offset ${validAt})` };
      } else if (this.#o.readOnly) {
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
}
