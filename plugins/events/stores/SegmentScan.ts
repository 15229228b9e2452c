/**
 * Walking a segment's records: the scan behind tail recovery, the check of sealed segments when no
 * manifest vouches for them, and the resynchronising search that tells a torn tail (nothing valid
 * after the first bad byte, safe to cut) from corruption in the middle (valid records follow: the
 * store must not cut them).
 */
import { crc32 } from './crc32.js';
import { MAX_RECORD_BYTES, RECORD_HEADER_BYTES, RecordCursor } from './RecordCursor.js';
import { readAsync } from './fdAsync.js';


/** Segment files start with this, so a foreign file is refused instead of "repaired". */
export const MAGIC = Buffer.from('MSEVLOG1', 'latin1');
export const HEADER_BYTES = MAGIC.length;

export interface SparseIndex {
  seqs: number[];
  offsets: number[];
}

export interface ScanResult {
  /** Whole, valid records from the start. */
  readonly count: number;
  /** File offset just after the last good record. */
  readonly end: number;
  readonly index: SparseIndex;
  /** The first bad record: where and why. */
  readonly problem?: { readonly offset: number; readonly reason: string };
}

/**
 * Scans records `[start, size)` of an open segment whose record at `start` holds sequence `first`.
 * `verify` checks every CRC and the sequence of the first and the last record (parsing every
 * payload would double the cost of opening a large segment; the CRC proves each record whole).
 */
export async function scanRecords(fd: number, start: number, size: number, first: number, verify: boolean, indexEvery: number, index: SparseIndex = { seqs: [], offsets: [] }): Promise<ScanResult> {
  const cursor = new RecordCursor(fd, start, size);
  let lastIndexed = index.offsets.length > 0 ? index.offsets[index.offsets.length - 1]! : -Infinity;
  let expected = first;
  for (;;) {
    const status = cursor.next(verify);
    if (status === 'need-more') {
      await cursor.fill();
      continue;
    }
    if (status === 'end') break;
    if (status !== 'ok') {
      const reason = status === 'torn' ? 'torn record (incomplete write)' : status === 'crc' ? 'CRC mismatch' : 'impossible record length';
      return { count: expected - first, end: cursor.position, index, problem: { offset: cursor.position, reason } };
    }
    if (verify && (expected === first || cursor.position + RECORD_HEADER_BYTES > size)) {
      const problem = sequenceProblem(cursor, expected);
      if (problem !== undefined) return { count: expected - first, end: cursor.recordOffset, index, problem: { offset: cursor.recordOffset, reason: problem } };
    }
    if (cursor.recordOffset - lastIndexed >= indexEvery) {
      index.seqs.push(expected);
      index.offsets.push(cursor.recordOffset);
      lastIndexed = cursor.recordOffset;
    }
    expected++;
  }
  return { count: expected - first, end: cursor.position, index };
}

/**
 * The offset of the first whole, CRC-valid event record that starts after `from` (searching every
 * byte offset, since the bad record's length cannot be trusted), or undefined when there is none:
 * then everything from `from` on is a torn tail. Reads the region in one go; the active segment is
 * bounded by `segmentBytes` plus one record.
 */
export async function findValidRecordAfter(fd: number, from: number, size: number): Promise<number | undefined> {
  const length = size - from;
  if (length <= RECORD_HEADER_BYTES) return undefined;
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await readAsync(fd, buf, got, length - got, from + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  const OPEN_BRACE = 0x7b;
  for (let p = 1; p + RECORD_HEADER_BYTES < got; p++) {
    // Every payload is a JSON object: a record candidate needs a '{' right after its header.
    if (buf[p + RECORD_HEADER_BYTES] !== OPEN_BRACE) continue;
    const len = buf.readUInt32LE(p);
    if (len < 2 || len > MAX_RECORD_BYTES || p + RECORD_HEADER_BYTES + len > got) continue;
    if (crc32(buf, p + RECORD_HEADER_BYTES, p + RECORD_HEADER_BYTES + len) === buf.readUInt32LE(p + 4)) return from + p;
  }
  return undefined;
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
