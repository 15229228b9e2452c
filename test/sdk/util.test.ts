import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isThenable, messageOf, noop, RingBuffer } from '../../sdk/util/index.js';

test('isThenable accepts native promises, object thenables and function thenables, and nothing else', () => {
  const fnThenable = Object.assign(() => undefined, { then: noop });
  assert.equal(isThenable(Promise.resolve(1)), true);
  assert.equal(isThenable({ then: noop }), true);
  assert.equal(isThenable(fnThenable), true);
  for (const value of [null, undefined, 0, 'then', {}, { then: 1 }, () => undefined]) assert.equal(isThenable(value), false, String(value));
});

test('messageOf reads errors, strings, JSON-able values and values JSON cannot serialise', () => {
  assert.equal(messageOf(new Error('boom')), 'boom');
  assert.equal(messageOf('plain'), 'plain');
  assert.equal(messageOf({ a: 1 }), '{"a":1}');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(messageOf(circular), '[object Object]');
  assert.equal(messageOf(undefined), 'undefined');
});

test('RingBuffer is FIFO across growth and wrap-around, bounded when given a capacity', () => {
  const ring = new RingBuffer<number>(40);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 40; i++) assert.equal(ring.push(round * 100 + i), true);
    assert.equal(ring.push(-1), false, 'a full ring refuses and keeps its items');
    assert.equal(ring.size, 40);
    assert.equal(ring.peek(), round * 100);
    for (let i = 0; i < 25; i++) assert.equal(ring.shift(), round * 100 + i);
    assert.deepEqual(ring.takeAll(), Array.from({ length: 15 }, (_, i) => round * 100 + 25 + i));
  }
  assert.equal(ring.shift(), undefined);
  assert.equal(ring.peek(), undefined);
});

test('RingBuffer holds undefined as an item, clears, and rejects a capacity below 1', () => {
  const ring = new RingBuffer<number | undefined>();
  assert.equal(ring.capacity, Infinity);
  ring.push(undefined);
  ring.push(2);
  assert.equal(ring.size, 2);
  assert.equal(ring.shift(), undefined);
  assert.equal(ring.size, 1);
  ring.clear();
  assert.equal(ring.size, 0);
  for (let i = 0; i < 1000; i++) ring.push(i);
  assert.equal(ring.size, 1000);
  assert.equal(ring.shift(), 0);
  const small = new RingBuffer<string>(3);
  assert.deepEqual([small.push('a'), small.push('b'), small.push('c'), small.push('d')], [true, true, true, false]);
  for (const bad of [0, -1, Number.NaN]) assert.throws(() => new RingBuffer(bad), RangeError);
});
