/**
 * One submitted task. The same object is the caller's handle, the context the task function
 * receives and the executor's deadline-list node: one allocation (plus its result promise) per task.
 */
import type { Policy } from '../resilience/types.js';
import type { TaskContext, TaskFn, TaskHandle, TaskStatus } from './types.js';
import type { DeadlineEntry } from '../../sdk/util/index.js';

export const QUEUED = 0;
export const RUNNING = 1;
export const SUCCEEDED = 2;
export const FAILED = 3;
export const TIMED_OUT = 4;
export const CANCELLED = 5;
export const REJECTED = 6;

const STATUS: readonly TaskStatus[] = ['queued', 'running', 'succeeded', 'failed', 'timed-out', 'cancelled', 'rejected'];

function ignore(): void {}

/** What a task needs from its executor. */
export interface TaskOwner {
  cancel(task: Task<unknown>, reason: string | undefined): boolean;
  expire(task: Task<unknown>): void;
}

export class Task<T> implements TaskHandle<T>, TaskContext, DeadlineEntry {
  readonly result: Promise<T>;
  readonly fn: TaskFn<T>;
  /** Queue lane: 0 low … 3 critical. */
  readonly level: number;
  readonly timeoutMs: number;
  readonly attempt = 1;
  policy: Policy | undefined = undefined;
  state = QUEUED;
  startedAt = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  deadline = 0;
  deadlineTick = 0;
  prev: DeadlineEntry | undefined = undefined;
  next: DeadlineEntry | undefined = undefined;
  readonly #owner: TaskOwner;
  readonly #seq: number;
  #id: string | undefined;
  #controller: AbortController | undefined = undefined;
  #abortedWith: Error | undefined = undefined;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  constructor(owner: TaskOwner, seq: number, fn: TaskFn<T>, level: number, timeoutMs: number, id: string | undefined) {
    this.#owner = owner;
    this.#seq = seq;
    this.fn = fn;
    this.level = level;
    this.timeoutMs = timeoutMs;
    this.#id = id;
    this.result = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Generated on first read: most tasks never have their id looked at. */
  get id(): string {
    return (this.#id ??= `task-${this.#seq}`);
  }

  get status(): TaskStatus {
    return STATUS[this.state]!;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortedWith !== undefined) this.#controller.abort(this.#abortedWith);
    }
    return this.#controller.signal;
  }

  cancel(reason?: string): boolean {
    return this.#owner.cancel(this as Task<unknown>, reason);
  }

  expire(): void {
    this.#owner.expire(this as Task<unknown>);
  }

  /** Aborts the task's signal (now, or when it is first read). */
  abort(reason: Error): void {
    if (this.#abortedWith !== undefined) return;
    this.#abortedWith = reason;
    this.#controller?.abort(reason);
  }

  fulfil(value: T): void {
    this.#resolve(value);
  }

  fail(error: unknown): void {
    this.#reject(error);
    // Every failure is counted and logged by the executor; a caller who never awaits the result
    // must not crash the process with an unhandled rejection.
    this.result.catch(ignore);
  }
}
