/**
 * One run of an agent: ask the model, make the tool calls it asks for through the tool bus, feed the
 * results back, until it replies — within `maxTurns`, the token and tool-call budgets, and the run's
 * deadline. A failed tool call is shown to the model (as an error result) rather than ending the run:
 * recovering from a bad call is the model's job.
 */
import { classify, MisterSmithError, type AgentError } from '../../sdk/index.js';
import type { ToolBus } from '../tools/types.js';
import { agentError, AgentErrorCodes } from './errors.js';
import type { AgentDefinition, AgentStep, ChatMessage, ModelProvider, ModelResponse, RunResult, ToolCallRequest } from './types.js';
import { abortReason } from '../../sdk/util/index.js';

export interface RunInput {
  readonly definition: AgentDefinition;
  readonly provider: ModelProvider;
  readonly tools: ToolBus | undefined;
  readonly runId: string;
  readonly input: string;
  readonly signal: AbortSignal;
  /** Agents this run acts for (agent-as-tool): its tool calls never get more rights than theirs. */
  readonly delegation: readonly string[];
  /** Called after each step, for events and logs. */
  readonly onStep: (step: AgentStep) => void;
}

export const DEFAULT_MAX_TURNS = 8;

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}

export async function runAgent(run: RunInput): Promise<RunResult> {
  const { definition, provider, tools, runId, signal } = run;
  const maxTurns = definition.maxTurns ?? DEFAULT_MAX_TURNS;
  const maxTokens = definition.budget?.maxTokens ?? Infinity;
  const maxToolCalls = definition.budget?.maxToolCalls ?? Infinity;
  const messages: ChatMessage[] = [{ role: 'user', content: run.input }];
  const steps: AgentStep[] = [];
  let inputTokens = 0;
  let outputTokens = 0;
  let toolCalls = 0;
  const usage = (turns: number) => ({ inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, toolCalls, turns });
  const fail = (code: Parameters<typeof agentError>[0], message: string, turns: number, cause?: unknown): AgentError =>
    agentError(code, message, { agent: definition.name, runId, steps, usage: usage(turns) }, cause);
  const step = (s: AgentStep): void => {
    steps.push(s);
    run.onStep(s);
  };

  for (let turn = 0; turn < maxTurns; turn++) {
    if (signal.aborted) throw cancelled(signal, turn);
    const toolInfos = tools?.list(definition.name) ?? [];
    let response: ModelResponse;
    try {
      response = await provider.complete({
        runId,
        agent: definition.name,
        model: definition.model,
        instructions: definition.instructions ?? '',
        messages: [...messages],
        tools: toolInfos,
        turn,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw cancelled(signal, turn);
      throw fail(AgentErrorCodes.PROVIDER_FAILED, `agent '${definition.name}': provider '${provider.name}' failed on turn ${turn}: ${classify(error).message}`, turn, error);
    }
    inputTokens += response.usage?.inputTokens ?? 0;
    outputTokens += response.usage?.outputTokens ?? 0;
    const calls: ToolCallRequest[] = (response.toolCalls ?? []).map((c, i) => ({ id: c.id ?? `call-${turn}-${i}`, name: c.name, input: c.input }));
    step({ type: 'model', turn, ...(response.reply !== undefined ? { reply: response.reply } : {}), toolCalls: calls.length, usage: response.usage ?? { inputTokens: 0, outputTokens: 0 } });
    if (inputTokens + outputTokens > maxTokens) {
      throw fail(AgentErrorCodes.BUDGET_EXCEEDED, `agent '${definition.name}' used ${inputTokens + outputTokens} tokens, over its budget of ${maxTokens}`, turn + 1);
    }
    if (calls.length === 0) {
      if (response.reply === undefined) {
        throw fail(AgentErrorCodes.PROVIDER_FAILED, `agent '${definition.name}': provider '${provider.name}' answered turn ${turn} with neither a reply nor tool calls`, turn + 1);
      }
      return { runId, agent: definition.name, output: response.reply, steps, usage: usage(turn + 1) };
    }
    messages.push({ role: 'assistant', ...(response.reply !== undefined ? { content: response.reply } : {}), toolCalls: calls });
    for (const call of calls) {
      if (toolCalls >= maxToolCalls) {
        throw fail(AgentErrorCodes.BUDGET_EXCEEDED, `agent '${definition.name}' asked for tool call ${toolCalls + 1}, over its budget of ${maxToolCalls}`, turn + 1);
      }
      toolCalls++;
      if (tools === undefined) {
        throw fail(AgentErrorCodes.PROVIDER_FAILED, `agent '${definition.name}' asked for tool '${call.name}', but the tools plugin is not loaded`, turn + 1);
      }
      try {
        const output = await tools.call(definition.name, call.name, call.input, { signal, callId: `${runId}:${call.id}`, correlationId: runId, delegation: run.delegation });
        step({ type: 'tool', turn, id: call.id, name: call.name, input: call.input, output });
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: stringify(output), isError: false });
      } catch (error) {
        if (signal.aborted) throw cancelled(signal, turn + 1);
        const { code, message } = classify(error);
        step({ type: 'tool', turn, id: call.id, name: call.name, input: call.input, error: { code, message } });
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: stringify({ error: { code, message } }), isError: true });
      }
    }
  }
  throw fail(AgentErrorCodes.MAX_TURNS, `agent '${definition.name}' did not reply within ${maxTurns} turns`, maxTurns);

  function cancelled(s: AbortSignal, turns: number): AgentError {
    const reason = abortReason(s);
    if (reason instanceof MisterSmithError && reason.code === AgentErrorCodes.TIMEOUT) return reason as AgentError;
    return fail(AgentErrorCodes.CANCELLED, `run ${runId} of agent '${definition.name}' was cancelled: ${reason.message}`, turns, reason);
  }
}
