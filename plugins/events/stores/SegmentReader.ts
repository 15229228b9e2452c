/**
 * Reading the file store's segments: finding the segment of a sequence, seeking through its sparse
 * index, streaming pages of events, and keeping the `.idx` files. A sealed segment that turns out
 * missing, short or damaged while reading is reported as `EVENT_STORE_CORRUPT` (never skipped).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { storeCorrupt, storeFailed } from '../errors.js';
import type { StoredEvent } from '../types.js';
import type { ReadRange } from './EventStore.js';
import { RecordCursor } from './RecordCursor.js';
import { HEADER_BYTES, scanRecords, type SparseIndex } from './SegmentScan.js';
import { openAsync, closeAsync } from './fdAsync.js';


export interface Segment {
  readonly file: string;
  readonly first: number;
  last: number;
  /** Committed bytes, header included. */
  size: number;
  mtimeMs: number;
  /** Sparse index: sequences and their byte offsets, ascending. Undefined until built. */
  index: SparseIndex | undefined;
}

const RESTORE = 'Restore it from a backup; reopening the store checks every sealed segment.';

export class SegmentReader {
  readonly #segments: readonly Segment[];
  readonly #indexEvery: number;
  readonly #persistIndex: (seg: Segment) => Promise<void>;

  constructor(segments: readonly Segment[], indexEvery: number, persistIndex: (seg: Segment) => Promise<void>) {
    this.#segments = segments;
    this.#indexEvery = indexEvery;
    this.#persistIndex = persistIndex;
  }

  /** Pages of events in `[range.from, range.to]` (clamped to `[first, last]`). */
  async *read(range: ReadRange, first: number, last: number): AsyncIterable<readonly StoredEvent[]> {
    const pageSize = Math.max(1, range.pageSize ?? 1024);
    const to = Math.min(range.to ?? last, last);
    let seq = Math.max(range.from, first, 1);
    while (seq <= to) {
      const seg = this.#segmentFrom(seq);
      if (seg === undefined) return;
      // A hole skipped on purpose (quarantine, repair) lies between segments: continue after it.
      if (seg.first > seq) seq = seg.first;
      if (seq > to) return;
      const [startSeq, startOffset] = await this.#seek(seg, seq);
      let fd: number;
      try {
        fd = await openAsync(seg.file, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          // Retention may have deleted it between the lookup and the open: continue with what is left.
          if (!this.#segments.includes(seg)) {
            seq = Math.max(seq, first, seg.last + 1);
            continue;
          }
          throw storeCorrupt(path.basename(seg.file), 0, `segment is missing (it held events ${seg.first}..${seg.last})`, RESTORE);
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
            try {
              await cursor.fill();
            } catch (error) {
              throw storeCorrupt(path.basename(seg.file), cursor.position, `segment is shorter than its ${seg.size} committed bytes (${(error as Error).message})`, RESTORE);
            }
            continue;
          }
          if (status === 'end') {
            throw storeCorrupt(path.basename(seg.file), cursor.position, `records end at event ${expected - 1} but the segment held events through ${seg.last}`, RESTORE);
          }
          if (status !== 'ok') throw storeCorrupt(path.basename(seg.file), cursor.position, `corrupt record (${status})`, RESTORE);
          if (expected >= seq) {
            page.push(JSON.parse(cursor.buffer.toString('utf8', cursor.payloadStart, cursor.payloadEnd)) as StoredEvent);
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

  /** Loads a sealed segment's `.idx` if it matches the segment's size. */
  async loadIndex(file: string, size: number): Promise<SparseIndex | undefined> {
    try {
      const raw = JSON.parse(await readFile(indexFile(file), 'utf8')) as { size?: unknown; seqs?: unknown; offsets?: unknown };
      if (raw.size !== size || !Array.isArray(raw.seqs) || !Array.isArray(raw.offsets) || raw.seqs.length !== raw.offsets.length) return undefined;
      return { seqs: raw.seqs as number[], offsets: raw.offsets as number[] };
    } catch {
      return undefined;
    }
  }

  async saveIndex(seg: Segment): Promise<void> {
    if (seg.index === undefined) return;
    await writeFile(indexFile(seg.file), JSON.stringify({ size: seg.size, seqs: seg.index.seqs, offsets: seg.index.offsets }));
  }

  /** The first segment whose range ends at or after `seq`. */
  #segmentFrom(seq: number): Segment | undefined {
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found: Segment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid]!.last >= seq) {
        found = segs[mid];
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return found;
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
  async #buildIndex(seg: Segment): Promise<SparseIndex> {
    let fd: number;
    try {
      fd = await openAsync(seg.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { seqs: [], offsets: [] }; // the read reports it
      throw error;
    }
    let index: SparseIndex;
    try {
      index = (await scanRecords(fd, HEADER_BYTES, seg.size, seg.first, false, this.#indexEvery)).index;
    } catch {
      index = { seqs: [], offsets: [] }; // a short file: the read that follows reports it
    } finally {
      await closeAsync(fd);
    }
    await this.#persistIndex({ ...seg, index });
    return index;
  }
}

function indexFile(file: string): string {
  return file.replace(/\.log$/, '.idx');
}
