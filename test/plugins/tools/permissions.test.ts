import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import { ToolBus } from '../../../plugins/tools/index.js';

function busWith(...names: string[]): ToolBus {
  const bus = new ToolBus();
  for (const name of names) bus.register({ name, description: name, input: z.object({}), handler: () => name });
  return bus;
}

test('deny by default: an agent without grants is refused with TOOL_ACCESS_DENIED', async () => {
  const bus = busWith('echo');
  await assert.rejects(bus.call('a', 'echo', {}), (e: Error & { code: string; context: Record<string, unknown> }) => {
    assert.equal(e.code, 'TOOL_ACCESS_DENIED');
    assert.equal(e.context.agentId, 'a');
    assert.equal(e.context.tool, 'echo');
    assert.match(e.message, /no grant matches/);
    return true;
  });
});

test('an unknown tool is TOOL_ACCESS_DENIED without a matching grant and TOOL_NOT_FOUND with one', async () => {
  const bus = busWith('fs.read');
  bus.grant('a', 'fs.*');
  await assert.rejects(bus.call('a', 'net.get', {}), { code: 'TOOL_ACCESS_DENIED' });
  await assert.rejects(bus.call('a', 'fs.delete', {}), { code: 'TOOL_NOT_FOUND' });
  await assert.rejects(bus.call('b', 'fs.delete', {}), { code: 'TOOL_ACCESS_DENIED' });
});

test('patterns: exact names, ns.* at any depth below ns, and *', () => {
  const bus = new ToolBus();
  bus.grant('exact', 'fs.read');
  bus.grant('ns', 'fs.*');
  bus.grant('all', '*');
  assert.equal(bus.permissions.allowed('exact', 'fs.read'), true);
  assert.equal(bus.permissions.allowed('exact', 'fs.write'), false);
  assert.equal(bus.permissions.allowed('exact', 'fs.read.more'), false);
  assert.equal(bus.permissions.allowed('ns', 'fs.read'), true);
  assert.equal(bus.permissions.allowed('ns', 'fs.dir.list'), true);
  assert.equal(bus.permissions.allowed('ns', 'fs'), false);
  assert.equal(bus.permissions.allowed('ns', 'fsx.read'), false);
  assert.equal(bus.permissions.allowed('all', 'anything.at.all'), true);
});

test('an explicit deny wins over any grant, including *', async () => {
  const bus = busWith('fs.read', 'fs.write');
  bus.grant('a', '*');
  bus.permissions.deny('a', 'fs.write');
  assert.equal(await bus.call('a', 'fs.read', {}), 'fs.read');
  await assert.rejects(bus.call('a', 'fs.write', {}), (e: Error & { code: string }) => e.code === 'TOOL_ACCESS_DENIED' && /explicit deny/.test(e.message));
  bus.permissions.undeny('a', 'fs.write');
  assert.equal(await bus.call('a', 'fs.write', {}), 'fs.write');
});

test('grant, revoke and permissions(agentId); decisions follow changes at once', async () => {
  const bus = busWith('fs.read', 'echo');
  bus.grant('a', ['fs.*', 'echo']);
  bus.grant('a', 'fs.*'); // kept once
  bus.permissions.deny('a', ['fs.write']);
  assert.deepEqual(bus.permissions.of('a'), { grants: ['fs.*', 'echo'], deny: ['fs.write'] });
  assert.equal(await bus.call('a', 'echo', {}), 'echo'); // cached as allowed
  bus.revoke('a', 'echo');
  await assert.rejects(bus.call('a', 'echo', {}), { code: 'TOOL_ACCESS_DENIED' });
  assert.equal(await bus.call('a', 'fs.read', {}), 'fs.read');
  bus.revoke('a');
  await assert.rejects(bus.call('a', 'fs.read', {}), { code: 'TOOL_ACCESS_DENIED' });
  assert.deepEqual(bus.permissions.of('a'), { grants: [], deny: ['fs.write'] });
  assert.deepEqual(bus.permissions.of('nobody'), { grants: [], deny: [] });
});

test("patterns given to agent '*' apply to every agent; its denies too", async () => {
  const bus = busWith('echo', 'clock.now');
  assert.equal(bus.permissions.allowed('x', 'echo'), false);
  bus.grant('*', ['echo', 'clock.*']);
  assert.equal(bus.permissions.allowed('x', 'echo'), true);
  assert.equal(await bus.call('y', 'clock.now', {}), 'clock.now');
  bus.permissions.deny('*', 'clock.now');
  await assert.rejects(bus.call('y', 'clock.now', {}), { code: 'TOOL_ACCESS_DENIED' });
});

test('invalid patterns fail with TOOL_INVALID_PATTERN', () => {
  const bus = new ToolBus();
  for (const p of ['fs*', '*.read', 'fs.*.read', '', 'a b', '**']) {
    assert.throws(() => bus.grant('a', p), { code: 'TOOL_INVALID_PATTERN' }, p);
    assert.throws(() => bus.permissions.deny('a', [p]), { code: 'TOOL_INVALID_PATTERN' }, p);
  }
  assert.deepEqual(bus.permissions.of('a'), { grants: [], deny: [] });
});

test('list follows grants and denies', () => {
  const bus = busWith('fs.read', 'fs.write', 'echo');
  bus.grant('a', 'fs.*');
  assert.deepEqual(bus.list('a').map((t) => t.name), ['fs.read', 'fs.write']);
  bus.permissions.deny('a', 'fs.write');
  assert.deepEqual(bus.list('a').map((t) => t.name), ['fs.read']);
});
