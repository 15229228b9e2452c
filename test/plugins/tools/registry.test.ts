import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from '../../../sdk/index.js';
import { ToolBus, ToolErrorCodes } from '../../../plugins/tools/index.js';

const input = z.object({ message: z.string() });

test('register returns a disposer that unregisters the tool', async () => {
  const bus = new ToolBus();
  bus.grant('a', '*');
  const dispose = bus.register({ name: 'echo', description: 'echo', input, handler: (i) => i });
  assert.equal(bus.has('echo'), true);
  assert.deepEqual(await bus.call('a', 'echo', { message: 'x' }), { message: 'x' });
  await dispose();
  assert.equal(bus.has('echo'), false);
  await assert.rejects(bus.call('a', 'echo', { message: 'x' }), { code: 'TOOL_NOT_FOUND' });
  await dispose(); // twice is harmless
});

test('unregister(name) removes a tool and reports whether there was one', () => {
  const bus = new ToolBus();
  bus.register({ name: 'fs.read', description: 'd', input, handler: () => 1 });
  assert.equal(bus.unregister('fs.read'), true);
  assert.equal(bus.unregister('fs.read'), false);
});

test('an old disposer does not remove a tool re-registered under the same name', async () => {
  const bus = new ToolBus();
  const first = bus.register({ name: 'x', description: 'd', input, handler: () => 1 });
  bus.unregister('x');
  bus.register({ name: 'x', description: 'd', input, handler: () => 2 });
  await first();
  assert.equal(bus.has('x'), true);
});

test('hooks.registered and hooks.unregistered follow the registry; a throwing tap is logged and changes nothing', async () => {
  const warnings: string[] = [];
  const logger = { warn: (_o: unknown, msg: string) => void warnings.push(msg) } as never;
  const bus = new ToolBus({ logger });
  const seen: string[] = [];
  bus.hooks.registered.tap('test', (name) => void seen.push(`+${name}`));
  bus.hooks.unregistered.tap('test', (name) => void seen.push(`-${name}`));
  bus.hooks.registered.tap('broken', () => {
    throw new Error('tap bug');
  });
  const dispose = bus.register({ name: 'a.one', description: 'd', input, handler: () => 1 });
  bus.register({ name: 'a.two', description: 'd', input, handler: () => 2 });
  assert.equal(bus.has('a.one'), true, 'a throwing tap does not undo the registration');
  assert.equal(warnings.length, 2);
  await dispose();
  await dispose();
  bus.unregister('a.two');
  bus.unregister('a.two');
  assert.deepEqual(seen, ['+a.one', '+a.two', '-a.one', '-a.two'], 'once per change, never for a no-op');
});

test('registering a taken name fails with TOOL_NAME_TAKEN', () => {
  const bus = new ToolBus();
  bus.register({ name: 'echo', description: 'd', input, handler: () => 1 });
  assert.throws(() => bus.register({ name: 'echo', description: 'd', input, handler: () => 2 }), (e: Error & { code: string; context: Record<string, unknown> }) => {
    assert.equal(e.code, ToolErrorCodes.NAME_TAKEN);
    assert.equal(e.name, 'ToolError');
    assert.equal(e.context.name, 'echo');
    return true;
  });
});

test('names must be dotted segments: invalid ones fail with TOOL_INVALID_NAME', () => {
  const bus = new ToolBus();
  for (const name of ['', 'fs.', '.fs', 'fs..read', '1fs', 'fs.*', 'fs read', 'a/b', 'x'.repeat(65)]) {
    assert.throws(() => bus.register({ name, description: 'd', input, handler: () => 1 }), { code: 'TOOL_INVALID_NAME' }, name);
  }
  for (const name of ['echo', 'fs.read', 'agent.research-bot', 'a.b_c.d2']) {
    bus.register({ name, description: 'd', input, handler: () => 1 });
  }
});

test('a definition without an input schema or handler fails with TOOL_INVALID_DEFINITION', () => {
  const bus = new ToolBus();
  assert.throws(() => bus.register({ name: 'x', description: 'd', input: {} as unknown as z.ZodType, handler: () => 1 }), { code: 'TOOL_INVALID_DEFINITION' });
  assert.throws(() => bus.register({ name: 'x', description: 'd', input, handler: undefined as never }), { code: 'TOOL_INVALID_DEFINITION' });
  assert.throws(() => bus.register({ name: 'x', description: 'd', input, output: 'no' as unknown as z.ZodType, handler: () => 1 }), { code: 'TOOL_INVALID_DEFINITION' });
});

test('list gives JSON Schemas equal to z.toJSONSchema of the zod schemas, only for callable tools', () => {
  const bus = new ToolBus();
  const readInput = z.object({ path: z.string().describe('relative path'), encoding: z.enum(['utf8', 'base64']).optional() });
  const readOutput = z.object({ content: z.string(), bytes: z.number().int() });
  bus.register({ name: 'fs.read', description: 'reads a file', input: readInput, output: readOutput, handler: () => ({ content: '', bytes: 0 }) });
  bus.register({ name: 'fs.write', description: 'writes', input, handler: () => 1 });
  bus.register({ name: 'echo', description: 'echo', input, handler: (i) => i });
  bus.grant('reader', ['fs.*']);
  bus.permissions.deny('reader', ['fs.write']);
  const listed = bus.list('reader');
  assert.deepEqual(listed.map((t) => t.name), ['fs.read']);
  assert.deepEqual(listed[0], {
    name: 'fs.read',
    description: 'reads a file',
    inputSchema: z.toJSONSchema(readInput),
    outputSchema: z.toJSONSchema(readOutput),
  });
  assert.equal((listed[0]!.inputSchema.properties as Record<string, { description?: string }>).path!.description, 'relative path');
  assert.deepEqual(bus.list('nobody'), []);
  bus.grant('all', '*');
  const all = bus.list('all');
  assert.deepEqual(all.map((t) => t.name).sort(), ['echo', 'fs.read', 'fs.write']);
  assert.equal(all.find((t) => t.name === 'echo')!.outputSchema, undefined);
});

test('list describes schemas that JSON Schema cannot fully represent instead of throwing', () => {
  const bus = new ToolBus();
  bus.register({ name: 't', description: 'd', input: z.object({ n: z.string().transform((s) => s.length) }), handler: (i) => i.n });
  bus.grant('a', '*');
  const [info] = bus.list('a');
  assert.equal(info!.inputSchema.type, 'object');
});
