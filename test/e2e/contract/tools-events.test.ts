/**
 * Tools, built-in tools and events used through their public services, as a system would.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createKernel, loadConfig } from '../../../index.js';
import { z } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import { toCloudEvent } from '../../../plugins/events/index.js';
import type { StoredEvent } from '../../../plugins/events/types.js';
import { silent, rejectsWithCode } from './helpers.js';

describe('§4 builtin-tools', () => {
  test('echo, clock.now, fs.* confined to options.fs.root, http.fetch only to options.http.allowHosts', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-design-fs-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'note.txt'), 'inside');
    const kernel = await createTestKernel({
      plugins: [
        'supervision', 'actors',
        { use: 'tools', options: { grants: { agent: ['echo', 'clock.*', 'fs.*', 'http.fetch'] } } },
        { use: 'builtin-tools', options: { fs: { root: dir }, http: { allowHosts: ['127.0.0.1:1'] } } },
      ],
      test: t,
    });
    const tools = kernel.resolve('tools');
    assert.deepEqual(
      tools.list('agent').map((i) => i.name).sort(),
      ['clock.now', 'echo', 'fs.list', 'fs.read', 'fs.write', 'http.fetch'],
    );
    assert.match(JSON.stringify(await tools.call('agent', 'echo', { message: 'hi' }).catch(() => tools.call('agent', 'echo', { text: 'hi' }))), /hi/);
    assert.ok(await tools.call('agent', 'clock.now', {}));
    assert.match(JSON.stringify(await tools.call('agent', 'fs.read', { path: 'note.txt' })), /inside/);
    await rejectsWithCode(tools.call('agent', 'fs.read', { path: '../outside.txt' }), 'TOOL_PATH_OUTSIDE_ROOT');
    await rejectsWithCode(tools.call('agent', 'http.fetch', { url: 'http://127.0.0.2:9/' }), 'TOOL_HOST_NOT_ALLOWED');
  });
});

describe('§4 tools', () => {
  const tooling = ['supervision', 'actors', 'tools'] as const;

  test('register/grant/revoke/call/list, deny by default, validation, approval, middleware, deadline', async (t) => {
    const kernel = await createTestKernel({ plugins: [...tooling], test: t });
    const tools = kernel.resolve('tools');
    tools.register({
      name: 'math.add',
      description: 'adds',
      input: z.object({ a: z.number(), b: z.number() }),
      output: z.number(),
      handler: ({ a, b }) => a + b,
    });
    tools.register({
      name: 'slow.op',
      description: 'slow',
      input: z.object({}),
      handler: (_input, ctx) => delay(10_000, 'done', { signal: ctx.signal }),
      timeoutMs: 50,
    });
    tools.register({ name: 'bad.output', description: 'lies', input: z.object({}), output: z.string(), handler: () => 42 as never });

    // deny by default; an unknown tool is also TOOL_ACCESS_DENIED for an agent with no grant
    await rejectsWithCode(tools.call('alice', 'math.add', { a: 1, b: 2 }), 'TOOL_ACCESS_DENIED');
    await rejectsWithCode(tools.call('alice', 'no.such', {}), 'TOOL_ACCESS_DENIED');
    assert.deepEqual(tools.list('alice'), []);

    tools.grant('alice', ['math.*']);
    assert.equal(await tools.call('alice', 'math.add', { a: 2, b: 3 }), 5);
    const listed = tools.list('alice');
    assert.deepEqual(listed.map((t) => t.name), ['math.add']);
    assert.equal((listed[0]!.inputSchema as { type?: string }).type, 'object', 'list returns JSON Schemas');

    const invalid = await rejectsWithCode(tools.call('alice', 'math.add', { a: 'two', b: 3 }), 'TOOL_INVALID_INPUT');
    assert.match(invalid.message, /a/);

    tools.grant('bob', '*');
    await rejectsWithCode(tools.call('bob', 'slow.op', {}, { timeoutMs: 30 }), 'TOOL_TIMEOUT');
    await rejectsWithCode(tools.call('bob', 'bad.output', {}), 'TOOL_INVALID_OUTPUT');
    const controller = new AbortController();
    const cancelled = tools.call('bob', 'slow.op', {}, { signal: controller.signal, timeoutMs: 5_000 });
    controller.abort();
    await assert.rejects(cancelled);

    // approval: tools.hooks.approve over { agentId, tool, input, callId, delegation } → 'allow' | 'deny'
    const requests: unknown[] = [];
    tools.hooks.approve.tapPromise('reviewer', async (request) => {
      requests.push(request);
      return request.agentId === 'bob' ? 'deny' : 'allow';
    });
    await rejectsWithCode(tools.call('bob', 'math.add', { a: 1, b: 1 }), 'TOOL_REJECTED');
    assert.equal(await tools.call('alice', 'math.add', { a: 1, b: 1 }), 2);
    const req = requests[1] as Record<string, unknown>;
    assert.equal(req.agentId, 'alice');
    assert.equal(req.tool, 'math.add');
    assert.deepEqual(req.input, { a: 1, b: 1 });
    assert.equal(typeof req.callId, 'string');
    assert.ok(Array.isArray(req.delegation));

    // middleware, Koa-style (ctx, next)
    const order: string[] = [];
    const dispose = tools.use(async (ctx, next) => {
      order.push(`before ${ctx.tool}`);
      await next();
      order.push('after');
    });
    await tools.call('alice', 'math.add', { a: 1, b: 1 });
    assert.deepEqual(order, ['before math.add', 'after']);
    dispose();

    tools.revoke('alice', ['math.*']);
    await rejectsWithCode(tools.call('alice', 'math.add', { a: 1, b: 1 }), 'TOOL_ACCESS_DENIED');
  });

  test('agentAsTool(ref, spec): an actor exposed as a tool; a callee never gets more rights than its caller', async (t) => {
    const kernel = await createTestKernel({ plugins: [...tooling], test: t });
    const tools = kernel.resolve('tools');
    const actors = kernel.resolve('actors');
    tools.register({ name: 'secret.read', description: 'secret', input: z.object({}), handler: () => 'the secret' });
    const ref = actors.spawn<{ input: { q: string }; caller: string; callId: string; delegation: readonly string[] }, string>({
      receive: (msg) => `answer to ${msg.input.q} for ${msg.caller}`,
    });
    tools.agentAsTool(ref, { name: 'expert.ask', description: 'asks an expert', input: z.object({ q: z.string() }), output: z.string() });
    tools.grant('user', ['expert.*']);
    assert.match(await tools.call<string>('user', 'expert.ask', { q: 'life' }), /answer to life/);

    // the expert holds a grant the caller lacks: the delegated call is refused
    tools.register({
      name: 'proxy.read',
      description: 'reads a secret on behalf of its caller',
      input: z.object({}),
      handler: (_input, ctx) => ctx.call('secret.read', {}),
    });
    tools.grant('user', ['proxy.*']);
    await rejectsWithCode(tools.call('user', 'proxy.read', {}), 'TOOL_ACCESS_DENIED');
  });
});

describe('§4 events', () => {
  test('publish → stored event with id, time, sequence; subscribe with patterns; handler errors isolated', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'events', options: { store: { type: 'memory' } } }], test: t });
    const events = kernel.resolve('events');
    const got: string[] = [];
    events.subscribe('order.*', () => {
      throw new Error('a broken handler');
    });
    const storedBeforeDelivery: boolean[] = [];
    const sub = events.subscribe('order.*', async (e) => {
      storedBeforeDelivery.push((await events.get(e.id))?.id === e.id);
      got.push(e.type);
    });
    events.subscribe({ types: ['user.created'] }, (e) => void got.push(`filter:${e.type}`));
    const first = await events.publish({ type: 'order.placed', source: 'shop', data: { id: 1 }, subject: 'o-1', correlationId: 'c-1', causationId: 'x-0' });
    assert.equal(typeof first.id, 'string');
    assert.equal(typeof first.time, 'string');
    assert.equal(typeof first.sequence, 'number');
    assert.deepEqual(first.data, { id: 1 });
    assert.equal(first.subject, 'o-1');
    assert.equal(first.correlationId, 'c-1');
    assert.equal(first.causationId, 'x-0');
    const second = await events.publish({ type: 'user.created', source: 'shop', data: {} });
    assert.ok(second.sequence > first.sequence, 'sequence is monotonic');
    await events.publish({ type: 'order.shipped', source: 'shop', data: {} });
    for (let i = 0; i < 100 && got.length < 3; i++) await delay(5);
    assert.deepEqual(got.sort(), ['filter:user.created', 'order.placed', 'order.shipped']);
    await sub.unsubscribe();
    assert.deepEqual(storedBeforeDelivery, [true, true], 'store first, then deliver');

    const replayed: StoredEvent[] = [];
    for await (const e of events.replay({})) replayed.push(e);
    assert.deepEqual(replayed.map((e) => e.sequence), [first.sequence, second.sequence, second.sequence + 1]);

    const cloud = toCloudEvent(first) as unknown as Record<string, unknown>;
    assert.equal(cloud.specversion, '1.0');
    assert.equal(cloud.type, 'order.placed');
    assert.equal(cloud.id, first.id);
  });

  test("subscribe from 'earliest' / a sequence; durable subscriptions are at-least-once and dead-letter after maxDeliver", async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'events', options: { store: { type: 'memory' } } }], test: t });
    const events = kernel.resolve('events');
    const a = await events.publish({ type: 'tick', source: 's', data: 1 });
    await events.publish({ type: 'tick', source: 's', data: 2 });
    const earliest: unknown[] = [];
    events.subscribe('tick', (e) => void earliest.push(e.data), { from: 'earliest' });
    const fromSeq: unknown[] = [];
    events.subscribe('tick', (e) => void fromSeq.push(e.data), { from: a.sequence + 1 });
    const latest: unknown[] = [];
    events.subscribe('tick', (e) => void latest.push(e.data), { from: 'latest' });
    await events.publish({ type: 'tick', source: 's', data: 3 });
    for (let i = 0; i < 100 && (earliest.length < 3 || latest.length < 1); i++) await delay(5);
    assert.deepEqual(earliest, [1, 2, 3]);
    assert.deepEqual(fromSeq, [2, 3]);
    assert.deepEqual(latest, [3]);

    let attempts = 0;
    const dead: StoredEvent[] = [];
    events.subscribe('events.dead_letter', (e) => void dead.push(e));
    events.subscribe('job', () => {
      attempts++;
      throw new Error('always fails');
    }, { durable: 'worker', from: 'latest', maxDeliver: 3, backoff: { initialMs: 1, maxMs: 2, factor: 1, jitter: 0 } } as never);
    await events.publish({ type: 'job', source: 's', data: {} });
    for (let i = 0; i < 400 && dead.length === 0; i++) await delay(5);
    assert.equal(attempts, 3);
    assert.equal(dead.length, 1);
  });

  test('store options: memory, and file with fsync always | batch | never', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-design-fsync-'));
    try {
      for (const fsync of ['always', 'batch', 'never'] as const) {
        const kernel = await createKernel({
          config: { plugins: [{ use: 'events', options: { store: { type: 'file', dir: fsync, fsync } } }] },
          configDir: dir,
          logger: silent(),
        });
        await kernel.start();
        const e = await kernel.resolve('events').publish({ type: 't', source: 's', data: fsync });
        assert.equal(e.data, fsync);
        await kernel.stop('done');
        assert.ok(existsSync(path.join(dir, fsync)), `file store for fsync ${fsync} in its dir`);
      }
      await rejectsWithCode(
        createKernel({ config: { plugins: [{ use: 'events', options: { store: { type: 'file', dir: 'x', fsync: 'sometimes' } } }] }, logger: silent() }),
        'CONFIG_INVALID',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('store { type: "file", dir, fsync } with dir relative to the config file; events survive a restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-design-events-'));
    try {
      const configPath = path.join(dir, 'mister-smith.config.json');
      await writeFile(
        configPath,
        JSON.stringify({
          name: 'events-file',
          log: { level: 'silent' },
          plugins: [{ use: 'events', options: { store: { type: 'file', dir: '.mister-smith/events', fsync: 'always' } } }],
        }),
      );
      const first = await createKernel({ config: await loadConfig(configPath) });
      await first.start();
      const stored = await first.resolve('events').publish({ type: 'kept', source: 'test', data: { n: 1 } });
      const durable: unknown[] = [];
      first.resolve('events').subscribe('kept', (e) => void durable.push(e.data), { durable: 'keeper', from: 'earliest' });
      for (let i = 0; i < 100 && durable.length === 0; i++) await delay(5);
      await first.stop('restart');
      assert.ok(existsSync(path.join(dir, '.mister-smith', 'events')), 'the store lives relative to the config file');
      assert.ok((await readdir(path.join(dir, '.mister-smith', 'events'))).length > 0);

      const second = await createKernel({ config: await loadConfig(configPath) });
      await second.start();
      const events = second.resolve('events');
      const replayed: StoredEvent[] = [];
      for await (const e of events.replay({ types: ['kept'] })) replayed.push(e);
      assert.deepEqual(replayed.map((e) => [e.id, e.sequence]), [[stored.id, stored.sequence]]);
      const again: unknown[] = [];
      events.subscribe('kept', (e) => void again.push(e.data), { durable: 'keeper', from: 'earliest' });
      await events.publish({ type: 'kept', source: 'test', data: { n: 2 } });
      for (let i = 0; i < 100 && again.length < 1; i++) await delay(5);
      await delay(20);
      assert.deepEqual(again, [{ n: 2 }], 'a durable subscription resumes from its persisted position');
      assert.ok(events.lastSequence > stored.sequence);
      await second.stop('done');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
