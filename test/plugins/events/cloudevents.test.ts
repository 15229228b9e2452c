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
