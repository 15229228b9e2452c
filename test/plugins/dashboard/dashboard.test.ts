/**
 * The dashboard's API and live feed through real HTTP: runs rebuilt from the agents' journal,
 * the supervision tree with restarts, approvals forwarded to `agents.approve`, events, health,
 * strict options, assets that cannot escape their folder, and SSE streams that a stop ends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import dashboard from '../../../plugins/dashboard/index.js';
import type { PendingApproval, RunDetail, RunSummary, TreeNode } from '../../../plugins/dashboard/index.js';
import type { EventBus, EventInput } from '../../../plugins/events/types.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import { definePlugin } from '../../../sdk/index.js';
import { errorOf, request } from '../http/helpers.js';

/** Every kernel a test starts is stopped after it, explicitly: nothing is left listening. */
const started: Array<{ stop(reason?: string): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((k) => k.stop('test finished')));
});
async function startKernel(options: Parameters<typeof createTestKernel>[0]) {
  const kernel = await createTestKernel(options);
  started.push(kernel);
  return kernel;
}

const QUIET_HEALTH = { use: 'health', options: { eventLoop: { enabled: false }, heap: { enabled: false } } };

interface Decision {
  runId: string;
  callId: string;
  decision: string;
}

/** A stand-in agents service: the dashboard reads `list` and calls `approve`; the journal comes from events. */
function fakeAgents(decisions: Decision[], refuse?: { code: string; message: string }) {
  return definePlugin({
    name: 'agents',
    version: '1.0.0',
    setup(ctx) {
      ctx.provide('agents', {
        list: () => [{ name: 'coordinator', provider: 'scripted', model: 'm', tools: ['agent.worker'] }],
        approve: async (runId: string, callId: string, decision: string) => {
          if (refuse !== undefined) throw Object.assign(new Error(refuse.message), { code: refuse.code });
          decisions.push({ runId, callId, decision });
        },
      } as never);
    },
  });
}

async function kernelWith(extra: { agents?: ReturnType<typeof fakeAgents>; options?: Record<string, unknown> } = {}) {
  const plugins = [
    { use: 'events', options: { store: { type: 'memory' } } },
    'supervision',
    'http',
    QUIET_HEALTH,
    ...(extra.agents !== undefined ? [extra.agents] : []),
    { use: dashboard, options: { snapshotIntervalMs: 100, ...extra.options } },
  ];
  const kernel = await startKernel({ plugins });
  const url = kernel.resolve('http').url!;
  return { kernel, url, events: kernel.resolve<EventBus>('events') };
}

/** The journal of one delegating run: a coordinator run with a worker sub-run and an approval. */
async function journal(events: EventBus): Promise<void> {
  const e = (type: string, runId: string, data: Record<string, unknown>): EventInput => ({ type, source: 'agents', correlationId: runId, data });
  await events.publishMany([
    e('agent.run.started', 'r1', { agent: 'coordinator', input: 'What is the largest budget line?' }),
    e('agent.model.responded', 'r1', { turn: 0, toolCalls: [{ id: 'c1', name: 'agent.worker', input: { prompt: 'find it' } }], usage: { inputTokens: 100, outputTokens: 10 }, costUsd: 0.01 }),
    e('agent.tool.called', 'r1', { callId: 'c1', name: 'agent.worker', input: { prompt: 'find it' } }),
    e('agent.run.started', 'r2', { agent: 'worker', input: 'find it', parentRunId: 'r1' }),
    e('agent.model.responded', 'r2', { turn: 0, reply: 'budget.md: Larkspur', usage: { inputTokens: 50, outputTokens: 5 } }),
    e('agent.run.completed', 'r2', { output: 'budget.md: Larkspur', usage: { inputTokens: 50, outputTokens: 5, totalTokens: 55, toolCalls: 0, turns: 1, costUsd: 0 } }),
    e('agent.tool.returned', 'r1', { callId: 'c1', output: 'budget.md: Larkspur' }),
    e('agent.model.responded', 'r1', { turn: 1, toolCalls: [{ id: 'c2', name: 'report.publish', input: { title: 't' } }], usage: { inputTokens: 200, outputTokens: 20 } }),
    e('agent.run.suspended', 'r1', { callId: 'c2', reason: 'approval' }),
  ]);
}

/** A live SSE connection: parsed messages as they arrive. */
function openStream(url: string, headers: Record<string, string> = {}) {
  const messages: Array<{ event: string; id?: string; data: unknown }> = [];
  const waiters = new Set<() => void>();
  let ended = false;
  let res: IncomingMessage | undefined;
  const req = httpRequest(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } }, (r) => {
    res = r;
    let buffer = '';
    r.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
        if (fields.data !== undefined) messages.push({ event: fields.event ?? 'message', ...(fields.id !== undefined ? { id: fields.id } : {}), data: JSON.parse(fields.data) });
        for (const w of waiters) w();
      }
    });
    r.on('end', () => {
      ended = true;
      for (const w of waiters) w();
    });
  });
  req.on('error', () => {
    ended = true;
    for (const w of waiters) w();
  });
  req.end();
  const until = (ok: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (ok()) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 2000)}`));
      }, 20_000);
      waiters.add(check);
      check();
    });
  return {
    messages,
    headers: () => res?.headers,
    ended: () => ended,
    until,
    close: () => req.destroy(),
  };
}

describe('dashboard plugin', () => {
  test('serves the page at its path with the title, and its assets', async () => {
    const { url } = await kernelWith({ options: { title: 'Ops <room>', path: '/ops/' } });
    const page = await request(`${url}/ops/`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.text, /<title>Ops &#60;room&#62;<\/title>/, 'the title is HTML-escaped');
    assert.match(page.text, /\/dashboard\/assets\/app\.js/);
    for (const [file, type] of [['app.js', /javascript/], ['style.css', /text\/css/]] as const) {
      const asset = await request(`${url}/dashboard/assets/${file}`);
      assert.equal(asset.status, 200, file);
      assert.match(String(asset.headers['content-type']), type);
    }
    assert.equal((await request(`${url}/`)).status, 404, 'the page moved to /ops/');
    for (const bad of ['..%2Fpackage.json', '..%2F..%2Findex.ts', 'nope.js', '.hidden.js']) {
      const res = await request(`${url}/dashboard/assets/${bad}`);
      assert.equal(res.status, 404, bad);
      assert.equal(errorOf(res).code, 'DASHBOARD_ASSET_NOT_FOUND');
    }
  });

  test('rebuilds runs, sub-runs, usage and pending approvals from the journal', async () => {
    const { url, events } = await kernelWith();
    await journal(events);
    const runs = (await request(`${url}/dashboard/api/runs`)).json<RunSummary[]>();
    const r1 = runs.find((r) => r.runId === 'r1')!;
    const r2 = runs.find((r) => r.runId === 'r2')!;
    assert.equal(r1.status, 'suspended');
    assert.equal(r1.pendingApprovals, 1);
    assert.deepEqual(r1.usage, { inputTokens: 300, outputTokens: 30, totalTokens: 330, toolCalls: 1, turns: 2, costUsd: 0.01 });
    assert.equal(r2.status, 'completed');
    assert.equal(r2.parentRunId, 'r1');
    assert.equal(r2.output, 'budget.md: Larkspur');
    assert.equal(r2.usage.totalTokens, 55);

    const filtered = (await request(`${url}/dashboard/api/runs?agent=worker`)).json<RunSummary[]>();
    assert.deepEqual(filtered.map((r) => r.runId), ['r2']);

    const detail = (await request(`${url}/dashboard/api/runs/r1`)).json<RunDetail>();
    assert.deepEqual(detail.steps.map((s) => s.kind), ['run.started', 'model.responded', 'tool.called', 'tool.returned', 'model.responded', 'run.suspended']);
    assert.equal(detail.steps[3]!.tool, 'agent.worker', 'a result is named after its call');
    assert.deepEqual(detail.children.map((c) => c.runId), ['r2']);

    const approvals = (await request(`${url}/dashboard/api/approvals`)).json<PendingApproval[]>();
    assert.deepEqual(approvals.map((a) => [a.runId, a.callId, a.tool, a.agent]), [['r1', 'c2', 'report.publish', 'coordinator']]);

    const missing = await request(`${url}/dashboard/api/runs/nope`);
    assert.equal(missing.status, 404);
    assert.equal(errorOf(missing).code, 'DASHBOARD_RUN_NOT_FOUND');

    // The run goes on: the approval is gone, and the run completes.
    await events.publishMany([
      { type: 'agent.run.resumed', source: 'agents', correlationId: 'r1', data: {} },
      { type: 'agent.tool.called', source: 'agents', correlationId: 'r1', data: { callId: 'c2', name: 'report.publish', input: {} } },
      { type: 'agent.tool.returned', source: 'agents', correlationId: 'r1', data: { callId: 'c2', output: { file: 'a.md' } } },
      { type: 'agent.run.completed', source: 'agents', correlationId: 'r1', data: { output: 'done', usage: { inputTokens: 300, outputTokens: 30, totalTokens: 330, toolCalls: 2, turns: 3, costUsd: 0.01 } } },
    ]);
    assert.deepEqual((await request(`${url}/dashboard/api/approvals`)).json(), []);
    const after = (await request(`${url}/dashboard/api/runs/r1`)).json<RunDetail>();
    assert.equal(after.summary.status, 'completed');
    assert.equal(after.summary.usage.toolCalls, 2, 'the usage the run reported wins');
  });

  test('reads runs already on the log when it starts (a restarted process shows earlier runs)', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-log-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const store = { use: 'events', options: { store: { type: 'file', dir } } };
    const first = await startKernel({ plugins: [store] });
    await journal(first.resolve<EventBus>('events'));
    await first.stop('first process done');

    const second = await startKernel({ plugins: [store, 'http', { use: dashboard, options: {} }] });
    const url = second.resolve('http').url!;
    const runs = (await request(`${url}/dashboard/api/runs`)).json<RunSummary[]>();
    assert.deepEqual(runs.map((r) => [r.runId, r.status]).sort(), [['r1', 'suspended'], ['r2', 'completed']]);
    assert.equal((await request(`${url}/dashboard/api/approvals`)).json<PendingApproval[]>().length, 1);
    const detail = (await request(`${url}/dashboard/api/runs/r1`)).json<RunDetail>();
    assert.equal(detail.steps.length, 6);
    const events = (await request(`${url}/dashboard/api/events`)).json<Array<{ type: string }>>();
    assert.equal(events.filter((e) => e.type.startsWith('agent.')).length, 9, 'the event panel starts with the tail of the log');
  });

  test('shows the supervision tree with a restarted child', async () => {
    const { kernel, url } = await kernelWith();
    let starts = 0;
    let crash!: (error: Error) => void;
    const restarted = new Promise<void>((resolve) => {
      void kernel.resolve('supervision').start({
        id: 'team',
        children: [
          {
            id: 'worker',
            backoff: { initialMs: 0, jitter: 0 },
            start: () => {
              starts++;
              if (starts === 2) resolve();
              return { exited: new Promise((_r, reject) => (crash = reject)), stop: async () => {} };
            },
          },
        ],
      });
    });
    await new Promise<void>((r) => setImmediate(r));
    crash(new Error('boom'));
    await restarted;
    const tree = (await request(`${url}/dashboard/api/tree`)).json<TreeNode[]>();
    const team = tree.find((n) => n.id === 'team')!;
    assert.equal(team.type, 'supervisor');
    const worker = team.children!.find((c) => c.id === 'worker')!;
    assert.equal(worker.restartCount, 1);
    const metrics = (await request(`${url}/dashboard/api/metrics`)).json<Array<{ name: string; value: number }>>();
    // The restart event is delivered to the dashboard's subscription asynchronously: wait for it on the feed.
    const stream = openStream(`${url}/dashboard/api/stream`);
    await stream.until(() => stream.messages.some((m) => (m.data as { metrics: Array<{ name: string; value: number }> }).metrics.some((x) => x.name === 'restarts' && x.value === 1)), 'restarts = 1');
    stream.close();
    assert.ok(metrics.some((m) => m.name === 'restarts'));
  });

  test('forwards Allow/Deny to agents.approve and maps its refusals', async () => {
    const decisions: Decision[] = [];
    const { url } = await kernelWith({ agents: fakeAgents(decisions) });
    const overview = (await request(`${url}/dashboard/api/overview`)).json<{ features: { approvals: boolean; agents: boolean } }>();
    assert.equal(overview.features.approvals, true);
    const post = (path: string, body: unknown) => request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = await post('/dashboard/api/runs/r%201/approvals/c%3A2', { decision: 'allow' });
    assert.equal(ok.status, 202);
    assert.deepEqual(decisions, [{ runId: 'r 1', callId: 'c:2', decision: 'allow' }]);
    const bad = await post('/dashboard/api/runs/r1/approvals/c2', { decision: 'maybe' });
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad).code, 'DASHBOARD_BAD_DECISION');
    assert.equal(decisions.length, 1);
    const agents = (await request(`${url}/dashboard/api/agents`)).json<Array<{ name: string }>>();
    assert.deepEqual(agents.map((a) => a.name), ['coordinator']);

    const refused = await kernelWith({ agents: fakeAgents([], { code: 'AGENT_RUN_NOT_FOUND', message: "no run 'x'" }) });
    const notFound = await request(`${refused.url}/dashboard/api/runs/x/approvals/c`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"decision":"deny"}' });
    assert.equal(notFound.status, 404);
    assert.deepEqual(errorOf(notFound), { code: 'AGENT_RUN_NOT_FOUND', message: "no run 'x'" });
    const conflict = await kernelWith({ agents: fakeAgents([], { code: 'AGENT_NOT_SUSPENDED', message: 'run r is running' }) });
    const taken = await request(`${conflict.url}/dashboard/api/runs/r/approvals/c`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"decision":"allow"}' });
    assert.equal(taken.status, 409);
  });

  test('without an agents service that approves, Allow/Deny answers 501', async () => {
    const { url } = await kernelWith();
    const res = await request(`${url}/dashboard/api/runs/r1/approvals/c1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"decision":"allow"}' });
    assert.equal(res.status, 501);
    assert.equal(errorOf(res).code, 'DASHBOARD_APPROVALS_UNAVAILABLE');
    const overview = (await request(`${url}/dashboard/api/overview`)).json<{ features: Record<string, boolean>; links: Record<string, string> }>();
    assert.equal(overview.features.approvals, false);
    assert.equal(overview.features.agents, false);
    assert.deepEqual(overview.links, { healthz: '/healthz' });
  });

  test('the event panel keeps the last eventBuffer events and validates its query', async () => {
    const { url, events } = await kernelWith({ options: { eventBuffer: 10 } });
    for (let i = 0; i < 25; i++) await events.publish({ type: 'demo.tick', source: 'test', data: { i } });
    const all = (await request(`${url}/dashboard/api/events`)).json<Array<{ type: string; summary: string; sequence: number }>>();
    const ticks = all.filter((e) => e.type === 'demo.tick');
    assert.ok(all.length <= 10);
    assert.equal(ticks.at(-1)!.summary, '{"i":24}');
    const last3 = (await request(`${url}/dashboard/api/events?limit=3`)).json<Array<{ sequence: number }>>();
    assert.deepEqual(last3.map((e) => e.sequence), all.slice(-3).map((e) => e.sequence));
    for (const q of ['limit=0', 'limit=x', 'after=-1']) {
      const res = await request(`${url}/dashboard/api/events?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(errorOf(res).code, 'DASHBOARD_BAD_QUERY');
    }
    const health = await request(`${url}/dashboard/api/health`);
    assert.equal(health.status, 200);
    assert.ok('checks' in health.json());
  });

  test('the live feed sends the full state, then each change; a reconnect with Last-Event-ID gets what it missed', async () => {
    const { url, events } = await kernelWith();
    const stream = openStream(`${url}/dashboard/api/stream`);
    await stream.until(() => stream.messages.length >= 1, 'the first update');
    assert.match(String(stream.headers()?.['content-type']), /text\/event-stream/);
    const first = stream.messages[0]!.data as { runs: unknown[]; tree: unknown[]; approvals: unknown[] };
    assert.ok(Array.isArray(first.tree) && Array.isArray(first.approvals));
    await journal(events);
    await stream.until(
      () => stream.messages.some((m) => (m.data as { runs: RunSummary[] }).runs.some((r) => r.runId === 'r1' && r.status === 'suspended')),
      'run r1 on the feed',
    );
    const withApprovals = stream.messages.find((m) => ((m.data as { approvals?: PendingApproval[] }).approvals ?? []).length > 0);
    assert.ok(withApprovals, 'the pending approval is pushed');
    const seen = stream.messages.flatMap((m) => (m.data as { events: Array<{ sequence: number }> }).events);
    assert.ok(seen.length >= 9, 'the journal events are pushed to the stream panel');
    stream.close();

    const mark = events.lastSequence;
    await events.publish({ type: 'demo.missed', source: 'test' });
    const again = openStream(`${url}/dashboard/api/stream`, { 'last-event-id': String(mark) });
    await again.until(() => again.messages.length >= 1, 'the reconnect backlog');
    const backlog = again.messages[0]!.data as { events: Array<{ type: string }>; runs: RunSummary[] };
    assert.deepEqual(backlog.events.map((e) => e.type), ['demo.missed']);
    assert.equal(backlog.runs.length, 2, 'a reconnect gets every run');
    again.close();
    // A page's first connection says with ?after= what it already fetched from /events.
    const fresh = openStream(`${url}/dashboard/api/stream?after=${mark}`);
    await fresh.until(() => fresh.messages.length >= 1, 'the first backlog');
    assert.deepEqual((fresh.messages[0]!.data as { events: Array<{ type: string }> }).events.map((e) => e.type), ['demo.missed']);
    fresh.close();
  });

  test('a stopping kernel ends open streams at once; a stream also ends after streamMaxMs', async () => {
    const { kernel, url } = await kernelWith({ options: { streamMaxMs: 1_000 } });
    const short = openStream(`${url}/dashboard/api/stream`);
    await short.until(() => short.messages.length >= 1, 'the first update');
    await short.until(() => short.ended(), 'the end of a stream after streamMaxMs');
    const open = openStream(`${url}/dashboard/api/stream`);
    await open.until(() => open.messages.length >= 1, 'the first update');
    const report = await kernel.stop('test');
    assert.deepEqual(report.errors, []);
    await open.until(() => open.ended(), 'the end of the stream');
  });

  test('options are strict and validated', async () => {
    for (const [options, path] of [
      [{ path: 'ops' }, 'path'],
      [{ path: '/ops' }, 'path'],
      [{ eventBuffer: 1 }, 'eventBuffer'],
      [{ title: '' }, 'title'],
      [{ tittle: 'typo' }, 'tittle'],
    ] as const) {
      await assert.rejects(
        createTestKernel({ plugins: ['http', { use: dashboard, options }], start: false }),
        (error: { code?: string; problems?: string[] }) => error.code === 'CONFIG_INVALID' && (error.problems ?? []).some((p) => p.includes(path)),
        JSON.stringify(options),
      );
    }
  });

  test('passes the plugin conformance check, alone and with a live stream open', async () => {
    await checkPluginConformance(dashboard);
    await checkPluginConformance(dashboard, {
      with: [{ use: 'events', options: { store: { type: 'memory' } } }, 'supervision', 'http', QUIET_HEALTH],
      exercise: async (kernel) => {
        const stream = openStream(`${kernel.resolve('http').url}/dashboard/api/stream`);
        await stream.until(() => stream.messages.length >= 1, 'the first update');
      },
    });
  });
});
