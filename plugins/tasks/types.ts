/**
 * Public contract of the tasks plugin. Other plugins import these with `import type`
 * and reach the service through `ctx.resolve('tasks')`.
 */
export type { TasksOptions, TasksOptionsInput } from './options.js';

/** Served strictly highest first: critical > high > normal > low; FIFO within one priority. */
export type TaskPriority = 'critical' | 'high' | 'normal' | 'low';

/** What a task function receives. */
export interface TaskContext {
  /**
   * Aborted at the task's deadline, on `cancel()`, or when a drain deadline passes. Created on first
   * read, so a task that never looks at it costs no AbortController.
   */
  readonly signal: AbortSignal;
  /** 1, or the attempt number when the task runs under a resilience policy. */
  readonly attempt: number;
}

export type TaskFn<T> = (ctx: TaskContext) => T | Promise<T>;

export interface TaskSpec<T> {
  readonly run: TaskFn<T>;
  /** Default 'normal'. */
  readonly priority?: TaskPriority;
  /** Overrides the executor's `timeoutMs` for this task (0: none). Covers every retry. */
  readonly timeoutMs?: number;
  /** Name of a resilience policy to run the task through (needs the resilience plugin). */
  readonly policy?: string;
  /** Default: `task-<n>`. */
  readonly id?: string;
}

export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'timed-out' | 'cancelled' | 'rejected';

export interface TaskHandle<T> {
  readonly id: string;
  /**
   * Settles exactly once: the task's value, its error, or a TaskError (`TASK_QUEUE_FULL`,
   * `TASK_EXECUTOR_SHUTDOWN`, `TASK_TIMEOUT`, `TASK_CANCELLED`). A rejection nobody awaits is
   * counted and logged, never an unhandled rejection.
   */
  readonly result: Promise<T>;
  readonly status: TaskStatus;
  /** Removes a queued task or aborts a running one; `result` rejects with TASK_CANCELLED. False when already finished. */
  cancel(reason?: string): boolean;
}

/** Plain counters of an executor (never reset). */
export interface TaskStats {
  readonly submitted: number;
  readonly running: number;
  readonly queued: number;
  readonly queuedByPriority: Readonly<Record<TaskPriority, number>>;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly cancelled: number;
  /** Refused at submit (queue full, shutdown, unavailable policy) or rejected from the queue at shutdown. */
  readonly rejected: number;
}

export interface StreamContext {
  /** Aborted when the stream fails, is cancelled, or the executor's drain deadline passes. */
  readonly signal: AbortSignal;
}

/** A named processing step; its return value is the next stage's input. */
export interface StreamStage<I = unknown, O = unknown> {
  readonly name: string;
  process(item: I, ctx: StreamContext): O | Promise<O>;
}

export type StreamStageFn<I = unknown, O = unknown> = (item: I, ctx: StreamContext) => O | Promise<O>;

/** Where processed items go: a function, or anything with `write` (a Node Writable: `false` waits for 'drain'). */
export type StreamSink<T = unknown> =
  | ((item: T, ctx: StreamContext) => unknown)
  | { write(item: T): unknown; once?(event: 'drain', listener: () => void): unknown };

/** What happens when the buffer between the source and the stages is full. */
export type OverflowPolicy = 'wait' | 'drop-newest' | 'drop-oldest' | 'fail';

export interface StreamOptions {
  /** Items in the stages at once (default 1). The sink always sees items in source order, one at a time. */
  readonly concurrency?: number;
  /** Items buffered between source and stages (default 1000, the original system's). */
  readonly buffer?: number;
  /** Default 'wait' (backpressure: stop pulling from the source). */
  readonly overflow?: OverflowPolicy;
  /** 'fail' (default): the first stage error ends the stream; 'skip': count it, drop the item, go on. */
  readonly onError?: 'fail' | 'skip';
  readonly signal?: AbortSignal;
}

export interface StreamStats {
  /** Items taken from the source. */
  readonly pulled: number;
  /** Items that went through every stage and the sink. */
  readonly processed: number;
  /** Items dropped by the overflow policy. */
  readonly dropped: number;
  /** Times the source (buffer full) or a Writable sink ('drain') had to wait. */
  readonly backpressureWaits: number;
  /** Stage and sink errors. */
  readonly errors: number;
}

/** The `tasks` service. */
export interface TaskService {
  /** Runs `task` now if a slot is free, else queues it by priority; never throws for a full queue (the handle's result rejects). */
  submit<T>(task: TaskFn<T> | TaskSpec<T>): TaskHandle<T>;
  /**
   * Pulls `source` (async iterable, iterable or Node Readable) through `stages` into `sink` with
   * bounded memory. Resolves to the counts; rejects with `STREAM_STAGE_FAILED` naming the stage,
   * `STREAM_OVERFLOW`, or the abort reason.
   */
  stream<T>(
    source: AsyncIterable<T> | Iterable<T>,
    stages: ReadonlyArray<StreamStage<never, unknown> | StreamStageFn<never, unknown>>,
    sink: StreamSink<never>,
    options?: StreamOptions,
  ): Promise<StreamStats>;
  stats(): TaskStats;
  /** False once shutdown began. */
  readonly accepting: boolean;
  /**
   * Stops accepting, rejects queued tasks with TASK_EXECUTOR_SHUTDOWN, waits for running tasks and
   * streams up to `timeoutMs` (or `signal`), then aborts what is left. Idempotent.
   */
  shutdown(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
}

declare module '../../sdk/index.js' {
  interface Services {
    tasks: TaskService;
  }
}
