import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32, tableCrc32 } from '../../../plugins/events/stores/crc32.js';

test('the record CRC agrees with zlib.crc32 on both sides of the size switch, on slices too', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'the CRC-32/ISO-HDLC check value');
  for (const size of [0, 1, 7, 8, 9, 120, 255, 256, 257, 1024, 70_000]) {
    const buf = randomBytes(size + 10);
    const want = zlibCrc32(buf.subarray(5, 5 + size));
    assert.equal(crc32(buf, 5, 5 + size), want, `size ${size}`);
    assert.equal(tableCrc32(buf, 5, 5 + size), want, `table, size ${size}`);
  }
});
