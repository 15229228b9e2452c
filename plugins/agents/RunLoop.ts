/**
 * The run loop: drives a run from its journal-rebuilt state to its end, journaling each step before
 * the effect it gates — `model.requested` before the model call, `model.responded` before its tool
 * calls, `tool.called` before the tool runs, `tool.returned` before the next model request. A loop
 * started on a state rebuilt from the log (after a kill, a crash, a restart) therefore never asks
 * for a recorded response again, never runs a recorded tool call again, and treats a call that was
 * called but never returned as in doubt.
 */
import { classify, MisterSmithError, toError } from '../../sdk/index.js';
import { abortReason } from '../../sdk/util/index.js';
import type { CallOptions, ToolBus, ToolDescription } from '../tools/types.js';
import { callProvider } from './callProvider.js';
import { agentError, AgentErrorCodes, TOOL_OUTCOME_UNKNOWN, TOOL_REJECTED } from './errors.js';
import type { Journal } from './Journal.js';
import { linkSignals } from './linkSignals.js';
import type { RunHandle } from './RunHandle.js';
import type { CallState } from './RunState.js';
import { modelTraceparent, recordTraceparent, toolTraceparent } from './traceContext.js';
import type { AgentHooks, JournalRecord, JournalRecordType, ModelProvider, ModelResponse, ToolCallRequest } from './types.js';
import type { ResilienceService } from '../resilience/types.js';

export interface LoopHost {
  readonly journal: Journal;
  readonly hooks: AgentHooks;
  readonly tools: ToolBus;
  readonly resilience: ResilienceService | undefined;
  readonly providerRetries: number;
  readonly providerRetryMaxDelayMs: number;
  readonly defaultPolicy: string | undefined;
  provider(name: string): ModelProvider;
  /** Cost from the price table when the provider reports none. */
  price(model: string, usage: { inputTokens: number; outputTokens: number }): number | undefined;
  /** Every stored record goes through here (index, stream listeners, metrics). */
  recorded(handle: RunHandle, record: JournalRecord): void;
  /** Throws AGENT_BUDGET_EXCEEDED when the run or an ancestor is over a budget (with `extraToolCalls` about to be made). */
  checkBudgets(handle: RunHandle, extraToolCalls: number): void;
  modelLatency(agent: string, seconds: number, failed: boolean): void;
  toolLatency(agent: string, tool: string, seconds: number): void;
}

/** How a loop ended without a terminal record. */
export type LoopEnd = 'finished' | 'suspended' | 'interrupted';

/** Abort reasons the loop journals as the run's end (others mean "this process lets go of the run"). */
export class RunStop extends Error {
  readonly error: MisterSmithError;
  constructor(error: MisterSmithError) {
    super(error.message);
    this.error = error;
  }
}

type CallOutcome = { readonly suspend?: 'approval' | 'in-doubt' };

export async function runLoop(host: LoopHost, handle: RunHandle, processSignal: AbortSignal): Promise<LoopEnd> {
  const state = handle.state;
  const def = handle.entry.definition;
  const runId = handle.runId;
  const controller = new AbortController();
  handle.controller = controller;
  // The run's own stops (cancel, deadlines) and the process letting go, on one controller.
  const link = linkSignals([processSignal], controller);
  const signal = link.signal;
  const fence = (): boolean => processSignal.aborted;

  const write = async (type: JournalRecordType, data: Record<string, unknown>): Promise<JournalRecord> => {
    // A loop this process let go of (actor crash, stop) must not write after its successor started.
    if (fence()) throw abortReason(processSignal);
    const traceparent = recordTraceparent(host.hooks.traceparent, runId, state.started, type, data, state.pendingRequestId);
    const record = await host.journal.append(runId, def.name, type, data, state.lastId, traceparent);
    state.apply(record);
    host.recorded(handle, record);
    return record;
  };

  // Deadlines count the run's active time, across resumes.
  const timeoutMs = state.started?.timeoutMs ?? def.timeoutMs;
  const now = Date.now();
  const timers: NodeJS.Timeout[] = [];
  const arm = (limitMs: number, error: () => MisterSmithError): void => {
    const left = limitMs - state.activeMs(now);
    const timer = setTimeout(() => controller.abort(new RunStop(error())), Math.max(0, left));
    // A deadline never keeps the process alive on its own, and goes once the process lets go of the run.
    timer.unref();
    timers.push(timer);
  };
  const disarm = (): void => {
    for (const t of timers) clearTimeout(t);
  };
  processSignal.addEventListener('abort', disarm, { once: true });
  arm(timeoutMs, () => agentError(AgentErrorCodes.AGENT_TIMEOUT, `run ${runId} of agent '${def.name}' missed its deadline of ${timeoutMs} ms`, { agent: def.name, runId, timeoutMs }));
  const maxWallMs = def.budget.maxWallMs;
  if (maxWallMs !== undefined) {
    arm(maxWallMs, () =>
      agentError(AgentErrorCodes.AGENT_BUDGET_EXCEEDED, `run ${runId} of agent '${def.name}' went over its wall-time budget of ${maxWallMs} ms`, {
        agent: def.name,
        runId,
        budget: 'maxWallMs',
        limit: maxWallMs,
      }),
    );
  }

  try {
    if (handle.cancelRequested) throw new RunStop(cancelled(runId, def.name, 'cancelled'));
    if (handle.resumeReason !== undefined) {
      const reason = handle.resumeReason;
      handle.resumeReason = undefined;
      await write('agent.run.resumed', { reason });
    }
    for (;;) {
      if (state.terminal !== undefined) return 'finished';
      throwIfAborted(signal);
      if (state.openTurn !== undefined) {
        const suspended = await runTools(host, handle, signal, write, fence);
        if (suspended) return 'suspended';
        host.checkBudgets(handle, 0);
        continue;
      }
      let reask: string | undefined;
      if (state.finalReply !== undefined) {
        const reply = state.finalReply.reply;
        const checked = handle.entry.validate?.(reply) ?? { ok: true as const, value: reply };
        if (checked.ok) {
          await write('agent.run.completed', { output: checked.value, usage: state.usage });
          return 'finished';
        }
        if (state.reasks >= 1) {
          throw agentError(AgentErrorCodes.AGENT_OUTPUT_INVALID, `agent '${def.name}' replied with invalid structured output after a re-ask: ${checked.error}`, {
            agent: def.name,
            runId,
            reply,
            issues: checked.error,
          });
        }
        reask = `Your reply must be JSON matching the output schema. It was not: ${checked.error}. Reply again with only the JSON.`;
      }
      if (state.turn >= def.maxTurns) {
        throw agentError(AgentErrorCodes.AGENT_MAX_TURNS, `agent '${def.name}' did not reply within ${def.maxTurns} turns`, { agent: def.name, runId, maxTurns: def.maxTurns });
      }
      const turn = state.turn;
      if (state.pendingRequest !== turn) await write('agent.model.requested', { turn, ...(reask !== undefined ? { reask } : {}) });
      const response = await askModel(host, handle, turn, signal);
      const toolCalls = callIds(response, turn, state.calls);
      const usage = { inputTokens: response.usage?.inputTokens ?? 0, outputTokens: response.usage?.outputTokens ?? 0 };
      const costUsd = response.costUsd ?? host.price(def.model, usage);
      if (toolCalls.length === 0 && response.reply === undefined) {
        throw agentError(AgentErrorCodes.AGENT_PROVIDER_FAILED, `agent '${def.name}': provider '${def.provider}' answered turn ${turn} with neither a reply nor tool calls`, {
          agent: def.name,
          runId,
          turn,
        });
      }
      const responded: Record<string, unknown> = { turn, toolCalls, usage };
      if (response.reply !== undefined) responded.reply = response.reply;
      if (costUsd !== undefined) responded.costUsd = costUsd;
      if (response.providerSessionId !== undefined) responded.providerSessionId = response.providerSessionId;
      await write('agent.model.responded', responded);
      host.checkBudgets(handle, 0);
    }
  } catch (error) {
    if (fence()) return 'interrupted';
    const reason = signal.aborted ? abortReason(signal) : error;
    const stop = reason instanceof RunStop ? reason.error : undefined;
    if (stop?.code === AgentErrorCodes.AGENT_CANCELLED) {
      await write('agent.run.cancelled', { reason: stop.message, usage: state.usage });
      return 'finished';
    }
    const failure = stop ?? (error instanceof MisterSmithError && error.code.startsWith('AGENT_') ? error : undefined);
    if (failure === undefined) throw error; // a bug or a journal failure: the actor crashes and the run resumes
    await write('agent.run.failed', { code: failure.code, message: failure.message, usage: state.usage, retryable: failure.retryable, ...budgetOf(failure) });
    return 'finished';
  } finally {
    disarm();
    link.dispose();
    processSignal.removeEventListener('abort', disarm);
    if (handle.controller === controller) handle.controller = undefined;
  }
}

function budgetOf(error: MisterSmithError): Record<string, unknown> {
  return error.context.budget !== undefined ? { budget: error.context.budget } : {};
}

export function cancelled(runId: string, agent: string, why: string): MisterSmithError {
  return agentError(AgentErrorCodes.AGENT_CANCELLED, `run ${runId} of agent '${agent}' was ${why}`, { agent, runId });
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}

/** Ids the journal keeps for the calls of one response: the provider's, made unique within the run. */
function callIds(response: ModelResponse, turn: number, known: ReadonlyMap<string, CallState>): ToolCallRequest[] {
  const out: ToolCallRequest[] = [];
  const seen = new Set<string>();
  (response.toolCalls ?? []).forEach((c, i) => {
    let id = c.id ?? `call-${turn}-${i}`;
    if (known.has(id) || seen.has(id)) id = `${id}-t${turn}-${i}`;
    seen.add(id);
    out.push({ id, name: c.name, input: c.input ?? {} });
  });
  return out;
}

async function askModel(host: LoopHost, handle: RunHandle, turn: number, signal: AbortSignal): Promise<ModelResponse> {
  const state = handle.state;
  const def = handle.entry.definition;
  const provider = host.provider(def.provider);
  const began = performance.now();
  const streaming = handle.listeners.size > 0;
  const traceparent = modelTraceparent(host.hooks.traceparent, handle.runId, state.started, state.pendingRequestId);
  try {
    const response = await callProvider({
      provider,
      request: {
        runId: handle.runId,
        agent: def.name,
        model: def.model,
        instructions: def.instructions,
        messages: state.conversation(),
        tools: host.tools.list(def.name),
        turn,
        signal,
        ...(state.started?.sessionId !== undefined ? { sessionId: state.started.sessionId } : {}),
        ...(state.providerSessionId !== undefined ? { providerSessionId: state.providerSessionId } : {}),
        ...(traceparent !== undefined ? { traceparent } : {}),
      },
      onDelta: streaming ? (text) => handle.emit({ type: 'text.delta', runId: handle.runId, turn, text }) : undefined,
      resilience: host.resilience,
      policy: def.providerPolicy ?? host.defaultPolicy,
      retries: host.providerRetries,
      maxDelayMs: host.providerRetryMaxDelayMs,
    });
    host.modelLatency(def.name, (performance.now() - began) / 1000, false);
    return response;
  } catch (error) {
    host.modelLatency(def.name, (performance.now() - began) / 1000, true);
    throw error;
  }
}

type Write = (type: JournalRecordType, data: Record<string, unknown>) => Promise<JournalRecord>;

/** Runs the open turn's calls in parallel; true when the run must suspend for a decision. */
async function runTools(host: LoopHost, handle: RunHandle, signal: AbortSignal, write: Write, fence: () => boolean): Promise<boolean> {
  const open = handle.state.openTurn!;
  const fresh = open.filter((c) => !c.called && c.result === undefined && c.decision !== 'deny').length;
  if (fresh > 0) host.checkBudgets(handle, fresh);
  const todo = open.filter((c) => c.result === undefined);
  const settled = await Promise.allSettled(todo.map((c) => runCall(host, handle, c, signal, write, fence)));
  // Every call has settled before the loop goes on, so no write of this turn races the next step.
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  const suspends: Array<{ call: CallState; reason: 'approval' | 'in-doubt' }> = [];
  settled.forEach((s, i) => {
    const reason = (s as PromiseFulfilledResult<CallOutcome>).value.suspend;
    if (reason !== undefined) suspends.push({ call: todo[i]!, reason });
  });
  if (suspends.length === 0) return false;
  for (const { call, reason } of suspends) {
    if (call.result === undefined) await write('agent.run.suspended', { callId: call.id, reason, name: call.name, input: call.input });
  }
  return true;
}

async function runCall(host: LoopHost, handle: RunHandle, call: CallState, signal: AbortSignal, write: Write, fence: () => boolean): Promise<CallOutcome> {
  const def = handle.entry.definition;
  let description: ToolDescription | undefined;
  try {
    description = host.tools.describe(call.name);
  } catch {
    description = undefined;
  }
  const returned = (body: { output: unknown } | { error: { code: string; message: string } }): Promise<JournalRecord> => write('agent.tool.returned', { callId: call.id, ...body });
  let preApproved = false;
  if (call.called) {
    // In doubt: the tool may or may not have run before the process let go of the run.
    if (description?.idempotent !== true) {
      if (call.inDoubtDecision === 'deny') {
        await returned({ error: { code: TOOL_REJECTED, message: `the call '${call.name}' (${call.id}) was in doubt and a human denied running it again` } });
        return {};
      }
      if (call.inDoubtDecision !== 'allow') {
        if (def.onInDoubt === 'suspend') return { suspend: 'in-doubt' };
        if (def.onInDoubt === 'error') {
          await returned({
            error: { code: TOOL_OUTCOME_UNKNOWN, message: `the call '${call.name}' (${call.id}) was interrupted; whether it took effect is unknown, and the tool is not idempotent, so it was not run again` },
          });
          return {};
        }
      }
    }
    preApproved = call.decision === 'allow' || call.inDoubtDecision === 'allow';
  } else {
    let needs = false;
    try {
      needs = description?.needsApproval(call.input) ?? false;
    } catch {
      needs = true; // a predicate that throws fails closed
    }
    if (needs) {
      if (call.decision === 'deny') {
        await returned({ error: { code: TOOL_REJECTED, message: `a human denied the call '${call.name}' (${call.id})` } });
        return {};
      }
      if (call.decision !== 'allow') return { suspend: 'approval' };
      preApproved = true;
    }
    await write('agent.tool.called', { callId: call.id, name: call.name, input: call.input });
  }
  const began = performance.now();
  const busCallId = `${handle.runId}:${call.id}`;
  const traceparent = toolTraceparent(host.hooks.traceparent, handle.runId, handle.state.started, busCallId);
  const options: CallOptions = {
    signal,
    callId: busCallId,
    correlationId: handle.runId,
    delegation: handle.state.started?.delegation ?? [],
    ...(preApproved ? { preApproved: true as const } : {}),
    ...(traceparent !== undefined ? { traceparent } : {}),
  };
  let body: { output: unknown } | { error: { code: string; message: string } };
  try {
    body = { output: await host.tools.call(def.name, call.name, call.input, options) };
  } catch (error) {
    if (fence() || signal.aborted) throw signal.aborted ? abortReason(signal) : toError(error);
    const { code, message } = classify(error);
    body = { error: { code, message } };
  }
  host.toolLatency(def.name, call.name, (performance.now() - began) / 1000);
  await returned(body);
  return {};
}
