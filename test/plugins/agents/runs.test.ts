/** Runs through the public API: concurrency and slots, parallel tools, budgets, sessions, structured output, streams, providers, HTTP. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import scriptedPlugin from '../../../plugins/provider-scripted/index.js';
import { definePlugin } from '../../../sdk/index.js';
import type { RunStreamChunk } from '../../../plugins/agents/types.js';
import { errorOf, Gates, RecordingProvider, recordOf, system } from './helpers.js';

const u = (i: number, o: number) => ({ inputTokens: i, outputTokens: o });

function providerPlugin(provider: RecordingProvider) {
  return definePlugin({
    name: `provider-${provider.name}`,
    version: '1.0.0',
    dependsOn: ['agents'],
    setup(ctx) {
      ctx.onStop(ctx.resolve('agents').registerProvider(provider));
    },
  });
}

describe('agent runs', () => {
  test('maxConcurrentRuns runs at once, a bounded queue, AGENT_BUSY past it; queued runs start as slots free', async (t) => {
    const gates = new Gates();
    const kernel = await system(t, {
      gates,
      scripts: { s: [{ toolCalls: [{ name: 'gate.wait', input: { step: 'x' } }] }, { reply: 'done' }] },
      agents: [{ name: 'w', provider: 'scripted', model: 's', tools: ['gate.*'], maxConcurrentRuns: 2, maxQueuedRuns: 1 }],
    });
    const agents = kernel.resolve('agents');
    const events = kernel.resolve('events');
    const a = await agents.start('w', '1');
    const b = await agents.start('w', '2');
    const c = await agents.start('w', '3');
    const busy = await errorOf(agents.start('w', '4'));
    assert.equal(busy.code, 'AGENT_BUSY');
    // a and b overlap: both are inside their tool call before either returns.
    await recordOf(events, a.runId, 'agent.tool.called');
    await recordOf(events, b.runId, 'agent.tool.called');
    assert.equal(agents.runs().find((r) => r.runId === c.runId)?.status, 'queued');
    assert.equal((await events.byCorrelation(c.runId)).length, 1, 'the queued run only has its started record');
    gates.open('x');
    const results = await Promise.all([a, b, c].map((r) => agents.wait(r.runId)));
    assert.deepEqual(results.map((r) => r.output), ['done', 'done', 'done']);
    assert.equal(agents.runs({ status: 'completed' }).length, 3);
  });

  test('a slot is freed on every outcome: success, failure, cancel, timeout, crash', async (t) => {
    const gates = new Gates();
    const kernel = await system(t, {
      gates,
      scripts: {
        ok: [{ reply: 'fine' }],
        bad: [{ fail: 'no' }],
        block: [{ toolCalls: [{ name: 'gate.wait', input: { step: 'never' } }] }, { reply: 'unreachable' }],
        crash: [{ toolCalls: [{ name: 'gate.wait', input: { step: 'crash' } }] }, { reply: 'survived' }],
      },
      agents: [
        { name: 'ok', provider: 'scripted', model: 'ok', maxConcurrentRuns: 1, maxQueuedRuns: 0 },
        { name: 'bad', provider: 'scripted', model: 'bad', maxConcurrentRuns: 1, maxQueuedRuns: 0 },
        { name: 'block', provider: 'scripted', model: 'block', tools: ['gate.*'], maxConcurrentRuns: 1, maxQueuedRuns: 0 },
        { name: 'crash', provider: 'scripted', model: 'crash', tools: ['gate.*'], maxConcurrentRuns: 1, maxQueuedRuns: 0 },
      ],
    });
    const agents = kernel.resolve('agents');
    const events = kernel.resolve('events');
    for (let i = 0; i < 2; i++) assert.equal((await agents.run('ok', 'hi')).output, 'fine');
    for (let i = 0; i < 2; i++) assert.equal((await errorOf(agents.run('bad', 'hi'))).code, 'AGENT_PROVIDER_FAILED');
    // cancel
    for (let i = 0; i < 2; i++) {
      const { runId } = await agents.start('block', 'hi');
      assert.equal((await errorOf(agents.start('block', 'full'))).code, 'AGENT_BUSY');
      await recordOf(events, runId, 'agent.tool.called');
      await agents.cancel(runId);
      assert.equal((await errorOf(agents.wait(runId))).code, 'AGENT_CANCELLED');
      assert.equal(agents.runs().find((r) => r.runId === runId)?.status, 'cancelled');
    }
    // timeout
    for (let i = 0; i < 2; i++) {
      const error = await errorOf(agents.run('block', 'hi', { timeoutMs: 30 }));
      assert.equal(error.code, 'AGENT_TIMEOUT');
    }
    // the caller's signal cancels
    const controller = new AbortController();
    const pending = agents.run('block', 'hi', { signal: controller.signal, runId: 'by-signal' });
    await recordOf(events, 'by-signal', 'agent.tool.called');
    controller.abort();
    assert.equal((await errorOf(pending)).code, 'AGENT_CANCELLED');
    // crash (the run resumes and completes)
    for (let i = 0; i < 2; i++) {
      const { runId } = await agents.start('crash', 'hi');
      await recordOf(events, runId, 'agent.tool.called');
      kernel.resolve('actors').lookup<string>(`agent-run:${runId}`)!.tell('boom');
      assert.equal((await agents.wait(runId)).output, 'survived');
    }
    assert.equal(kernel.recordedMetrics.value('agent_runs_active'), 0);
  });

  test('the tool calls of one turn run in parallel; results go back to the model in the order it asked', async (t) => {
    const gates = new Gates();
    const provider = new RecordingProvider('rec', (req) =>
      req.turn === 0
        ? { toolCalls: ['a', 'b', 'c'].map((step) => ({ id: step, name: 'gate.wait', input: { step } })), usage: u(1, 1) }
        : { reply: 'ordered', usage: u(1, 1) },
    );
    const kernel = await system(t, { gates, agents: [{ name: 'p', provider: 'rec', model: 'm', tools: ['gate.*'] }], extra: [providerPlugin(provider)] });
    const agents = kernel.resolve('agents');
    const events = kernel.resolve('events');
    const { runId } = await agents.start('p', 'go');
    await recordOf(events, runId, 'agent.tool.called', 3);
    assert.equal((await events.byCorrelation(runId)).filter((e) => e.type === 'agent.tool.returned').length, 0, 'all three were called before any returned');
    for (const [i, step] of ['c', 'b', 'a'].entries()) {
      gates.open(step);
      await recordOf(events, runId, 'agent.tool.returned', i + 1);
    }
    assert.equal((await agents.wait(runId)).output, 'ordered');
    assert.deepEqual(gates.ran, ['c', 'b', 'a']);
    const toolMessages = provider.requests[1]!.messages.filter((m) => m.role === 'tool');
    assert.deepEqual(toolMessages.map((m) => (m.role === 'tool' ? m.toolCallId : '')), ['a', 'b', 'c']);
  });

  test('budgets: maxCostUsd (provider cost, else the price table), maxWallMs; unknown keys are config errors', async (t) => {
    const kernel = await system(t, {
      scripts: {
        pricey: [{ toolCalls: [{ name: 'math.add', input: { a: 1, b: 1 } }], costUsd: 0.3, usage: u(1, 1) }, { reply: 'x', costUsd: 0.3, usage: u(1, 1) }],
        table: [{ reply: 'x', usage: u(1_000_000, 0) }],
        slow: [{ reply: 'late', delayMs: 10_000 }],
      },
      agents: [
        { name: 'pricey', provider: 'scripted', model: 'pricey', tools: ['math.*'], budget: { maxCostUsd: 0.5 } },
        { name: 'table', provider: 'scripted', model: 'table', budget: { maxCostUsd: 1 } },
        { name: 'slow', provider: 'scripted', model: 'slow', budget: { maxWallMs: 30 } },
      ],
      agentsOptions: { prices: { table: { inputPerMTok: 3, outputPerMTok: 15 } } },
    });
    const agents = kernel.resolve('agents');
    const cost = await errorOf(agents.run('pricey', 'go'));
    assert.equal(cost.code, 'AGENT_BUDGET_EXCEEDED');
    assert.equal(cost.context.budget, 'maxCostUsd');
    assert.equal((cost.context.usage as { costUsd: number }).costUsd, 0.6);
    const table = await errorOf(agents.run('table', 'go'));
    assert.equal(table.context.budget, 'maxCostUsd');
    assert.equal((table.context.usage as { costUsd: number }).costUsd, 3);
    const wall = await errorOf(agents.run('slow', 'go'));
    assert.equal(wall.code, 'AGENT_BUDGET_EXCEEDED');
    assert.equal(wall.context.budget, 'maxWallMs');
    assert.throws(() => agents.define({ name: 'typo', provider: 'scripted', model: 'x', budget: { maxTokenz: 5 } as never }), (e: Error & { code: string }) => {
      assert.equal(e.code, 'AGENT_INVALID_DEFINITION');
      assert.match(e.message, /maxTokenz/);
      return true;
    });
    assert.throws(() => agents.define({ name: 'typo2', provider: 'scripted', model: 'x', colour: 'red' } as never), /colour/);
    await assert.rejects(
      createTestKernel({ test: t, plugins: ['supervision', 'actors', 'tools', { use: agentsPlugin, options: { agents: [{ name: 'a', provider: 'p', model: 'm', budget: { maxTokes: 1 } }] } }] }),
      /maxTokes/,
    );
  });

  test('sessions continue one conversation from the journal; providerSessionId is journaled and passed back', async (t) => {
    const provider = new RecordingProvider('rec', (req) => ({ reply: `answer ${req.messages.length}`, usage: u(1, 1), providerSessionId: `ps-${req.runId}` }));
    const kernel = await system(t, { agents: [{ name: 'chat', provider: 'rec', model: 'm' }], extra: [providerPlugin(provider)] });
    const agents = kernel.resolve('agents');
    const one = await agents.run('chat', 'first question', { sessionId: 's1' });
    const two = await agents.run('chat', 'second question', { sessionId: 's1' });
    const other = await agents.run('chat', 'unrelated', { sessionId: 's2' });
    assert.equal(one.output, 'answer 1');
    assert.deepEqual(
      provider.requests[1]!.messages.map((m) => [m.role, m.role === 'tool' ? '' : m.content]),
      [
        ['user', 'first question'],
        ['assistant', 'answer 1'],
        ['user', 'second question'],
      ],
    );
    assert.equal(two.output, 'answer 3');
    assert.equal(other.output, 'answer 1');
    assert.equal(provider.requests[1]!.sessionId, 's1');
    assert.equal(provider.requests[1]!.providerSessionId, `ps-${one.runId}`, 'the session passes the provider session back');
    const responded = (await kernel.resolve('events').byCorrelation(one.runId)).find((e) => e.type === 'agent.model.responded');
    assert.equal((responded!.data as { providerSessionId: string }).providerSessionId, `ps-${one.runId}`);
  });

  test('structured output: validated JSON, one re-ask with the validation error, then AGENT_OUTPUT_INVALID', async (t) => {
    const schema = { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'], additionalProperties: false };
    const kernel = await system(t, {
      scripts: {
        fixes: [{ reply: 'the sum is 5' }, { reply: '{"sum": 5}' }],
        never: [{ reply: '{"sum": "five"}' }, { reply: 'still not' }, { reply: '{"sum": 5}' }],
      },
      agents: [
        { name: 'fixes', provider: 'scripted', model: 'fixes', output: schema },
        { name: 'never', provider: 'scripted', model: 'never', output: schema },
      ],
    });
    const agents = kernel.resolve('agents');
    const ok = await agents.run('fixes', 'add');
    assert.deepEqual(ok.output, { sum: 5 });
    assert.equal(ok.usage.turns, 2);
    const requested = (await kernel.resolve('events').byCorrelation(ok.runId)).filter((e) => e.type === 'agent.model.requested');
    assert.match((requested[1]!.data as { reask: string }).reask, /not JSON/);
    const bad = await errorOf(agents.run('never', 'add'));
    assert.equal(bad.code, 'AGENT_OUTPUT_INVALID');
    assert.match(bad.message, /\(root\)|not JSON/);
  });

  test('agents.stream yields the records as they happen and text deltas, ending with the completed record', async (t) => {
    const kernel = await system(t, {
      scripts: { s: [{ toolCalls: [{ name: 'math.add', input: { a: 1, b: 2 } }] }, { reply: 'three it is' }] },
      agents: [{ name: 's', provider: 'scripted', model: 's', tools: ['math.*'] }],
    });
    const chunks: RunStreamChunk[] = [];
    for await (const chunk of kernel.resolve('agents').stream('s', 'add')) chunks.push(chunk);
    assert.deepEqual(
      chunks.map((c) => c.type),
      ['agent.run.started', 'agent.model.requested', 'agent.model.responded', 'agent.tool.called', 'agent.tool.returned', 'agent.model.requested', 'text.delta', 'text.delta', 'text.delta', 'agent.model.responded', 'agent.run.completed'],
    );
    assert.equal(chunks.filter((c) => c.type === 'text.delta').map((c) => (c as { text: string }).text).join(''), 'three it is');
    // Streaming a run that has ended replays its records.
    const again: RunStreamChunk[] = [];
    for await (const chunk of kernel.resolve('agents').stream('s', 'add', { runId: chunks[0]!.runId })) again.push(chunk);
    assert.deepEqual(again.map((c) => c.type), chunks.filter((c) => c.type !== 'text.delta').map((c) => c.type));
    await assert.rejects(async () => {
      for await (const _ of kernel.resolve('agents').stream('nobody', 'x')) void _;
    }, { code: 'AGENT_NOT_FOUND' });
  });

  test('retryable provider errors are retried (built-in, honouring retryAfterMs; or the resilience policy); the final error keeps retryable', async (t) => {
    const kernel = await system(t, {
      scripts: {
        flaky: [{ fail: { message: '429 slow down', retryable: true, retryAfterMs: 5, times: 2 }, reply: 'finally' }],
        policy: [{ fail: { message: '503', retryable: true, times: 1 }, reply: 'via policy' }],
      },
      agents: [
        { name: 'flaky', provider: 'scripted', model: 'flaky' },
        { name: 'policy', provider: 'scripted', model: 'policy', providerPolicy: 'model' },
      ],
      agentsOptions: { providerRetries: 2 },
      extra: [{ use: 'resilience', options: { policies: { model: { retry: { maxAttempts: 3, backoff: { initialMs: 1, maxMs: 2 } } } } } }],
    });
    const agents = kernel.resolve('agents');
    assert.equal((await agents.run('flaky', 'hi')).output, 'finally');
    assert.equal((await agents.run('policy', 'hi')).output, 'via policy');
    assert.equal(kernel.resolve('resilience').policy('model').stats().retries, 1);
  });

  test('HTTP: list, start (202), read, SSE from the first record, approve, cancel, typed errors', async (t) => {
    const gates = new Gates();
    const kernel = await system(t, {
      gates,
      scripts: {
        s: [{ toolCalls: [{ name: 'math.add', input: { a: 1, b: 2 } }] }, { reply: 'three' }],
        pay: [{ toolCalls: [{ name: 'pay.send', input: { amount: 99 } }] }, { reply: 'paid' }],
        block: [{ toolCalls: [{ name: 'gate.wait', input: { step: 'never' } }] }, { reply: 'x' }],
      },
      agents: [
        { name: 's', provider: 'scripted', model: 's', tools: ['math.*'] },
        { name: 'pay', provider: 'scripted', model: 'pay', tools: ['pay.*'] },
        { name: 'block', provider: 'scripted', model: 'block', tools: ['gate.*'], maxConcurrentRuns: 1, maxQueuedRuns: 0 },
      ],
      extra: ['http'],
    });
    const base = kernel.resolve('http').url!;
    const post = (p: string, body: unknown) => fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const list = (await (await fetch(`${base}/agents`)).json()) as Array<{ name: string }>;
    assert.deepEqual(list.map((a) => a.name), ['s', 'pay', 'block']);
    const started = await post('/agents/runs', { agent: 's', input: 'add' });
    assert.equal(started.status, 202);
    const { runId } = (await started.json()) as { runId: string };
    const sse = await (await fetch(`${base}/agents/runs/${runId}/events`)).text();
    const types = [...sse.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    assert.equal(types[0], 'agent.run.started');
    assert.equal(types.at(-1), 'agent.run.completed');
    const detail = (await (await fetch(`${base}/agents/runs/${runId}`)).json()) as { summary: { status: string } };
    assert.equal(detail.summary.status, 'completed');
    const runs = (await (await fetch(`${base}/agents/runs?status=completed`)).json()) as unknown[];
    assert.equal(runs.length, 1);
    assert.equal((await fetch(`${base}/agents/runs/nope`)).status, 404);
    assert.equal((await post('/agents/runs', { agent: 'nobody', input: 'x' })).status, 404);
    assert.equal((await post('/agents/runs', { agent: 's' })).status, 400);
    // approvals
    const pay = (await (await post('/agents/runs', { agent: 'pay', input: 'pay' })).json()) as { runId: string };
    await recordOf(kernel.resolve('events'), pay.runId, 'agent.run.suspended');
    assert.equal((await post(`/agents/runs/${pay.runId}/approvals/wrong`, { decision: 'allow' })).status, 409);
    assert.equal((await post(`/agents/runs/${pay.runId}/approvals/call-0-0`, { decision: 'maybe' })).status, 400);
    assert.equal((await post(`/agents/runs/${pay.runId}/approvals/call-0-0`, { decision: 'allow' })).status, 202);
    assert.equal((await kernel.resolve('agents').wait(pay.runId)).output, 'paid');
    // cancel and busy
    const blocked = (await (await post('/agents/runs', { agent: 'block', input: 'x' })).json()) as { runId: string };
    assert.equal((await post('/agents/runs', { agent: 'block', input: 'x' })).status, 429);
    const cancelReply = await post(`/agents/runs/${blocked.runId}/cancel`, {});
    assert.equal(cancelReply.status, 202, await cancelReply.text());
    const outcome = await kernel.resolve('agents').wait(blocked.runId).then((r) => JSON.stringify(r), (e: { code: string }) => e.code);
    assert.equal(outcome, 'AGENT_CANCELLED');
  });

  test('SSE: a client reconnecting with Last-Event-ID gets the records after that one, once each; an unknown id is 400', async (t) => {
    const kernel = await system(t, {
      scripts: { pay: [{ toolCalls: [{ name: 'pay.send', input: { amount: 50 } }] }, { reply: 'paid' }] },
      agents: [{ name: 'pay', provider: 'scripted', model: 'pay', tools: ['pay.*'] }],
      extra: ['http'],
    });
    const base = kernel.resolve('http').url!;
    const agents = kernel.resolve('agents');
    const { runId } = await agents.start('pay', 'pay');
    await recordOf(kernel.resolve('events'), runId, 'agent.run.suspended');

    // The first connection reads up to the suspension, then drops (as a deadline or a network would).
    const first = new AbortController();
    const response = await fetch(`${base}/agents/runs/${runId}/events`, { signal: first.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: agent.run.suspended')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the stream ended before the suspension');
      text += value;
    }
    first.abort();
    await reader.cancel().catch(() => undefined);
    const received = [...text.matchAll(/^id: (.+)\nevent: (.+)$/gm)].map((m) => ({ id: m[1]!, type: m[2]! }));
    assert.deepEqual(received.map((r) => r.type), ['agent.run.started', 'agent.model.requested', 'agent.model.responded', 'agent.run.suspended']);

    await agents.approve(runId, 'call-0-0', 'allow');
    const again = await fetch(`${base}/agents/runs/${runId}/events`, { headers: { 'last-event-id': received.at(-1)!.id } });
    const rest = [...(await again.text()).matchAll(/^id: (.+)\nevent: (.+)$/gm)].map((m) => ({ id: m[1]!, type: m[2]! }));
    assert.equal(rest[0]!.type, 'agent.run.resumed', 'continues right after the last record the client had');
    assert.equal(rest.at(-1)!.type, 'agent.run.completed');
    const ids = [...received, ...rest].map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'no record twice');
    const journal = (await agents.get(runId))!.steps.map((r) => r.id);
    assert.deepEqual(ids, journal, 'together, every record in order');

    // Caught up on a finished run: 204, which tells an EventSource to stop reconnecting.
    const done = await fetch(`${base}/agents/runs/${runId}/events`, { headers: { 'last-event-id': rest.at(-1)!.id } });
    assert.equal(done.status, 204);
    assert.equal(await done.text(), '');

    const unknown = await fetch(`${base}/agents/runs/${runId}/events`, { headers: { 'last-event-id': 'no-such-record' } });
    assert.equal(unknown.status, 400);
    assert.deepEqual(((await unknown.json()) as { error: { code: string } }).error.code, 'AGENT_BAD_INPUT');
  });

  test('both plugins pass the conformance check', async () => {
    await checkPluginConformance(agentsPlugin, { with: ['supervision', 'actors', 'tools'] });
    await checkPluginConformance(scriptedPlugin, { with: ['supervision', 'actors', 'tools', agentsPlugin], options: { scripts: { s: [{ reply: 'x' }] } } });
  });
});

