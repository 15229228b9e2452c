/** toCloudEvent output checked by the CloudEvents SDK's own strict validation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloudEvent, ValidationError } from 'cloudevents';
import { fromCloudEvent, toCloudEvent } from '../../../plugins/events/index.js';
import { memoryBus } from './helpers.js';

const SOURCES = ['agents', 'ü/src', 'agent/calculator', 'a b', '1st:thing', 'https://example.com/x?y=1#z', '%zz', '//host/ü', 'tool #3 [x]'];

test('every toCloudEvent output passes the cloudevents SDK strict validation, whatever the source', async (t) => {
  const bus = await memoryBus(t);
  for (const source of SOURCES) {
    const e = await bus.publish({ type: 'agent.started', source, data: { n: 1 }, subject: 'a1', correlationId: 'c-1', causationId: 'x-1' });
    const ce = toCloudEvent(e);
    let built: CloudEvent<unknown>;
    try {
      built = new CloudEvent(ce as unknown as Record<string, unknown>, true);
      assert.equal(built.validate(), true);
    } catch (error) {
      const detail = error instanceof ValidationError ? JSON.stringify(error.errors) : String(error);
      assert.fail(`source ${JSON.stringify(source)} → ${JSON.stringify(ce.source)} rejected: ${detail}`);
    }
    assert.equal(built.source, ce.source);
    assert.equal(built.sequence, String(e.sequence));
  }
});

test('a source that already is a URI-reference is kept as is and round-trips; others are percent-encoded UTF-8', async (t) => {
  const bus = await memoryBus(t);
  for (const source of ['agents', 'agent/calculator', 'https://example.com/x?y=1#z', 'urn:ms:agents']) {
    const e = await bus.publish({ type: 't', source });
    assert.equal(toCloudEvent(e).source, source);
    assert.equal(fromCloudEvent(JSON.stringify(toCloudEvent(e))).source, source);
  }
  const odd = await bus.publish({ type: 't', source: 'ü/src' });
  assert.equal(toCloudEvent(odd).source, '%C3%BC/src');
  assert.equal(decodeURIComponent(toCloudEvent(odd).source), 'ü/src');
});

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('traceparent travels as the Distributed Tracing extension, passes strict validation and round-trips', async (t) => {
  const bus = await memoryBus(t);
  const e = await bus.publish({ type: 'agent.started', source: 'agents', data: { n: 1 }, correlationId: 'c-1', traceparent: TP });
  const ce = toCloudEvent(e);
  assert.equal(ce.traceparent, TP);
  const built = new CloudEvent(ce as unknown as Record<string, unknown>, true);
  assert.equal(built.validate(), true);
  assert.equal(built.traceparent, TP);
  // Through the SDK's own JSON serialisation and back.
  const back = fromCloudEvent(JSON.stringify(built));
  assert.equal(back.traceparent, TP);
  assert.deepEqual(fromCloudEvent(JSON.stringify(ce)), e);
  // An untraced event has no traceparent attribute at all.
  const plain = toCloudEvent(await bus.publish({ type: 'agent.started', source: 'agents' }));
  assert.equal(Object.hasOwn(plain, 'traceparent'), false);
  assert.equal(Object.hasOwn(fromCloudEvent(plain), 'traceparent'), false);
});

test('fromCloudEvent rejects a malformed traceparent with EVENT_INVALID naming cloudevent.traceparent', () => {
  const base = { specversion: '1.0', id: 'x-1', source: 'agents', type: 'agent.started' };
  for (const traceparent of [TP.toUpperCase(), TP.slice(1), 'ff' + TP.slice(2), '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 7]) {
    assert.throws(
      () => fromCloudEvent({ ...base, traceparent }),
      (e: Error & { code?: string; context?: Record<string, unknown> }) =>
        e.code === 'EVENT_INVALID' && e.context?.field === 'cloudevent.traceparent' && /^invalid event: cloudevent\.traceparent must be/.test(e.message),
    );
  }
  assert.equal(fromCloudEvent({ ...base, traceparent: null }).traceparent, undefined);
});
