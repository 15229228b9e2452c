/** sdk/util traceparent: parsing per W3C Trace Context (including its rules for later versions), formatting, and putting it on a carrier. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTraceparent, isTraceparent, parseTraceparent, replaceTraceContext, TRACEPARENT_PROBLEM } from '../../sdk/util/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('a version-00 traceparent parses into its ids and the sampled flag', () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true });
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, sampled: false });
  // Only bit 0 is `sampled`; other flag bits are carried but do not set it.
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-02`)?.sampled, false);
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled, true);
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-ff`)?.sampled, true);
  assert.equal(isTraceparent(`00-${TRACE}-${SPAN}-01`), true);
});

test('a later version is read by the version-00 layout, and may append fields after a dash', () => {
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true });
  assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-00-what-the-future-holds`), { traceId: TRACE, spanId: SPAN, sampled: false });
  // ... but what follows the flags must start with a dash.
  assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-00x`), undefined);
  // Version 00 allows nothing after the flags.
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01-extra`), undefined);
});

test('invalid traceparents are rejected', () => {
  const bad: unknown[] = [
    `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
    `0g-${TRACE}-${SPAN}-01`, // version not hex
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // uppercase
    `00-${TRACE}-${SPAN.toUpperCase()}-01`,
    `00-${TRACE}-${SPAN}-0A`,
    `00-${'0'.repeat(32)}-${SPAN}-01`, // all-zero trace id
    `00-${TRACE}-${'0'.repeat(16)}-01`, // all-zero span id
    `00_${TRACE}-${SPAN}-01`, // bad separators
    `00-${TRACE}_${SPAN}-01`,
    `00-${TRACE}-${SPAN}_01`,
    `00-${TRACE}-${SPAN}-1`, // too short
    `00-${TRACE.slice(1)}-${SPAN}0-01`, // right length, separators in the wrong place
    `00-${TRACE}-${SPAN}-zz`,
    '',
    undefined,
    null,
    55,
    { traceId: TRACE, spanId: SPAN, sampled: true },
  ];
  for (const value of bad) {
    assert.equal(parseTraceparent(value), undefined, JSON.stringify(value));
    assert.equal(isTraceparent(value), false, JSON.stringify(value));
  }
});

test('formatTraceparent writes version 00 and round-trips through parse; a malformed id is a RangeError naming it', () => {
  const v = formatTraceparent({ traceId: TRACE, spanId: SPAN, sampled: true });
  assert.equal(v, `00-${TRACE}-${SPAN}-01`);
  assert.deepEqual(parseTraceparent(v), { traceId: TRACE, spanId: SPAN, sampled: true });
  assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, sampled: false }), `00-${TRACE}-${SPAN}-00`);
  assert.throws(() => formatTraceparent({ traceId: TRACE.toUpperCase(), spanId: SPAN, sampled: true }), (e: Error) => e instanceof RangeError && /^traceId/.test(e.message));
  assert.throws(() => formatTraceparent({ traceId: '0'.repeat(32), spanId: SPAN, sampled: true }), (e: Error) => e instanceof RangeError && /^traceId/.test(e.message));
  assert.throws(() => formatTraceparent({ traceId: TRACE, spanId: SPAN.slice(1), sampled: true }), (e: Error) => e instanceof RangeError && /^spanId/.test(e.message));
  assert.throws(() => formatTraceparent({ traceId: TRACE, spanId: '0'.repeat(16), sampled: true }), (e: Error) => e instanceof RangeError && /^spanId/.test(e.message));
  assert.match(TRACEPARENT_PROBLEM, /W3C traceparent/);
});

/** The spec's grammar written out plainly, as a reference for the character scan. */
function reference(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(.*)$/s.exec(value);
  if (m === null || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return false;
  return m[1] === '00' ? m[5] === '' : m[5] === '' || m[5]!.startsWith('-');
}

test('every one-character change of a valid value is judged as the plain grammar judges it', () => {
  const chars = ['0', '1', '9', 'a', 'f', 'g', 'A', 'F', '-', '_', ' ', 'ü', '\n'];
  const seeds = [`00-${TRACE}-${SPAN}-01`, `00-${'0'.repeat(31)}1-${'0'.repeat(15)}1-00`, `7f-${TRACE}-${SPAN}-01-x`];
  let checked = 0;
  for (const seed of seeds) {
    for (let i = 0; i < seed.length; i++) {
      for (const c of chars) {
        const v = seed.slice(0, i) + c + seed.slice(i + 1);
        for (const candidate of [v, v + '-', v + 'x', v.slice(0, -1)]) {
          assert.equal(isTraceparent(candidate), reference(candidate), JSON.stringify(candidate));
          assert.equal(parseTraceparent(candidate) !== undefined, reference(candidate), JSON.stringify(candidate));
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 5000);
});

test('replaceTraceContext drops every traceparent and tracestate whatever their case, then sets the given one under its key', () => {
  const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const headers: Record<string, string> = { Traceparent: 'forged', TRACESTATE: 'k=v', accept: 'text/html' };
  assert.equal(replaceTraceContext(headers, valid), headers, 'changed in place');
  assert.deepEqual(headers, { accept: 'text/html', traceparent: valid });
  assert.deepEqual(replaceTraceContext({ TraceParent: 'x', tracestate: 'y', PATH: '/bin' }, undefined), { PATH: '/bin' }, 'none given: the old ones still go');
  assert.deepEqual(replaceTraceContext({ traceparent: 'x' }, valid, 'TRACEPARENT'), { TRACEPARENT: valid });
});
