/**
 * Agents with the scripted provider, configured as a config file would.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { definePlugin, MisterSmithError, z } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import { rejectsWithCode } from './helpers.js';

describe('§4 agents and providers', () => {
  const math = definePlugin({
    name: 'math-tools',
    version: '1.0.0',
    dependsOn: ['tools'],
    setup(ctx) {
      ctx.resolve('tools').register({
        name: 'math.add',
        description: 'adds two numbers',
        input: z.object({ a: z.number(), b: z.number() }),
        handler: ({ a, b }) => a + b,
      });
    },
  });
  // The §4 JSON, verbatim.
  const providerAndAgents = JSON.parse(`[
    { "use": "provider-scripted", "options": { "scripts": { "calc": [
        { "toolCalls": [{ "name": "math.add", "input": { "a": 2, "b": 3 } }] },
        { "reply": "The sum is 5.", "usage": { "inputTokens": 40, "outputTokens": 6 } } ] } } },
    { "use": "agents", "options": { "agents": [
        { "name": "calculator", "provider": "scripted", "model": "calc", "instructions": "…",
          "tools": ["math.*"], "maxTurns": 8, "budget": { "maxTokens": 10000, "maxToolCalls": 20 } } ] } }
  ]`) as object[];

  test("agents.run('calculator', 'add 2 and 3') → { runId, output: 'The sum is 5.', steps, usage }", async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors', 'tools', math, ...(providerAndAgents as never[])], test: t });
    const agents = kernel.resolve('agents');
    const result = await agents.run('calculator', 'add 2 and 3');
    assert.equal(typeof result.runId, 'string');
    assert.equal(result.output, 'The sum is 5.');
    assert.ok(Array.isArray(result.steps));
    const toolStep = result.steps.find((s) => s.type === 'tool');
    assert.equal(toolStep && 'output' in toolStep ? toolStep.output : undefined, 5);
    assert.equal(result.usage.inputTokens, 40);
    assert.equal(result.usage.outputTokens, 6);
    // steps are consumed in order within each run: a second run replays the script
    assert.equal((await agents.run('calculator', 'add 2 and 3')).output, 'The sum is 5.');
    assert.ok(agents.list().some((a) => a.name === 'calculator'));
  });

  test('budget.maxTokens, budget.maxToolCalls and maxTurns bound a run; an unknown agent is AGENT_NOT_FOUND', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors', 'tools', math, ...(providerAndAgents as never[])], test: t });
    const agents = kernel.resolve('agents');
    agents.define({ name: 'thrifty', provider: 'scripted', model: 'calc', tools: ['math.*'], budget: { maxTokens: 10 } });
    agents.define({ name: 'no-tools', provider: 'scripted', model: 'calc', tools: ['math.*'], budget: { maxToolCalls: 0 } });
    agents.define({ name: 'hasty', provider: 'scripted', model: 'calc', tools: ['math.*'], maxTurns: 1 });
    await rejectsWithCode(agents.run('thrifty', 'add 2 and 3'), 'AGENT_BUDGET_EXCEEDED');
    await rejectsWithCode(agents.run('no-tools', 'add 2 and 3'), 'AGENT_BUDGET_EXCEEDED');
    await rejectsWithCode(agents.run('hasty', 'add 2 and 3'), 'AGENT_MAX_TURNS');
    await rejectsWithCode(agents.run('nobody', 'hi'), 'AGENT_NOT_FOUND');
  });

  test('agents.define adds an agent; a fail step surfaces as a typed error', async (t) => {
    const kernel = await createTestKernel({
      plugins: [
        'supervision', 'actors', 'tools', 'agents',
        { use: 'provider-scripted', options: { scripts: { broken: [{ fail: 'the model is down' }], slow: [{ delayMs: 5, reply: 'late but fine' }] } } },
      ],
      test: t,
    });
    const agents = kernel.resolve('agents');
    agents.define({ name: 'fragile', provider: 'scripted', model: 'broken' });
    agents.define({ name: 'patient', provider: 'scripted', model: 'slow' });
    assert.equal((await agents.run('patient', 'hi')).output, 'late but fine');
    await assert.rejects(agents.run('fragile', 'hi'), (e: unknown) => e instanceof MisterSmithError && /the model is down/.test(`${e.message} ${String((e.cause as Error | undefined)?.message)}`));
  });
});
