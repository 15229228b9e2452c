/**
 * Error codes of the tasks plugin. Codes never change once published; messages say what was wrong
 * and what to do about it.
 */
import { StreamError, TaskError } from '../../sdk/index.js';

export const TASK_ERROR_CODES = Object.freeze({
  /** The queue holds `queueCapacity` tasks: the submit is refused at once. */
  TASK_QUEUE_FULL: 'TASK_QUEUE_FULL',
  /** The executor is shutting down: new work is refused, queued work is rejected, running work past the drain deadline is aborted. */
  TASK_EXECUTOR_SHUTDOWN: 'TASK_EXECUTOR_SHUTDOWN',
  /** The task ran past its `timeoutMs`; its signal was aborted. */
  TASK_TIMEOUT: 'TASK_TIMEOUT',
  /** `handle.cancel()` was called before the task finished. */
  TASK_CANCELLED: 'TASK_CANCELLED',
  /** The task names a resilience policy but the resilience plugin is not loaded. */
  TASK_POLICY_UNAVAILABLE: 'TASK_POLICY_UNAVAILABLE',
  /** A stream stage (or the sink) threw; the error names the stage. */
  STREAM_STAGE_FAILED: 'STREAM_STAGE_FAILED',
  /** The stream buffer was full under `overflow: 'fail'`. */
  STREAM_OVERFLOW: 'STREAM_OVERFLOW',
} as const);

export type TaskErrorCode = (typeof TASK_ERROR_CODES)[keyof typeof TASK_ERROR_CODES];

export function queueFullError(capacity: number, id: string): TaskError {
  return new TaskError(TASK_ERROR_CODES.TASK_QUEUE_FULL, `task queue is full (${capacity} queued); task '${id}' refused. Shed load or raise queueCapacity`, {
    retryable: true,
    severity: 'medium',
    context: { capacity, task: id },
  });
}

export function shutdownError(id: string | undefined, phase: 'refused' | 'queued' | 'aborted'): TaskError {
  const what =
    phase === 'refused'
      ? 'the executor is shutting down and accepts no new work'
      : phase === 'queued'
        ? 'the executor shut down before this queued task could start'
        : 'the executor shut down and its drain deadline passed while this task was running';
  return new TaskError(TASK_ERROR_CODES.TASK_EXECUTOR_SHUTDOWN, id === undefined ? what : `task '${id}': ${what}`, {
    context: { phase, ...(id === undefined ? {} : { task: id }) },
  });
}

export function taskTimeoutError(id: string, timeoutMs: number): TaskError {
  return new TaskError(TASK_ERROR_CODES.TASK_TIMEOUT, `task '${id}' timed out after ${timeoutMs} ms`, { context: { task: id, timeoutMs } });
}

export function taskCancelledError(id: string, reason: string | undefined): TaskError {
  return new TaskError(TASK_ERROR_CODES.TASK_CANCELLED, `task '${id}' was cancelled${reason ? `: ${reason}` : ''}`, {
    severity: 'low',
    context: { task: id, ...(reason ? { reason } : {}) },
  });
}

export function policyUnavailableError(id: string, policy: string): TaskError {
  return new TaskError(
    TASK_ERROR_CODES.TASK_POLICY_UNAVAILABLE,
    `task '${id}' names resilience policy '${policy}' but the resilience plugin is not loaded; add it to the config's plugins`,
    { severity: 'medium', context: { task: id, policy } },
  );
}

export function stageFailedError(stage: string, index: number, cause: unknown): StreamError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new StreamError(TASK_ERROR_CODES.STREAM_STAGE_FAILED, `stream stage '${stage}' failed: ${message}`, {
    cause,
    context: { stage, index },
  });
}

export function overflowError(buffer: number): StreamError {
  return new StreamError(TASK_ERROR_CODES.STREAM_OVERFLOW, `stream buffer overflowed (${buffer} items) under overflow 'fail'; slow the source or pick another overflow policy`, {
    context: { buffer },
  });
}
