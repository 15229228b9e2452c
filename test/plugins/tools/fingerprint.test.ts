import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint } from '../../../plugins/tools/fingerprint.js';

test('fingerprint: key order does not matter, at any depth (native and canonical paths agree)', () => {
  const sorted = { a: 1, b: { x: [1, 'two', null, true], y: -0 }, c: 'é' };
  const shuffled = { c: 'é', b: { y: 0, x: [1, 'two', null, true] }, a: 1 };
  assert.equal(fingerprint(sorted), fingerprint(shuffled));
  assert.equal(fingerprint(sorted), JSON.stringify(sorted));
});

test('fingerprint: values JSON would conflate stay apart; absent and undefined keys are the same', () => {
  assert.notEqual(fingerprint({ n: Number.NaN }), fingerprint({ n: null }));
  assert.notEqual(fingerprint([undefined]), fingerprint([null]));
  assert.notEqual(fingerprint({ n: 1n }), fingerprint({ n: 1 }));
  assert.notEqual(fingerprint('1'), fingerprint(1));
  assert.equal(fingerprint({ a: 1, b: undefined }), fingerprint({ a: 1 }));
  assert.equal(fingerprint({ d: new Date(0) }), fingerprint({ d: '1970-01-01T00:00:00.000Z' }));
});

test('fingerprint: cycles do not throw; long inputs are hashed', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.equal(typeof fingerprint(cyclic), 'string');
  const long = fingerprint({ blob: 'x'.repeat(1000) });
  assert.match(long, /^sha256:/);
  assert.notEqual(long, fingerprint({ blob: `${'x'.repeat(999)}y` }));
});
