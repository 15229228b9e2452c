/** W3C `traceparent` parsing and formatting (sdk/util/traceparent.ts), by the rules of the spec. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTraceparent, isTraceparent, parseTraceparent } from '../../sdk/util/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const TP = `00-${TRACE}-${SPAN}-01`;

test('a version-00 traceparent parses into its ids and the sampled flag (bit 0 of the flags)', () => {
  assert.deepEqual(parseTraceparent(TP), { traceId: TRACE, spanId: SPAN, sampled: true });
  for (const [flags, sampled] of [['00', false], ['01', true], ['02', false], ['03', true], ['ff', true], ['fe', false], ['a9', true]] as const) {
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-${flags}`), { traceId: TRACE, spanId: SPAN, sampled }, flags);
  }
  for (const hex of ['0123456789abcdef0123456789abcdef', 'ffffffffffffffffffffffffffffffff', '00000000000000000000000000000001']) {
    assert.equal(isTraceparent(`00-${hex}-${SPAN}-00`), true, hex);
  }
});

test('a later version may append fields after a dash; version ff and a longer version 00 are invalid', () => {
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true });
  assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-00-what-comes-next`), { traceId: TRACE, spanId: SPAN, sampled: false });
  assert.equal(isTraceparent(`cc-${TRACE}-${SPAN}-00x`), false);
  assert.equal(isTraceparent(`00-${TRACE}-${SPAN}-01-more`), false);
  assert.equal(isTraceparent(`ff-${TRACE}-${SPAN}-01`), false);
});

test('anything else is not a traceparent', () => {
  const bad: unknown[] = [
    undefined,
    null,
    42,
    {},
    [TP],
    '',
    TP.slice(0, 54),
    TP.toUpperCase(),
    `0g-${TRACE}-${SPAN}-01`,
    `0A-${TRACE}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.slice(0, 31)}g-${SPAN}-01`,
    `00-${TRACE}-${SPAN.slice(0, 15)}G-01`,
    `00-${TRACE}-${SPAN}-0x`,
    `00-${TRACE}-${SPAN}-1`,
    `00_${TRACE}-${SPAN}-01`,
    `00-${TRACE}_${SPAN}-01`,
    `00-${TRACE}-${SPAN}_01`,
    ` ${TP}`.slice(0, 55),
    `${TP}\r\n`,
    `00-${TRACE}-${SPAN}-01`.replace('4bf9', '4bf\u0669'),
  ];
  for (const value of bad) {
    assert.equal(parseTraceparent(value), undefined, JSON.stringify(value));
    assert.equal(isTraceparent(value), false, JSON.stringify(value));
  }
});

test('formatTraceparent writes version 00 and refuses malformed ids', () => {
  assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, sampled: true }), TP);
  assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, sampled: false }), `00-${TRACE}-${SPAN}-00`);
  assert.deepEqual(parseTraceparent(formatTraceparent({ traceId: TRACE, spanId: SPAN, sampled: false })), { traceId: TRACE, spanId: SPAN, sampled: false });
  assert.throws(() => formatTraceparent({ traceId: TRACE.toUpperCase(), spanId: SPAN, sampled: true }), /traceId/);
  assert.throws(() => formatTraceparent({ traceId: '0'.repeat(32), spanId: SPAN, sampled: true }), /traceId/);
  assert.throws(() => formatTraceparent({ traceId: TRACE, spanId: SPAN.slice(1), sampled: true }), /spanId/);
  assert.throws(() => formatTraceparent({ traceId: TRACE, spanId: '0'.repeat(16), sampled: true }), /spanId/);
});
