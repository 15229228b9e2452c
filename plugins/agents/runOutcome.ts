/** What a run resolves or rejects with, read from its state; and a wait a signal can cut short. */
import { AgentError } from '../../sdk/index.js';
import { abortReason } from '../../sdk/util/index.js';
import { agentError, AgentErrorCodes } from './errors.js';
import type { RunHandle } from './RunHandle.js';
import type { RunState } from './RunState.js';
import type { RunResult, RunStatus } from './types.js';

/** The error waiters of a run get when the system stops under it (it resumes at the next start). */
export function interrupted(runId: string): AgentError {
  return agentError(AgentErrorCodes.AGENT_INTERRUPTED, `run ${runId} was interrupted: the system is stopping; it resumes from its journal at the next start`, { runId });
}

export function statusOf(handle: RunHandle): RunStatus {
  if (handle.phase === 'queued') return 'queued';
  if (handle.phase === 'suspended') return 'suspended';
  return handle.state.status;
}

export function resultOf(state: RunState): RunResult<unknown> {
  const data = state.terminal!.data as { output?: unknown };
  return { runId: state.runId, agent: state.agent, status: 'completed', output: data.output, steps: state.steps, usage: state.usage };
}

/** The error a failed or cancelled run rejects with, rebuilt from its terminal record. */
export function errorOf(state: RunState): AgentError {
  const t = state.terminal!;
  const data = t.data as { code?: string; message?: string; budget?: string; reason?: string };
  if (t.type === 'agent.run.cancelled') {
    return agentError(AgentErrorCodes.AGENT_CANCELLED, data.reason ?? `run ${state.runId} was cancelled`, { runId: state.runId, agent: state.agent, usage: state.usage });
  }
  const code = (data.code ?? AgentErrorCodes.AGENT_PROVIDER_FAILED) as Parameters<typeof agentError>[0];
  return agentError(code, data.message ?? 'the run failed', {
    runId: state.runId,
    agent: state.agent,
    usage: state.usage,
    steps: state.steps,
    ...(data.budget !== undefined ? { budget: data.budget } : {}),
  }, undefined, (data as { retryable?: boolean }).retryable);
}

/** A finished run's result, or the error it failed with. */
export function settledResult(state: RunState): Promise<RunResult<unknown>> {
  return new Promise((resolve, reject) => resultOrError(state, resolve, reject));
}

export function resultOrError(state: RunState, resolve: (r: RunResult<unknown>) => void, reject: (e: Error) => void): void {
  if (state.terminal?.type === 'agent.run.completed') resolve(resultOf(state));
  else reject(errorOf(state));
}

/** `promise`, or the signal's reason once it aborts (the work itself goes on). */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
