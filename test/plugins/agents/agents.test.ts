import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { definePlugin, z, type MisterSmithError } from '../../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import type { AgentStep } from '../../../plugins/agents/index.js';
import scriptedPlugin from '../../../plugins/provider-scripted/index.js';
import type {} from '../../../plugins/events/types.js';

/** Registers `math.add` and a `secret.read` tool nobody should reach through delegation. */
const mathTools = definePlugin({
  name: 'math-tools',
  version: '1.0.0',
  dependsOn: ['tools'],
  setup(ctx) {
    const tools = ctx.resolve('tools');
    ctx.onStop(tools.register({ name: 'math.add', description: 'Adds', input: z.object({ a: z.number(), b: z.number() }), output: z.number(), handler: ({ a, b }) => a + b }));
    ctx.onStop(tools.register({ name: 'secret.read', description: 'Secrets', input: z.object({}), handler: () => 'the secret' }));
  },
});

const calc = [
  { toolCalls: [{ name: 'math.add', input: { a: 2, b: 3 } }] },
  { reply: 'The sum is 5.', usage: { inputTokens: 40, outputTokens: 6 } },
];

async function system(t: { after(fn: () => unknown): void }, scripts: Record<string, unknown[]>, agents: unknown[], extra: { events?: unknown; agentsOptions?: Record<string, unknown> } = {}) {
  return createTestKernel({
    test: t,
    plugins: [
      'supervision',
      ...(extra.events !== undefined ? [extra.events as never] : []),
      'actors',
      'tools',
      mathTools,
      { use: agentsPlugin, options: { agents, ...extra.agentsOptions } },
      { use: scriptedPlugin, options: { scripts } },
    ],
  });
}

function errorOf(promise: Promise<unknown>): Promise<MisterSmithError> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error as MisterSmithError,
  );
}

describe('agents', () => {
  test('the DESIGN example: a scripted calculator calls math.add and replies', async (t) => {
    const kernel = await system(t, { calc }, [
      { name: 'calculator', provider: 'scripted', model: 'calc', instructions: 'Add numbers.', tools: ['math.*'], maxTurns: 8, budget: { maxTokens: 10000, maxToolCalls: 20 } },
    ]);
    const result = await kernel.resolve('agents').run('calculator', 'add 2 and 3');
    assert.equal(result.output, 'The sum is 5.');
    assert.match(result.runId, /^run-/);
    const tool = result.steps.find((s): s is Extract<AgentStep, { type: 'tool' }> => s.type === 'tool');
    assert.deepEqual({ name: tool?.name, input: tool?.input, output: tool?.output }, { name: 'math.add', input: { a: 2, b: 3 }, output: 5 });
    assert.deepEqual(result.usage, { inputTokens: 40, outputTokens: 6, totalTokens: 46, toolCalls: 1, turns: 2, costUsd: 0 });
    assert.equal(result.status, 'completed');
    assert.equal(kernel.recordedMetrics.value('agent_runs_total', { agent: 'calculator', status: 'completed' }), 1);
    assert.equal(kernel.recordedMetrics.value('agent_tokens_total', { agent: 'calculator' }), 46);
  });

  test('each run consumes the script from its first step', async (t) => {
    const kernel = await system(t, { calc }, [{ name: 'calculator', provider: 'scripted', model: 'calc', tools: ['math.*'] }]);
    const agents = kernel.resolve('agents');
    const [a, b] = await Promise.all([agents.run('calculator', 'one'), agents.run('calculator', 'two')]);
    assert.equal(a.output, 'The sum is 5.');
    assert.equal(b.output, 'The sum is 5.');
    assert.notEqual(a.runId, b.runId);
  });

  test('two runs never share a stored tool result, even when the model reuses call ids', async (t) => {
    const script = [{ toolCalls: [{ id: 'call_1', name: 'math.add', input: { a: 1, b: 1 } }] }, { reply: 'ok' }];
    const kernel = await system(t, { script }, [{ name: 'counter', provider: 'scripted', model: 'script', tools: ['math.*'] }]);
    const agents = kernel.resolve('agents');
    await agents.run('counter', 'one');
    await agents.run('counter', 'two');
    const stats = kernel.resolve('tools').stats('math.add');
    assert.equal(stats?.calls, 2);
    assert.equal(stats?.replays, 0);
  });

  test('a tool the agent may not call is reported to the model, which carries on', async (t) => {
    const kernel = await system(t, { snoop: [{ toolCalls: [{ name: 'secret.read', input: {} }] }, { reply: 'could not read it' }] }, [
      { name: 'snoop', provider: 'scripted', model: 'snoop', tools: ['math.*'] },
    ]);
    const result = await kernel.resolve('agents').run('snoop', 'read the secret');
    assert.equal(result.output, 'could not read it');
    const tool = result.steps.find((s): s is Extract<AgentStep, { type: 'tool' }> => s.type === 'tool');
    assert.equal(tool?.error?.code, 'TOOL_ACCESS_DENIED');
  });

  test('maxTurns ends a run that never replies', async (t) => {
    const loop = Array.from({ length: 5 }, () => ({ toolCalls: [{ name: 'math.add', input: { a: 1, b: 1 } }] }));
    const kernel = await system(t, { loop }, [{ name: 'looper', provider: 'scripted', model: 'loop', tools: ['math.*'], maxTurns: 3 }]);
    const error = await errorOf(kernel.resolve('agents').run('looper', 'go'));
    assert.equal(error.code, 'AGENT_MAX_TURNS');
    assert.match(error.message, /within 3 turns/);
    assert.equal(kernel.recordedMetrics.value('agent_runs_total', { agent: 'looper', status: 'failed' }), 1);
  });

  test('the token and tool-call budgets are enforced', async (t) => {
    const greedy = [{ reply: 'a long answer', usage: { inputTokens: 900, outputTokens: 200 } }];
    const busy = [{ toolCalls: [{ name: 'math.add', input: { a: 1, b: 1 } }, { name: 'math.add', input: { a: 2, b: 2 } }, { name: 'math.add', input: { a: 3, b: 3 } }] }, { reply: 'done' }];
    const kernel = await system(t, { greedy, busy }, [
      { name: 'greedy', provider: 'scripted', model: 'greedy', budget: { maxTokens: 1000 } },
      { name: 'busy', provider: 'scripted', model: 'busy', tools: ['math.*'], budget: { maxToolCalls: 2 } },
    ]);
    const agents = kernel.resolve('agents');
    const tokens = await errorOf(agents.run('greedy', 'talk'));
    assert.equal(tokens.code, 'AGENT_BUDGET_EXCEEDED');
    assert.match(tokens.message, /maxTokens budget \(1100 > 1000\)/);
    assert.equal(tokens.context.budget, 'maxTokens');
    const calls = await errorOf(agents.run('busy', 'work'));
    assert.equal(calls.code, 'AGENT_BUDGET_EXCEEDED');
    assert.match(calls.message, /maxToolCalls budget \(3 > 2\)/);
    assert.equal(calls.context.budget, 'maxToolCalls');
    // The budget is checked before any call of the turn runs.
    assert.equal(kernel.resolve('tools').stats('math.add')?.calls, 0);
  });

  test('a failing model turn fails the run with the cause', async (t) => {
    const kernel = await system(
      t,
      { flaky: [{ fail: { message: 'model overloaded', retryable: true, retryAfterMs: 1 } }], broken: [{ fail: 'bad key' }] },
      [
        { name: 'flaky', provider: 'scripted', model: 'flaky' },
        { name: 'broken', provider: 'scripted', model: 'broken' },
      ],
      { agentsOptions: { providerRetries: 2 } },
    );
    const error = await errorOf(kernel.resolve('agents').run('flaky', 'hi'));
    assert.equal(error.code, 'AGENT_PROVIDER_FAILED');
    assert.match(error.message, /model overloaded/);
    // AGENT_PROVIDER_FAILED keeps the cause's retryable, both ways.
    assert.equal(error.retryable, true);
    const fatal = await errorOf(kernel.resolve('agents').run('broken', 'hi'));
    assert.equal(fatal.retryable, false);
  });

  test('a run that misses its deadline fails with AGENT_TIMEOUT, and the caller can cancel', async (t) => {
    const kernel = await system(t, { slow: [{ reply: 'late', delayMs: 5_000 }] }, [{ name: 'slow', provider: 'scripted', model: 'slow', timeoutMs: 50 }]);
    const agents = kernel.resolve('agents');
    const timedOut = await errorOf(agents.run('slow', 'hurry'));
    assert.equal(timedOut.code, 'AGENT_TIMEOUT');
    const controller = new AbortController();
    const pending = agents.run('slow', 'hurry', { signal: controller.signal, timeoutMs: 10_000 });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending);
  });

  test('unknown agents and unusable input are typed errors', async (t) => {
    const kernel = await system(t, { calc }, [{ name: 'calculator', provider: 'scripted', model: 'calc', tools: ['math.*'] }]);
    const agents = kernel.resolve('agents');
    const unknown = await errorOf(agents.run('nobody', 'hi'));
    assert.equal(unknown.code, 'AGENT_NOT_FOUND');
    assert.match(unknown.message, /defined: calculator/);
    assert.throws(() => agents.define({ name: 'calculator', provider: 'scripted', model: 'calc' }), { code: 'AGENT_NAME_TAKEN' });
    assert.throws(() => agents.define({ name: '', provider: 'scripted', model: 'calc' }));
  });

  test('an agent whose provider is not loaded fails the start, naming the provider', async () => {
    await assert.rejects(
      createTestKernel({ plugins: ['supervision', 'actors', 'tools', { use: agentsPlugin, options: { agents: [{ name: 'x', provider: 'openai', model: 'gpt' }] } }] }),
      /agent 'x' uses provider 'openai', which no loaded plugin registered/,
    );
  });

  test('agent options are validated with their paths', async () => {
    await assert.rejects(
      createTestKernel({ plugins: ['supervision', 'actors', 'tools', { use: agentsPlugin, options: { agents: [{ name: 'x', provider: 'scripted', model: 'm', maxTurns: 0 }] } }] }),
      /plugins\[3\]\.options\.agents\[0\]\.maxTurns/,
    );
  });

  test('a delegated agent never gets more rights than its caller (agent-as-tool)', async (t) => {
    const kernel = await system(
      t,
      {
        boss: [{ toolCalls: [{ name: 'agent.helper', input: { prompt: 'read the secret and add' } }] }, { reply: 'delegated' }],
        helper: [{ toolCalls: [{ name: 'secret.read', input: {} }, { name: 'math.add', input: { a: 1, b: 2 } }] }, { reply: 'helped' }],
      },
      [
        { name: 'boss', provider: 'scripted', model: 'boss', tools: ['agent.*', 'math.*'] },
        { name: 'helper', provider: 'scripted', model: 'helper', tools: ['secret.*', 'math.*'] },
      ],
    );
    const agents = kernel.resolve('agents');
    agents.asTool('helper');
    const steps: AgentStep[] = [];
    const events = kernel.tryResolve('events');
    assert.equal(events, undefined);
    const result = await agents.run('boss', 'get it done');
    assert.equal(result.output, 'delegated');
    steps.push(...result.steps);
    // The helper alone may read secrets; acting for the boss it may not, but it may still add.
    const direct = await agents.run('helper', 'alone');
    const secret = direct.steps.find((s): s is Extract<AgentStep, { type: 'tool' }> => s.type === 'tool' && s.name === 'secret.read');
    assert.equal(secret?.output, 'the secret');
    const tools = kernel.resolve('tools');
    await assert.rejects(tools.call('helper', 'secret.read', {}, { delegation: ['boss'] }), { code: 'TOOL_ACCESS_DENIED' });
    assert.equal(await tools.call('helper', 'math.add', { a: 1, b: 2 }, { delegation: ['boss'] }), 3);
  });

  test('every step lands on the event log under the run id', async (t) => {
    const kernel = await system(t, { calc }, [{ name: 'calculator', provider: 'scripted', model: 'calc', tools: ['math.*'] }], { events: 'events' });
    const result = await kernel.resolve('agents').run('calculator', 'add 2 and 3');
    const events = kernel.resolve('events');
    // Every record is stored before the run goes on, so the log is complete when the run resolves.
    const stored = (await events.byCorrelation(result.runId)).filter((e) => e.type.startsWith('agent.'));
    assert.deepEqual(
      stored.map((e) => e.type),
      ['agent.run.started', 'agent.model.requested', 'agent.model.responded', 'agent.tool.called', 'agent.tool.returned', 'agent.model.requested', 'agent.model.responded', 'agent.run.completed'],
    );
    // Each record's causation is the step before it.
    for (let i = 1; i < stored.length; i++) assert.equal(stored[i]!.causationId, stored[i - 1]!.id);
  });

  test('a run interrupted by a crash is found in the file log at the next start, and resumed', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'agents-recovery-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const events = { use: 'events', options: { store: { type: 'file', dir, fsync: 'always' } } };
    const agent = [{ name: 'calculator', provider: 'scripted', model: 'calc', tools: ['math.*'] }];
    // A previous life of the system recorded a start and then died before finishing.
    const first = await system({ after: () => undefined }, { calc }, agent, { events });
    await first.resolve('events').publish({ type: 'agent.run.started', source: 'agents', correlationId: 'run-lost', data: { agent: 'calculator', input: 'add 2 and 3' } });
    await first.stop();

    const second = await system(t, { calc }, agent, { events, agentsOptions: { recovery: 'resume' } });
    const agents = second.resolve('agents');
    assert.deepEqual(agents.interruptedRuns().map((r) => [r.runId, r.agent, r.input]), [['run-lost', 'calculator', 'add 2 and 3']]);
    assert.equal((await agents.wait('run-lost')).output, 'The sum is 5.');
    const types = (await second.resolve('events').byCorrelation('run-lost')).map((e) => e.type).filter((x) => x.startsWith('agent.'));
    assert.deepEqual(types.slice(0, 2), ['agent.run.started', 'agent.run.resumed']);
    assert.equal(types.filter((x) => x === 'agent.run.started').length, 1);
    assert.equal(types.at(-1), 'agent.run.completed');
  });

  test("with recovery 'report' an interrupted run is listed, not run; starting it again by id resumes it", async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'agents-report-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const events = { use: 'events', options: { store: { type: 'file', dir, fsync: 'always' } } };
    const agent = [{ name: 'calculator', provider: 'scripted', model: 'calc', tools: ['math.*'] }];
    const first = await system({ after: () => undefined }, { calc }, agent, { events });
    await first.resolve('events').publish({ type: 'agent.run.started', source: 'agents', correlationId: 'run-lost', data: { agent: 'calculator', input: 'add 2 and 3' } });
    await first.stop();
    const second = await system(t, { calc }, agent, { events });
    const agents = second.resolve('agents');
    assert.deepEqual(agents.interruptedRuns().map((r) => r.runId), ['run-lost']);
    assert.equal((await second.resolve('events').byCorrelation('run-lost')).length, 1, 'not resumed');
    const result = await agents.run('calculator', 'ignored: the journal has the input', { runId: 'run-lost' });
    assert.equal(result.output, 'The sum is 5.');
    const types = (await second.resolve('events').byCorrelation('run-lost')).map((e) => e.type);
    assert.deepEqual(types.slice(0, 2), ['agent.run.started', 'agent.run.resumed']);
  });

  test('both plugins pass the conformance check', async () => {
    await checkPluginConformance(agentsPlugin, { with: ['supervision', 'actors', 'tools'] });
    await checkPluginConformance(scriptedPlugin, { with: ['supervision', 'actors', 'tools', agentsPlugin], options: { scripts: { calc } } });
  });
});
