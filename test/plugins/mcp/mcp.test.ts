import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z, type MisterSmithError } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import mcpPlugin from '../../../plugins/mcp/index.js';
import type { EventBus } from '../../../plugins/events/types.js';
import grantsPlugin from './fixtures/grants-plugin.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const echoServer = path.join(here, 'fixtures', 'echo-server.mjs');
const bin = path.join(here, '..', '..', '..', 'bin', 'mister-smith.js');
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789abc';

type T = { after(fn: () => unknown): void };

/** Polls a condition between event-loop turns, up to a bound: waits for state, not for time. */
async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function system(t: T, mcpOptions: Record<string, unknown> = {}) {
  return createTestKernel({
    test: t,
    plugins: ['supervision', 'events', 'tools', 'http', 'health', grantsPlugin, { use: mcpPlugin, options: { clients: { [ALICE]: 'alice', [BOB]: 'bob' }, ...mcpOptions } }],
  });
}

async function httpClient(t: T, url: string, token: string | undefined) {
  const client = new Client({ name: 'test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), token === undefined ? {} : { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

const text = (result: unknown) => ((result as { content: Array<{ text: string }> }).content)[0]!.text;

describe('mcp: the tool bus over Streamable HTTP', () => {
  test('each client is one agent: tools/list is its grants, tools/call goes through the bus under its id', async (t) => {
    const kernel = await system(t);
    const mcp = kernel.resolve('mcp');
    assert.match(mcp.url!, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const events: Array<{ type: string; data: Record<string, unknown> }> = [];
    (kernel.resolve('events') as EventBus).subscribe('tool.*', (e) => void events.push(e as never));

    const alice = await httpClient(t, mcp.url!, ALICE);
    const listed = await alice.listTools();
    assert.deepEqual(listed.tools.map((x) => x.name).sort(), ['math.add', 'math.stats']);
    const add = listed.tools.find((x) => x.name === 'math.add')!;
    assert.deepEqual(Object.keys(add.inputSchema.properties ?? {}), ['a', 'b']);
    assert.equal(add.outputSchema, undefined, 'a number output is not an MCP object schema');
    assert.equal(listed.tools.find((x) => x.name === 'math.stats')!.outputSchema?.type, 'object');

    const sum = await alice.callTool({ name: 'math.add', arguments: { a: 2, b: 3 } });
    assert.equal(sum.isError, undefined);
    assert.equal(text(sum), '5');
    const stats = await alice.callTool({ name: 'math.stats', arguments: { xs: [1, 2, 3] } });
    assert.deepEqual(stats.structuredContent, { sum: 6, n: 3 });

    const denied = await alice.callTool({ name: 'secret.read', arguments: {} });
    assert.equal(denied.isError, true);
    assert.match(text(denied), /^TOOL_ACCESS_DENIED/);
    const invalid = await alice.callTool({ name: 'math.add', arguments: { a: 'two' } });
    assert.equal(invalid.isError, true);
    assert.match(text(invalid), /^TOOL_INVALID_INPUT/);

    const bob = await httpClient(t, mcp.url!, BOB);
    assert.deepEqual((await bob.listTools()).tools.map((x) => x.name), ['secret.read']);
    assert.equal(text(await bob.callTool({ name: 'secret.read', arguments: {} })), 'the secret');

    await until('tool events', () => events.some((e) => e.type === 'tool.denied') && events.filter((e) => e.type === 'tool.called').length >= 3);
    const called = events.filter((e) => e.type === 'tool.called').map((e) => `${String(e.data.agentId)}:${String(e.data.tool)}`);
    assert.ok(called.includes('alice:math.add'), called.join());
    assert.ok(called.includes('bob:secret.read'), called.join());
    assert.equal(events.find((e) => e.type === 'tool.denied')!.data.agentId, 'alice');
  });

  test('approval and idempotency are the bus\' own: a tool needing approval asks the hook; a repeated _meta.callId runs once', async (t) => {
    const kernel = await system(t);
    const tools = kernel.resolve('tools');
    let runs = 0;
    tools.register({ name: 'math.launch', description: 'needs a human', input: z.object({ n: z.number() }), needsApproval: true, handler: ({ n }) => (runs++, n) });
    tools.register({ name: 'math.count', description: 'counts its runs', input: z.object({}), idempotent: true, handler: () => ++runs });
    const decisions: string[] = [];
    tools.hooks.approve.tap('test', (req) => (decisions.push(`${req.agentId}:${req.tool}`), req.input && (req.input as { n: number }).n > 10 ? 'deny' : 'allow'));
    const alice = await httpClient(t, kernel.resolve('mcp').url!, ALICE);
    assert.equal(text(await alice.callTool({ name: 'math.launch', arguments: { n: 1 } })), '1');
    const denied = await alice.callTool({ name: 'math.launch', arguments: { n: 99 } });
    assert.equal(denied.isError, true);
    assert.match(text(denied), /^TOOL_REJECTED/);
    assert.deepEqual(decisions, ['alice:math.launch', 'alice:math.launch']);
    runs = 0;
    const first = await alice.callTool({ name: 'math.count', arguments: {}, _meta: { callId: 'call-1' } });
    const again = await alice.callTool({ name: 'math.count', arguments: {}, _meta: { callId: 'call-1' } });
    assert.equal(text(first), '1');
    assert.equal(text(again), '1');
    assert.equal(runs, 1);
  });

  test("a client's trace context reaches the tool (from _meta.traceparent, else the traceparent header); a malformed one is ignored", async (t) => {
    const kernel = await system(t);
    const tools = kernel.resolve('tools');
    const seen: Array<string | undefined> = [];
    tools.register({ name: 'math.trace', description: 'reports its trace context', input: z.object({}), handler: (_input, ctx) => (seen.push(ctx.traceparent), 'ok') });
    const fromMeta = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const fromHeader = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const url = new URL(kernel.resolve('mcp').url!);
    const plain = await httpClient(t, url.href, ALICE);
    const traced = new Client({ name: 'traced', version: '1.0.0' });
    await traced.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${ALICE}`, traceparent: fromHeader } } }));
    t.after(() => traced.close());

    await plain.callTool({ name: 'math.trace', arguments: {}, _meta: { traceparent: fromMeta } });
    await traced.callTool({ name: 'math.trace', arguments: {} });
    await traced.callTool({ name: 'math.trace', arguments: {}, _meta: { traceparent: fromMeta } });
    await plain.callTool({ name: 'math.trace', arguments: {}, _meta: { traceparent: 'not-a-trace' } });
    await plain.callTool({ name: 'math.trace', arguments: {} });
    assert.deepEqual(seen, [fromMeta, fromHeader, fromMeta, undefined, undefined]);
  });

  test('a request without a token, or with an unknown one, is refused with 401', async (t) => {
    const kernel = await system(t);
    const url = kernel.resolve('mcp').url!;
    for (const token of [undefined, 'not-a-known-token-at-all']) {
      await assert.rejects(httpClient(t, url, token), /401|Unauthorized/);
    }
    const get = await fetch(url, { headers: { authorization: `Bearer ${ALICE}` } });
    assert.equal(get.status, 405);
  });

  test("with the http plugin's own bearer auth on, the endpoint still takes its client tokens (and only those)", async (t) => {
    const kernel = await createTestKernel({
      test: t,
      plugins: ['supervision', 'tools', { use: 'http', options: { auth: { token: 'http-plugin-secret-token' } } }, grantsPlugin, { use: mcpPlugin, options: { clients: { [ALICE]: 'alice' } } }],
    });
    const url = kernel.resolve('mcp').url!;
    const alice = await httpClient(t, url, ALICE);
    assert.equal(text(await alice.callTool({ name: 'math.add', arguments: { a: 1, b: 2 } })), '3');
    await assert.rejects(httpClient(t, url, 'http-plugin-secret-token'), /401|Unauthorized/);
  });

  test('issueToken gives an ephemeral identity that dispose revokes', async (t) => {
    const kernel = await system(t);
    const issued = kernel.resolve('mcp').issueToken('bob');
    assert.equal(issued.url, kernel.resolve('mcp').url);
    const client = await httpClient(t, issued.url, issued.token);
    assert.equal(text(await client.callTool({ name: 'secret.read', arguments: {} })), 'the secret');
    await issued.dispose();
    await assert.rejects(client.listTools(), /401|Unauthorized/);
  });

  test('an issued token with a delegation chain only sees and calls what every agent in it may', async (t) => {
    const kernel = await system(t);
    kernel.resolve('tools').grant('carol', ['math.*', 'secret.*']);
    const issued = kernel.resolve('mcp').issueToken('carol', { delegation: ['bob'] });
    const client = await httpClient(t, issued.url, issued.token);
    assert.deepEqual((await client.listTools()).tools.map((x) => x.name), ['secret.read']);
    assert.equal((await client.callTool({ name: 'math.add', arguments: { a: 1, b: 1 } })).isError, true);
  });

  test('an issued token limited to some tools lists and calls only those, on top of the grants', async (t) => {
    const kernel = await system(t);
    const issued = kernel.resolve('mcp').issueToken('alice', { tools: ['math.stats', 'secret.read'] });
    const client = await httpClient(t, issued.url, issued.token);
    assert.deepEqual((await client.listTools()).tools.map((x) => x.name), ['math.stats'], 'secret.read is not granted; math.add is not offered');
    const notOffered = await client.callTool({ name: 'math.add', arguments: { a: 1, b: 1 } });
    assert.equal(notOffered.isError, true);
    assert.match(text(notOffered), /^TOOL_ACCESS_DENIED: 'math.add' is not among the tools offered/);
    assert.match(text(await client.callTool({ name: 'secret.read', arguments: {} })), /^TOOL_ACCESS_DENIED/);
    assert.deepEqual((await client.callTool({ name: 'math.stats', arguments: { xs: [2] } })).structuredContent, { sum: 2, n: 1 });
  });

  test('without the http plugin there is no endpoint and issueToken says what is missing', async (t) => {
    const kernel = await createTestKernel({ test: t, plugins: ['supervision', 'tools', mcpPlugin] });
    assert.equal(kernel.resolve('mcp').url, undefined);
    assert.throws(() => kernel.resolve('mcp').issueToken('alice'), (e: MisterSmithError) => e.code === 'MCP_HTTP_UNAVAILABLE' && /http plugin is not loaded/.test(e.message));
  });

  test('bad options are config errors (short client token, bad server name)', async () => {
    await assert.rejects(createTestKernel({ plugins: ['supervision', 'tools', { use: mcpPlugin, options: { clients: { short: 'alice' } } }] }), /at least 16 characters/);
    await assert.rejects(createTestKernel({ plugins: ['supervision', 'tools', { use: mcpPlugin, options: { servers: { '9x': { command: 'x' } } } }] }), /server name/);
  });

  test('passes the conformance check', async () => {
    await checkPluginConformance(mcpPlugin, { with: ['supervision', 'tools', 'http'] });
  });
});

describe('mcp: stdio (mister-smith mcp --agent <id>)', () => {
  test("the SDK's stdio client lists and calls tools as the agent named on the command line", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ms-mcp-stdio-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const configPath = path.join(dir, 'mister-smith.config.json');
    writeFileSync(configPath, JSON.stringify({ name: 'mcp-stdio', log: { level: 'warn' }, plugins: ['supervision', 'tools', path.join(here, 'fixtures', 'grants-plugin.ts'), 'mcp'] }));
    for (const [agent, expected] of [['alice', ['math.add', 'math.stats']], ['bob', ['secret.read']]] as const) {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [bin, 'mcp', '--config', configPath, '--agent', agent],
        env: getDefaultEnvironment(),
        cwd: process.cwd(),
        stderr: 'pipe',
      });
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(transport);
      t.after(() => client.close());
      assert.deepEqual((await client.listTools()).tools.map((x) => x.name).sort(), [...expected]);
      if (agent === 'alice') {
        assert.equal(text(await client.callTool({ name: 'math.add', arguments: { a: 20, b: 22 } })), '42');
        assert.match(text(await client.callTool({ name: 'secret.read', arguments: {} })), /^TOOL_ACCESS_DENIED/);
      }
      const pid = transport.pid!;
      await client.close();
      await until('the stdio host to exit', () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
    }
  });

  test('without --agent the command fails with usage and exit code 2', async () => {
    const { mcpCommand } = await import('../../../plugins/mcp/index.js');
    let err = '';
    const code = await mcpCommand.run({
      argv: [],
      options: {} as never,
      configDir: here,
      config: {} as never,
      stdout: process.stdout,
      stderr: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
      signal: new AbortController().signal,
      startKernel: () => assert.fail('must not start a kernel'),
    });
    assert.equal(code, 2);
    assert.match(err, /--agent <agentId> is required/);
  });
});

describe('mcp: external servers', () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  test('a stdio server is imported as mcp.<name>.<tool>, callable only with a grant, restarted after a crash, stopped with the kernel', async (t) => {
    const kernel = await system(t, { servers: { fx: { command: process.execPath, args: [echoServer] } } });
    const mcp = kernel.resolve('mcp');
    const tools = kernel.resolve('tools');
    const [status] = mcp.servers();
    assert.equal(status!.state, 'connected');
    assert.deepEqual([...status!.tools].sort(), ['mcp.fx.echo', 'mcp.fx.fail']);
    const pid = status!.pid!;
    assert.ok(alive(pid));
    assert.equal((await kernel.resolve('health').run('mcp-servers')).status, 'healthy');

    await assert.rejects(tools.call('alice', 'mcp.fx.echo', { text: 'hi' }), (e: MisterSmithError) => e.code === 'TOOL_ACCESS_DENIED');
    tools.grant('alice', 'mcp.fx.*');
    assert.equal(await tools.call('alice', 'mcp.fx.echo', { text: 'hi' }), `echo(${pid}): hi`);
    await assert.rejects(tools.call('alice', 'mcp.fx.echo', { text: 42 }), (e: MisterSmithError) => e.code === 'TOOL_INVALID_INPUT');
    await assert.rejects(tools.call('alice', 'mcp.fx.fail', {}), (e: MisterSmithError) => /it failed on purpose/.test(e.message));

    // Imported tools are served over MCP too, under the same grants.
    const alice = await httpClient(t, mcp.url!, ALICE);
    assert.ok((await alice.listTools()).tools.some((x) => x.name === 'mcp.fx.echo'));
    const bob = await httpClient(t, mcp.url!, BOB);
    assert.ok(!(await bob.listTools()).tools.some((x) => x.name === 'mcp.fx.echo'));

    process.kill(pid, 'SIGKILL');
    await until('the supervisor to restart the server', () => mcp.servers()[0]!.restarts === 1 && mcp.servers()[0]!.state === 'connected');
    const restarted = mcp.servers()[0]!.pid!;
    assert.notEqual(restarted, pid);
    assert.equal(await tools.call('alice', 'mcp.fx.echo', { text: 'again' }), `echo(${restarted}): again`);

    await kernel.stop();
    await until('the server process to end', () => !alive(restarted));
    assert.equal(mcp.servers()[0]!.state, 'stopped');
  });

  test('a server crashing past maxRestarts is given up on — its tools fail for good (not retryable) and health says so — while the other servers go on', async (t) => {
    // The supervision plugin escalates a root tree that gives up to the kernel; told to ignore it,
    // the system runs on without the server.
    const kernel = await createTestKernel({
      test: t,
      plugins: [
        { use: 'supervision', options: { recovery: { supervision: 'ignore' } } },
        'events',
        'tools',
        'http',
        'health',
        grantsPlugin,
        { use: mcpPlugin, options: { clients: { [ALICE]: 'alice' }, maxRestarts: 1, servers: { fx: { command: process.execPath, args: [echoServer] }, steady: { command: process.execPath, args: [echoServer] } } } },
      ],
    });
    const faults: string[] = [];
    kernel.hooks.fault.tap({ name: 'test', stage: -1 }, (fault) => void faults.push(`${fault.source}: ${fault.error.message}`));
    const mcp = kernel.resolve('mcp');
    const tools = kernel.resolve('tools');
    tools.grant('alice', 'mcp.*');
    const fx = () => mcp.servers().find((s) => s.name === 'fx')!;
    const steady = () => mcp.servers().find((s) => s.name === 'steady')!;
    process.kill(fx().pid!, 'SIGKILL');
    await until('the first restart', () => fx().restarts === 1 && fx().state === 'connected');
    process.kill(fx().pid!, 'SIGKILL');
    await until('the supervisor to give up', () => fx().state === 'failed');
    await until('the kernel fault', () => faults.some((f) => f.startsWith('supervisor:mcp-server:fx: ')));
    assert.match(faults.find((f) => f.startsWith('supervisor:mcp-server:fx: '))!, /exceeded its restart intensity/);

    const failure = await tools.call('alice', 'mcp.fx.echo', { text: 'hi' }).then(
      () => assert.fail('a given-up server answered'),
      (e: MisterSmithError) => e,
    );
    assert.equal(failure.code, 'MCP_SERVER_UNAVAILABLE');
    assert.equal(failure.retryable, false, 'nobody restarts it: retrying cannot help');
    assert.match(failure.message, /gave up/);
    const health = await kernel.resolve('health').run('mcp-servers');
    assert.equal(health.status, 'degraded');
    assert.match(health.message ?? '', /fx \(failed\)/);
    assert.equal(fx().pid, undefined);

    // maxRestarts counts one server's crashes: the other one was never touched.
    assert.equal(steady().state, 'connected');
    assert.equal(steady().restarts, 0);
    assert.equal(await tools.call('alice', 'mcp.steady.echo', { text: 'still here' }), `echo(${steady().pid}): still here`);
  });

  test('by default a server crashing past maxRestarts stops the system (the supervision escalation), leaving no server process behind', async (t) => {
    const kernel = await system(t, { servers: { fx: { command: process.execPath, args: [echoServer] } }, maxRestarts: 0 });
    const mcp = kernel.resolve('mcp');
    const pid = mcp.servers()[0]!.pid!;
    process.kill(pid, 'SIGKILL');
    await until('the kernel to stop', () => kernel.state === 'stopped');
    assert.equal(mcp.servers()[0]!.state, 'stopped');
    assert.ok(!alive(pid));
  });

  test('a Streamable HTTP server (another Mister Smith) is imported by url, with its headers', async (t) => {
    const remote = await system(t);
    const local = await createTestKernel({
      test: t,
      plugins: ['supervision', 'tools', { use: mcpPlugin, options: { servers: { remote: { url: remote.resolve('mcp').url!, headers: { authorization: `Bearer ${ALICE}` } } } } }],
    });
    const [status] = local.resolve('mcp').servers();
    assert.equal(status!.kind, 'url');
    assert.equal(status!.state, 'connected');
    // What the remote lists is what its client 'alice' may call there.
    assert.deepEqual([...status!.tools].sort(), ['mcp.remote.math_add', 'mcp.remote.math_stats']);
    const tools = local.resolve('tools');
    tools.grant('dora', 'mcp.remote.math_add');
    assert.equal(await tools.call('dora', 'mcp.remote.math_add', { a: 40, b: 2 }), '42');
    assert.deepEqual(await tools.call('eve', 'mcp.remote.math_stats', { xs: [1, 2] }).catch((e: MisterSmithError) => e.code), 'TOOL_ACCESS_DENIED');
  });

  test('a server whose command does not exist fails the start, naming it', async () => {
    await assert.rejects(
      createTestKernel({ plugins: ['supervision', 'tools', { use: mcpPlugin, options: { servers: { ghost: { command: 'ms-no-such-mcp-server-binary' } }, connectTimeoutMs: 5_000 } }] }),
      /ghost/,
    );
  });
});
