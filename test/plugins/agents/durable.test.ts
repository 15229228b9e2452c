/** Durable runs in one process: actor crashes, approvals across a restart, in-doubt policies, sub-runs, distributed hooks. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { errorOf, Gates, recordOf, system } from './helpers.js';

const u = (i: number, o: number) => ({ inputTokens: i, outputTokens: o });

async function tmp(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agents-durable-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('durable runs', () => {
  test('an agent run actor that crashes restarts and resumes its run from the journal; an in-doubt call gets TOOL_OUTCOME_UNKNOWN', async (t) => {
    const gates = new Gates();
    const counters = new Map<string, number>();
    const kernel = await system(t, {
      gates,
      counters,
      scripts: { s: [{ toolCalls: [{ name: 'gate.wait', input: { step: 'a' } }], usage: u(5, 1) }, { reply: 'after the crash', usage: u(7, 2) }] },
      agents: [{ name: 'w', provider: 'scripted', model: 's', tools: ['gate.*'], maxConcurrentRuns: 1 }],
    });
    const agents = kernel.resolve('agents');
    const events = kernel.resolve('events');
    const { runId } = await agents.start('w', 'go');
    await recordOf(events, runId, 'agent.tool.called');
    // Inject a crash: a message the run actor does not understand makes it throw.
    kernel.resolve('actors').lookup<string>(`agent-run:${runId}`)!.tell('boom');
    const result = await agents.wait(runId);
    assert.equal(result.output, 'after the crash');
    const tool = result.steps.find((s) => s.type === 'tool');
    assert.equal(tool?.type === 'tool' ? tool.error?.code : undefined, 'TOOL_OUTCOME_UNKNOWN');
    assert.equal(counters.get('gate.wait:a'), 1, 'the non-idempotent call was not run again');
    assert.deepEqual(result.usage, { inputTokens: 12, outputTokens: 3, totalTokens: 15, toolCalls: 1, turns: 2, costUsd: 0 });
    const types = (await events.byCorrelation(runId)).map((e) => e.type);
    assert.equal(types.filter((x) => x === 'agent.run.started').length, 1);
    assert.equal(types.filter((x) => x === 'agent.run.resumed').length, 1);
    assert.equal(kernel.recordedMetrics.value('agent_run_restarts_total', { agent: 'w' }), 1);
    // The slot came back: another run goes through at once.
    gates.open('a');
    assert.equal((await agents.run('w', 'again')).output, 'after the crash');
  });

  test('an idempotent in-doubt call runs again with the same call id; onInDoubt retry and suspend', async (t) => {
    const gates = new Gates();
    const counters = new Map<string, number>();
    const kernel = await system(t, {
      gates,
      counters,
      scripts: {
        idem: [{ toolCalls: [{ name: 'gate.idem', input: { step: 'i' } }] }, { reply: 'idem done' }],
        retry: [{ toolCalls: [{ name: 'gate.wait', input: { step: 'r' } }] }, { reply: 'retry done' }],
        susp: [{ toolCalls: [{ name: 'gate.wait', input: { step: 's' } }] }, { reply: 'suspend done' }],
      },
      agents: [
        { name: 'idem', provider: 'scripted', model: 'idem', tools: ['gate.*'] },
        { name: 'retry', provider: 'scripted', model: 'retry', tools: ['gate.*'], onInDoubt: 'retry' },
        { name: 'susp', provider: 'scripted', model: 'susp', tools: ['gate.*'], onInDoubt: 'suspend' },
      ],
    });
    const agents = kernel.resolve('agents');
    const events = kernel.resolve('events');
    const actors = kernel.resolve('actors');
    for (const [agent, step, tool] of [['idem', 'i', 'gate.idem'], ['retry', 'r', 'gate.wait']] as const) {
      const { runId } = await agents.start(agent, 'go');
      await recordOf(events, runId, 'agent.tool.called');
      actors.lookup<string>(`agent-run:${runId}`)!.tell('boom');
      await recordOf(events, runId, 'agent.run.resumed');
      gates.open(step);
      const result = await agents.wait(runId);
      assert.equal(result.output, `${agent} done`);
      assert.equal(counters.get(`${tool}:${step}`), 2, `${agent}: ran again after the crash`);
      const toolStep = result.steps.find((s) => s.type === 'tool');
      assert.equal(toolStep?.type === 'tool' ? toolStep.output : undefined, `${step} passed`);
    }
    const { runId } = await agents.start('susp', 'go');
    await recordOf(events, runId, 'agent.tool.called');
    actors.lookup<string>(`agent-run:${runId}`)!.tell('boom');
    const suspended = await recordOf(events, runId, 'agent.run.suspended');
    assert.equal((suspended.data as { reason: string }).reason, 'in-doubt');
    const summary = agents.runs({ status: 'suspended' }).find((r) => r.runId === runId);
    assert.equal(summary?.pending?.[0]?.reason, 'in-doubt');
    gates.open('s');
    await agents.approve(runId, summary!.pending![0]!.callId, 'allow');
    assert.equal((await agents.wait(runId)).output, 'suspend done');
    assert.equal(counters.get('gate.wait:s'), 2);
    await assert.rejects(agents.approve(runId, 'call-0-0', 'allow'), { code: 'AGENT_APPROVAL_NOT_PENDING' });
    await assert.rejects(agents.approve('nope', 'x', 'allow'), { code: 'AGENT_RUN_NOT_FOUND' });
  });

  test('a call that needs approval suspends the run durably; the approval survives a restart; allow runs it pre-approved, deny gives TOOL_REJECTED', async (t) => {
    const dir = await tmp(t);
    const events = { use: 'events', options: { store: { type: 'file', dir, fsync: 'batch' } } };
    const scripts = {
      pay: [{ toolCalls: [{ name: 'pay.send', input: { amount: 50 } }, { name: 'math.add', input: { a: 1, b: 2 } }], usage: u(10, 1) }, { reply: 'paid', usage: u(20, 2) }],
    };
    const agentsDef = [{ name: 'payer', provider: 'scripted', model: 'pay', tools: ['pay.*', 'math.*'] }];
    const counters = new Map<string, number>();
    const first = await system(undefined, { events, scripts, agents: agentsDef, counters, agentsOptions: { recovery: 'resume' } });
    const agents1 = first.resolve('agents');
    const allowed = await agents1.start('payer', 'pay 50');
    const denied = await agents1.start('payer', 'pay 50 again');
    for (const r of [allowed, denied]) await recordOf(first.resolve('events'), r.runId, 'agent.run.suspended');
    assert.equal(counters.get('pay.send'), undefined, 'nothing paid before a decision');
    assert.equal(counters.get('math.add'), 2, 'the other call of the turn ran');
    assert.equal(first.recordedMetrics.value('agent_runs_suspended'), 2);
    await first.stop();

    const asked: string[] = [];
    const approver = {
      name: 'approver',
      version: '1.0.0',
      dependsOn: ['tools'],
      setup(ctx: { resolve(n: 'tools'): { hooks: { approve: { tapPromise(n: string, f: (r: { tool: string }) => Promise<undefined>): void } } } }) {
        ctx.resolve('tools').hooks.approve.tapPromise('spy', async (r) => void asked.push(r.tool));
      },
    };
    const second = await system(t, { events, scripts, agents: agentsDef, counters, agentsOptions: { recovery: 'resume' }, extra: [{ use: await import('../../../sdk/index.js').then((m) => m.definePlugin(approver as never)) }] });
    const agents = second.resolve('agents');
    const pending = agents.runs({ status: 'suspended' });
    assert.deepEqual(pending.map((r) => r.runId).sort(), [allowed.runId, denied.runId].sort());
    const callId = pending[0]!.pending![0]!.callId;
    assert.equal(pending[0]!.pending![0]!.name, 'pay.send');
    await agents.approve(allowed.runId, callId, 'allow');
    await agents.approve(denied.runId, callId, 'deny');
    const ok = await agents.wait(allowed.runId);
    assert.equal(ok.output, 'paid');
    assert.equal(counters.get('pay.send'), 1, 'paid once, for the allowed run');
    assert.deepEqual(asked, [], 'tools.hooks.approve was not asked for a pre-approved call');
    const no = await agents.wait(denied.runId);
    const rejected = no.steps.find((s) => s.type === 'tool' && s.name === 'pay.send');
    assert.equal(rejected?.type === 'tool' ? rejected.error?.code : undefined, 'TOOL_REJECTED');
    assert.equal(ok.usage.totalTokens, 33, 'usage went on from the recorded totals');
    assert.equal(ok.usage.toolCalls, 2);
    const types = (await second.resolve('events').byCorrelation(allowed.runId)).map((e) => e.type);
    assert.equal(types.filter((x) => x === 'agent.run.started').length, 1);
    assert.ok(types.includes('agent.run.resumed'));
  });

  test('sub-runs: parentRunId, a tree from agents.get, usage toward each ancestor budget, AGENT_RECURSION instead of a deadlock', async (t) => {
    const kernel = await system(t, {
      scripts: {
        boss: [{ toolCalls: [{ name: 'agent.helper', input: { prompt: 'help' } }], usage: u(10, 0) }, { reply: 'boss done', usage: u(10, 0) }],
        helper: [{ toolCalls: [{ name: 'math.add', input: { a: 1, b: 1 } }], usage: u(30, 0) }, { reply: 'helped', usage: u(30, 0) }],
        thrifty: [{ toolCalls: [{ name: 'agent.helper', input: { prompt: 'help' } }], usage: u(10, 0) }, { reply: 'never', usage: u(10, 0) }],
        selfish: [{ toolCalls: [{ name: 'agent.selfish', input: { prompt: 'me again' } }] }, { reply: 'gave up recursing' }],
      },
      agents: [
        { name: 'boss', provider: 'scripted', model: 'boss', tools: ['agent.*'] },
        { name: 'thrifty', provider: 'scripted', model: 'thrifty', tools: ['agent.*'], budget: { maxTokens: 50 } },
        { name: 'helper', provider: 'scripted', model: 'helper', tools: ['math.*'], maxConcurrentRuns: 1 },
        { name: 'selfish', provider: 'scripted', model: 'selfish', tools: ['agent.*'], maxConcurrentRuns: 1 },
      ],
    });
    const agents = kernel.resolve('agents');
    agents.asTool('helper');
    agents.asTool('selfish');
    const boss = await agents.run('boss', 'go');
    assert.equal(boss.output, 'boss done');
    const detail = await agents.get(boss.runId);
    assert.equal(detail?.children.length, 1);
    const child = detail!.children[0]!;
    assert.equal(child.summary.parentRunId, boss.runId);
    assert.equal(child.summary.agent, 'helper');
    assert.equal(child.summary.usage.totalTokens, 60);
    assert.equal((child.steps[0]!.data as { parentRunId: string }).parentRunId, boss.runId);

    // thrifty's budget is 50 tokens: its sub-run's 60 stop the sub-run, then thrifty itself.
    const error = await errorOf(agents.run('thrifty', 'go'));
    assert.equal(error.code, 'AGENT_BUDGET_EXCEEDED');
    assert.equal(error.context.budget, 'maxTokens');
    const sub = agents.runs({ agent: 'helper', status: 'failed' });
    assert.equal(sub.length, 1);
    assert.equal(sub[0]!.error?.code, 'AGENT_BUDGET_EXCEEDED');

    const selfish = await agents.run('selfish', 'go');
    assert.equal(selfish.output, 'gave up recursing');
    const step = selfish.steps.find((s) => s.type === 'tool');
    assert.match(step?.type === 'tool' ? step.error?.message ?? '' : '', /already in the chain/);
  });

  test('a sub-run whose caller went away goes on; the resumed parent attaches to the same sub-run', async (t) => {
    const gates = new Gates();
    const counters = new Map<string, number>();
    const kernel = await system(t, {
      gates,
      counters,
      scripts: {
        parent: [{ toolCalls: [{ name: 'agent.child', input: { prompt: 'work' } }] }, { reply: 'parent done' }],
        child: [{ toolCalls: [{ name: 'gate.wait', input: { step: 'c' } }], usage: u(3, 1) }, { reply: 'child done', usage: u(3, 1) }],
      },
      agents: [
        // The parent holds gate.* too: a sub-run never gets more rights than its caller.
        { name: 'parent', provider: 'scripted', model: 'parent', tools: ['agent.*', 'gate.*'] },
        { name: 'child', provider: 'scripted', model: 'child', tools: ['gate.*'] },
      ],
    });
    const agents = kernel.resolve('agents');
    const events = kernel.resolve('events');
    agents.asTool('child');
    const { runId } = await agents.start('parent', 'go');
    const childId = `${runId}:call-0-0/child`;
    await recordOf(events, childId, 'agent.tool.called');
    kernel.resolve('actors').lookup<string>(`agent-run:${runId}`)!.tell('boom');
    await recordOf(events, runId, 'agent.run.resumed');
    gates.open('c');
    const result = await agents.wait(runId);
    assert.equal(result.output, 'parent done');
    assert.equal(counters.get('gate.wait:c'), 1, 'the sub-run ran once');
    assert.equal(agents.runs({ agent: 'child' }).length, 1);
    assert.equal((await agents.wait(childId)).output, 'child done');
  });

  test('health: degraded while a provider keeps failing; metrics count runs, tokens, cost, latencies, resumes', async (t) => {
    const kernel = await system(t, {
      scripts: { bad: [{ fail: 'down' }], ok: [{ toolCalls: [{ name: 'math.add', input: { a: 1, b: 1 } }], costUsd: 0.25, usage: u(4, 1) }, { reply: 'ok', usage: u(4, 1) }] },
      agents: [
        { name: 'bad', provider: 'scripted', model: 'bad' },
        { name: 'ok', provider: 'scripted', model: 'ok', tools: ['math.*'] },
      ],
      extra: ['health'],
    });
    const agents = kernel.resolve('agents');
    await agents.run('ok', 'go');
    for (let i = 0; i < 3; i++) await assert.rejects(agents.run('bad', 'go'));
    const health = kernel.resolve('health');
    const check = await health.run('agents');
    assert.equal(check?.status, 'degraded');
    assert.deepEqual(check?.details?.failingProviders, ['scripted']);
    const m = kernel.recordedMetrics;
    assert.equal(m.value('agent_runs_total', { agent: 'ok', status: 'completed' }), 1);
    assert.equal(m.value('agent_runs_total', { agent: 'bad', status: 'failed' }), 3);
    assert.equal(m.value('agent_tokens_total', { agent: 'ok', kind: 'input' }), 8);
    assert.equal(m.value('agent_cost_usd_total', { agent: 'ok' }), 0.25);
    assert.equal(m.observations('agent_model_latency_seconds', { agent: 'ok', outcome: 'ok' }).length, 2);
    assert.equal(m.observations('agent_tool_latency_seconds', { agent: 'ok', tool: 'math.add' }).length, 1);
    await agents.run('ok', 'again');
    // The same provider answered again: no longer failing.
    assert.equal((await health.run('agents')).status, 'healthy');
  });

  test('a stop mid-run interrupts running and queued runs (AGENT_INTERRUPTED, nothing journaled as their end); the next start resumes them', async (t) => {
    const dir = await tmp(t);
    const events = { use: 'events', options: { store: { type: 'file', dir, fsync: 'batch' } } };
    const scripts = { s: [{ toolCalls: [{ name: 'gate.idem', input: { step: 'g' } }], usage: u(2, 1) }, { reply: 'made it', usage: u(2, 1) }] };
    const agentsDef = [{ name: 'w', provider: 'scripted', model: 's', tools: ['gate.*'], maxConcurrentRuns: 1 }];
    const first = await system(undefined, { events, scripts, agents: agentsDef, agentsOptions: { recovery: 'resume' } });
    const firstAgents = first.resolve('agents');
    const { runId } = await firstAgents.start('w', 'go');
    const queued = await firstAgents.start('w', 'queued');
    await recordOf(first.resolve('events'), runId, 'agent.tool.called');
    assert.equal(firstAgents.runs().find((r) => r.runId === queued.runId)?.status, 'queued');
    const waiting = [errorOf(firstAgents.wait(runId)), errorOf(firstAgents.wait(queued.runId))];
    await first.stop();
    for (const w of waiting) assert.equal((await w).code, 'AGENT_INTERRUPTED');
    await assert.rejects(firstAgents.start('w', 'late'), { code: 'AGENT_INTERRUPTED' });

    const gates = new Gates();
    gates.open('g');
    const counters = new Map<string, number>();
    const second = await system(t, { events, scripts, agents: agentsDef, gates, counters, agentsOptions: { recovery: 'resume' } });
    const agents = second.resolve('agents');
    assert.deepEqual(agents.interruptedRuns().map((r) => r.runId).sort(), [runId, queued.runId].sort());
    const result = await agents.wait(runId);
    assert.equal(result.output, 'made it');
    assert.equal(result.usage.totalTokens, 6);
    assert.equal((await agents.wait(queued.runId)).output, 'made it');
    assert.equal(counters.get('gate.idem:g'), 2, 'the idempotent in-doubt call ran again, and the queued run made its own');
  });

  test('budgets count across resumes: tokens spent before a restart still count', async (t) => {
    const dir = await tmp(t);
    const events = { use: 'events', options: { store: { type: 'file', dir, fsync: 'batch' } } };
    const scripts = { s: [{ toolCalls: [{ name: 'gate.idem', input: { step: 'b' } }], usage: u(15, 5) }, { reply: 'over', usage: u(8, 2) }] };
    const agentsDef = [{ name: 'w', provider: 'scripted', model: 's', tools: ['gate.*'], budget: { maxTokens: 25 } }];
    const first = await system(undefined, { events, scripts, agents: agentsDef, agentsOptions: { recovery: 'resume' } });
    const { runId } = await first.resolve('agents').start('w', 'go');
    await recordOf(first.resolve('events'), runId, 'agent.tool.called');
    await first.stop();
    const gates = new Gates();
    gates.open('b');
    const second = await system(t, { events, scripts, agents: agentsDef, gates, agentsOptions: { recovery: 'resume' } });
    const error = await errorOf(second.resolve('agents').wait(runId));
    assert.equal(error.code, 'AGENT_BUDGET_EXCEEDED');
    assert.equal(error.context.budget, 'maxTokens');
    assert.equal((error.context.usage as { totalTokens: number }).totalTokens, 30);
  });

  test('distributed: start hands the run to the scheduler; resume runs it here from its journal', async (t) => {
    const kernel = await system(t, {
      scripts: { s: [{ toolCalls: [{ name: 'math.add', input: { a: 1, b: 1 } }] }, { reply: 'two' }] },
      agents: [{ name: 'd', provider: 'scripted', model: 's', tools: ['math.*'] }],
      agentsOptions: { distributed: true },
    });
    const agents = kernel.resolve('agents');
    const tickets: Array<{ runId: string; agent: string }> = [];
    const detach = agents.attachScheduler({ schedule: async (ticket) => void tickets.push(ticket) });
    const { runId } = await agents.start('d', 'go');
    assert.deepEqual(tickets, [{ runId, agent: 'd' }]);
    const types = (await kernel.resolve('events').byCorrelation(runId)).map((e) => e.type);
    assert.deepEqual(types, ['agent.run.started'], 'journaled, not run');
    const waited = agents.wait(runId);
    const result = await agents.resume(runId);
    assert.equal(result.output, 'two');
    assert.equal((await waited).output, 'two');
    await detach();
    await assert.rejects(agents.resume('unknown'), { code: 'AGENT_RUN_NOT_FOUND' });
  });
});
