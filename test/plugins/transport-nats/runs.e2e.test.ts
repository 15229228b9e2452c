/**
 * Distributed agent runs end to end: real agents (scripted provider) in child processes sharing a
 * JetStream event log; the node driving the runs is killed with SIGKILL mid-run and another node
 * finishes each run exactly once, without repeating any tool call.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { NodeProcess } from './nodeProcess.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { until } from './helpers.js';

const opts = skipWithoutNats();

/** `modelDelayMs`: how long this node's model takes on the second turn. */
function plugins(url: string, modelDelayMs: number, runs: Record<string, unknown> = {}): unknown[] {
  return [
    'supervision',
    'actors',
    'tools',
    { use: 'events', options: { store: { type: 'jetstream', stream: 'RUN_JOURNAL' } } },
    { use: 'transport-nats', options: { servers: url, system: 'dr', runs: { leaseTtlMs: 1500, ...runs } } },
    {
      use: 'provider-scripted',
      options: {
        scripts: {
          job: [
            { toolCalls: [{ name: 'effect.record', input: { what: 'charge the card' } }] },
            { reply: 'done', delayMs: modelDelayMs },
          ],
        },
      },
    },
    { use: 'agents', options: { distributed: true, agents: [{ name: 'worker', provider: 'scripted', model: 'job', instructions: 'work', tools: ['effect.*'], maxConcurrentRuns: 4 }] } },
  ];
}

/** Every journal record of the stream, as `type` and run id. */
async function journal(url: string): Promise<Array<{ type: string; runId: string | undefined }>> {
  const nc = await connect({ servers: url });
  try {
    const js = jetstream(nc);
    const c = await js.consumers.get('RUN_JOURNAL', { deliver_policy: DeliverPolicy.All });
    const out: Array<{ type: string; runId: string | undefined }> = [];
    const msgs = await c.consume();
    for await (const m of msgs) {
      const e = JSON.parse(m.string()) as { type: string; correlationId?: string };
      out.push({ type: e.type, runId: e.correlationId });
      if (m.info.pending === 0) break;
    }
    msgs.stop();
    return out;
  } finally {
    await nc.close();
  }
}

test('a worker killed with kill -9 mid-run has its runs finished by another node, exactly once, no tool call repeated', opts, async (t) => {
  const server = await startNats(t);
  const dir = mkdtempSync(path.join(tmpdir(), 'ms-effects-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const effects = path.join(dir, 'effects.log');
  writeFileSync(effects, '');
  const env = { MS_EFFECTS_FILE: effects };

  // On node a the model never answers in time: its runs can only be finished elsewhere.
  const a = await NodeProcess.start(t, 'a', plugins(server.url, 600_000), env);
  const runIds: string[] = [];
  for (let i = 0; i < 3; i++) runIds.push(await a.call<string>('start', { agent: 'worker', input: `job ${i}` }));
  // Node a alone pulls: it takes every run and does each tool call, then waits on the model.
  await until(() => readFileSync(effects, 'utf8').trim().split('\n').filter(Boolean).length === 3, 'the tool call of each run on node a');
  assert.deepEqual((await a.call<string[]>('running')).sort(), [...runIds].sort());

  const b = await NodeProcess.start(t, 'b', plugins(server.url, 10), env);
  await a.kill(); // SIGKILL: no hand-back, no lease release
  const results = await Promise.all(runIds.map((runId) => b.call<{ status: string; output: unknown }>('wait', { runId })));
  assert.deepEqual(results.map((r) => r.status), ['completed', 'completed', 'completed']);
  assert.deepEqual(results.map((r) => r.output), ['done', 'done', 'done']);

  const lines = readFileSync(effects, 'utf8').trim().split('\n');
  assert.equal(lines.length, 3, `each run's tool call ran once, on node a only:\n${lines.join('\n')}`);
  assert.ok(lines.every((l) => l.startsWith('a ')));
  const records = await journal(server.url);
  for (const runId of runIds) {
    const of = (type: string) => records.filter((r) => r.runId === runId && r.type === type).length;
    assert.equal(of('agent.run.completed'), 1, `${runId} completed once`);
    assert.equal(of('agent.tool.called'), 1, `${runId} called its tool once`);
    assert.equal(of('agent.tool.returned'), 1, `${runId} recorded its tool result once`);
  }
  await b.call('stop');
});

test('a node that only queues runs waits for runs another node drives', opts, async (t) => {
  const server = await startNats(t);
  const dir = mkdtempSync(path.join(tmpdir(), 'ms-effects-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const effects = path.join(dir, 'effects.log');
  writeFileSync(effects, '');
  const env = { MS_EFFECTS_FILE: effects };
  const [gateway, worker] = await Promise.all([
    NodeProcess.start(t, 'gateway', plugins(server.url, 10, { pull: false }), env),
    NodeProcess.start(t, 'worker', plugins(server.url, 10), env),
  ]);
  const runIds = await Promise.all([0, 1].map((i) => gateway.call<string>('start', { agent: 'worker', input: `job ${i}` })));
  const results = await Promise.all(runIds.map((runId) => gateway.call<{ status: string; output: unknown }>('wait', { runId })));
  assert.deepEqual(results, [{ status: 'completed', output: 'done' }, { status: 'completed', output: 'done' }]);
  const lines = readFileSync(effects, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.startsWith('worker ')), 'the worker drove both runs');
  await Promise.all([gateway.call('stop'), worker.call('stop')]);
});
