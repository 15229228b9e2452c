/**
 * Reads framed records out of a segment file through one reusable buffer. A record is
 * `[u32 LE payload length][u32 LE CRC-32 of payload][payload]`. `next()` is synchronous while the
 * buffer holds the whole record and only asks for `fill()` (one positioned read of a large chunk)
 * when it does not, so scanning a million records costs a few hundred reads, not a million awaits.
 */
import { crc32 } from './crc32.js';
import { readAsync } from './fdAsync.js';


export const RECORD_HEADER_BYTES = 8;
/** A length above this is taken as corruption, not as a record. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** What `next()` found. `need-more`: call `fill()` and ask again. */
export type RecordStatus = 'ok' | 'need-more' | 'end' | 'torn' | 'crc' | 'too-large';

export class RecordCursor {
  #buf: Buffer;
  /** File offset of buf[0]. */
  #bufStart: number;
  /** Valid bytes in buf. */
  #bufLen = 0;
  readonly #fd: number;
  readonly #end: number;
  /** File offset of the next record. */
  #pos: number;
  /** Set by next() on 'ok'. */
  recordOffset = 0;
  payloadStart = 0;
  payloadEnd = 0;

  constructor(fd: number, start: number, end: number, chunkBytes = 1024 * 1024) {
    this.#fd = fd;
    this.#pos = start;
    this.#bufStart = start;
    this.#end = end;
    this.#buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** The buffer holding the current record's payload at [payloadStart, payloadEnd). */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** File offset of the next record (the end of the last good one). */
  get position(): number {
    return this.#pos;
  }

  /** Moves to the next record. `verify` checks its CRC. */
  next(verify: boolean): RecordStatus {
    const remainingInFile = this.#end - this.#pos;
    if (remainingInFile <= 0) return 'end';
    if (remainingInFile < RECORD_HEADER_BYTES) return 'torn';
    const at = this.#pos - this.#bufStart;
    const avail = this.#bufLen - at;
    if (avail < RECORD_HEADER_BYTES) return 'need-more';
    const buf = this.#buf;
    const len = buf.readUInt32LE(at);
    if (len > MAX_RECORD_BYTES) return 'too-large';
    if (RECORD_HEADER_BYTES + len > remainingInFile) return 'torn';
    if (avail < RECORD_HEADER_BYTES + len) return 'need-more';
    const start = at + RECORD_HEADER_BYTES;
    const end = start + len;
    if (verify && crc32(buf, start, end) !== buf.readUInt32LE(at + 4)) return 'crc';
    this.recordOffset = this.#pos;
    this.payloadStart = start;
    this.payloadEnd = end;
    this.#pos += RECORD_HEADER_BYTES + len;
    return 'ok';
  }

  /** Skips the current record's payload check: moves past a record by its length only. */
  skip(): RecordStatus {
    return this.next(false);
  }

  /** Reads the next chunk, keeping the unread tail of the buffer (and growing it for a big record). */
  async fill(): Promise<void> {
    const at = this.#pos - this.#bufStart;
    const keep = this.#bufLen - at;
    let buf = this.#buf;
    let need = RECORD_HEADER_BYTES;
    if (keep >= RECORD_HEADER_BYTES) need += buf.readUInt32LE(at);
    if (need > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
      buf.copy(bigger, 0, at, at + keep);
      buf = this.#buf = bigger;
    } else if (keep > 0) {
      buf.copy(buf, 0, at, at + keep);
    }
    this.#bufStart = this.#pos;
    this.#bufLen = keep;
    const want = Math.min(buf.length - keep, this.#end - (this.#pos + keep));
    if (want <= 0) return;
    const { bytesRead } = await readAsync(this.#fd, buf, keep, want, this.#pos + keep);
    this.#bufLen += bytesRead;
    if (bytesRead === 0) throw new Error(`unexpected end of file at offset ${this.#pos + keep}`);
  }
}
