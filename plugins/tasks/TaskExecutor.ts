/**
 * A bounded priority executor: at most `maxConcurrent` tasks run; up to `queueCapacity` wait,
 * served strictly by priority and FIFO within one; more are refused at once. Nothing vanishes:
 * every handle's result settles, including at shutdown.
 *
 * The per-task path allocates the task (handle, context and list node in one object) and its result
 * promise, reads the clock once for the deadline, and calls no labelled metric: counters are plain
 * fields that the plugin publishes on scrape.
 */
import type { Logger } from 'pino';
import { classify, type Histogram } from '../../sdk/index.js';
import type { Policy } from '../resilience/types.js';
import { policyUnavailableError, queueFullError, shutdownError, taskCancelledError, taskTimeoutError } from './errors.js';
import type { TasksOptions } from './options.js';
import { PRIORITY_LEVEL, PRIORITY_NAMES, PriorityQueue } from './PriorityQueue.js';
import { StreamProcessor } from './StreamProcessor.js';
import { CANCELLED, FAILED, QUEUED, REJECTED, RUNNING, SUCCEEDED, Task, TIMED_OUT, type TaskOwner } from './Task.js';
import type {
  StreamOptions,
  StreamSink,
  StreamStage,
  StreamStageFn,
  StreamStats,
  TaskFn,
  TaskHandle,
  TaskPriority,
  TaskService,
  TaskSpec,
  TaskStats,
} from './types.js';
import { anySignal, type DeadlineEntry, DeadlineWheel, resolutionFor } from '../../sdk/util/index.js';

export interface TaskExecutorDeps {
  /** Looks up a resilience policy; undefined when the resilience plugin is not loaded. Throws for an unknown name. */
  readonly resolvePolicy?: (name: string) => Policy | undefined;
  /** Observes each finished task's run time in seconds (unlabelled: it is on the hot path). */
  readonly duration?: Histogram;
  readonly logger?: Logger;
}

function expireTask(task: Task<unknown>): void {
  task.expire();
}

export class TaskExecutor implements TaskService, TaskOwner {
  readonly #queue = new PriorityQueue<Task<unknown>>();
  readonly #wheel: DeadlineWheel;
  /** Timeouts shorter than this get their own timer: the wheel's resolution would be too coarse. */
  readonly #wheelMinMs: number;
  readonly #max: number;
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #drainTimeoutMs: number;
  readonly #deps: TaskExecutorDeps;
  readonly #hardStop = new AbortController();
  #seq = 0;
  #running = 0;
  #streams = 0;
  #submitted = 0;
  #succeeded = 0;
  #failed = 0;
  #timedOut = 0;
  #cancelled = 0;
  #rejected = 0;
  #accepting = true;
  #shutdown: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;

  constructor(options: TasksOptions, deps: TaskExecutorDeps = {}) {
    this.#max = options.maxConcurrent;
    this.#capacity = options.queueCapacity;
    this.#timeoutMs = options.timeoutMs;
    this.#drainTimeoutMs = options.drainTimeoutMs;
    this.#deps = deps;
    const resolution = resolutionFor(options.timeoutMs > 0 ? options.timeoutMs : 1_000);
    this.#wheel = new DeadlineWheel(resolution, false);
    this.#wheelMinMs = resolution * 10;
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  submit<T>(input: TaskFn<T> | TaskSpec<T>): TaskHandle<T> {
    let fn: TaskFn<T>;
    let level: number = PRIORITY_LEVEL.normal;
    let timeoutMs = this.#timeoutMs;
    let policyName: string | undefined;
    let id: string | undefined;
    if (typeof input === 'function') {
      fn = input;
    } else {
      if (input === null || typeof input !== 'object' || typeof input.run !== 'function') {
        throw new TypeError('tasks.submit expects a function or { run, priority?, timeoutMs?, policy?, id? }');
      }
      fn = input.run;
      if (input.priority !== undefined) {
        const l = PRIORITY_LEVEL[input.priority as TaskPriority] as number | undefined;
        if (l === undefined) throw new TypeError(`unknown task priority '${String(input.priority)}' (critical, high, normal, low)`);
        level = l;
      }
      if (input.timeoutMs !== undefined) timeoutMs = input.timeoutMs;
      policyName = input.policy;
      id = input.id;
    }
    const task = new Task<T>(this, ++this.#seq, fn, level, timeoutMs, id);
    const t = task as Task<unknown>;
    this.#submitted++;
    if (!this.#accepting) return this.#refuse(t, shutdownError(task.id, 'refused')), task;
    if (policyName !== undefined) {
      try {
        const policy = this.#deps.resolvePolicy?.(policyName);
        if (policy === undefined) return this.#refuse(t, policyUnavailableError(task.id, policyName)), task;
        task.policy = policy;
      } catch (error) {
        return this.#refuse(t, error), task;
      }
    }
    if (this.#running < this.#max && this.#queue.size === 0) this.#start(t);
    else if (this.#queue.size >= this.#capacity) this.#refuse(t, queueFullError(this.#capacity, task.id));
    else this.#queue.push(t, level);
    return task;
  }

  stream<T>(
    source: AsyncIterable<T> | Iterable<T>,
    stages: ReadonlyArray<StreamStage<never, unknown> | StreamStageFn<never, unknown>>,
    sink: StreamSink<never>,
    options: StreamOptions = {},
  ): Promise<StreamStats> {
    if (!this.#accepting) return Promise.reject(shutdownError(undefined, 'refused'));
    const signal = options.signal === undefined ? this.#hardStop.signal : anySignal([options.signal, this.#hardStop.signal]);
    let processor: StreamProcessor<T>;
    try {
      processor = new StreamProcessor(source, stages, sink, { ...options, signal });
    } catch (error) {
      return Promise.reject(error);
    }
    this.#streams++;
    return processor.run().finally(() => {
      this.#streams--;
      this.#checkIdle();
    });
  }

  /** Plain counters and the queue by priority. */
  stats(): TaskStats {
    const byPriority = {} as Record<TaskPriority, number>;
    for (const name of PRIORITY_NAMES) byPriority[name] = this.#queue.sizeOf(PRIORITY_LEVEL[name]);
    return {
      submitted: this.#submitted,
      running: this.#running,
      queued: this.#queue.size,
      queuedByPriority: byPriority,
      succeeded: this.#succeeded,
      failed: this.#failed,
      timedOut: this.#timedOut,
      cancelled: this.#cancelled,
      rejected: this.#rejected,
    };
  }

  /** Fill ratio of the queue, 0–1. */
  get saturation(): number {
    return this.#capacity === 0 ? (this.#running >= this.#max ? 1 : 0) : this.#queue.size / this.#capacity;
  }

  shutdown(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    this.#accepting = false;
    for (const task of this.#queue.drain()) this.#finish(task, REJECTED, shutdownError(task.id, 'queued'));
    this.#shutdown = this.#drain(options.timeoutMs ?? this.#drainTimeoutMs, options.signal);
    return this.#shutdown;
  }

  /** `handle.cancel()`: removes a queued task or aborts a running one. */
  cancel(task: Task<unknown>, reason: string | undefined): boolean {
    if (task.state === QUEUED) {
      this.#queue.remove(task, task.level);
      this.#finish(task, CANCELLED, taskCancelledError(task.id, reason));
      return true;
    }
    if (task.state === RUNNING) {
      const error = taskCancelledError(task.id, reason);
      task.abort(error);
      this.#finish(task, CANCELLED, error);
      return true;
    }
    return false;
  }

  /** The task's deadline passed. */
  expire(task: Task<unknown>): void {
    if (task.state !== RUNNING) return;
    const error = taskTimeoutError(task.id, task.timeoutMs);
    task.abort(error);
    this.#finish(task, TIMED_OUT, error);
  }

  #start(task: Task<unknown>): void {
    task.state = RUNNING;
    this.#running++;
    task.startedAt = performance.now();
    const t = task.timeoutMs;
    // Every running task sits in the wheel's list (it is how drain finds them); one without a
    // usable wheel deadline gets Infinity there and, if it has a short timeout, its own timer.
    const onWheel = t >= this.#wheelMinMs && Number.isFinite(t);
    this.#wheel.add(task, onWheel ? t : Infinity);
    if (!onWheel && t > 0 && Number.isFinite(t)) task.timer = setTimeout(expireTask, t, task);
    void this.#run(task);
  }

  async #run(task: Task<unknown>): Promise<void> {
    // One microtask turn first: submit never runs user code on the caller's stack.
    await undefined;
    if (task.state !== RUNNING) return;
    let value: unknown;
    try {
      const policy = task.policy;
      value = policy === undefined ? await task.fn(task) : await policy.execute((ctx) => task.fn(ctx), { signal: task.signal });
    } catch (error) {
      this.#finish(task, FAILED, error);
      return;
    }
    this.#finish(task, SUCCEEDED, value);
  }

  #refuse(task: Task<unknown>, error: unknown): void {
    this.#finish(task, REJECTED, error);
  }

  #finish(task: Task<unknown>, state: number, outcome: unknown): void {
    const was = task.state;
    if (was > RUNNING) return;
    task.state = state;
    if (was === RUNNING) {
      this.#running--;
      this.#wheel.remove(task as DeadlineEntry);
      if (task.timer !== undefined) clearTimeout(task.timer);
      if (state === SUCCEEDED || state === FAILED) this.#deps.duration?.observe((performance.now() - task.startedAt) / 1000);
    }
    if (state === SUCCEEDED) {
      this.#succeeded++;
      task.fulfil(outcome);
    } else {
      if (state === FAILED) this.#failed++;
      else if (state === TIMED_OUT) this.#timedOut++;
      else if (state === CANCELLED) this.#cancelled++;
      else this.#rejected++;
      if (this.#deps.logger?.isLevelEnabled('debug')) {
        const c = classify(outcome);
        this.#deps.logger.debug({ task: task.id, status: task.status, code: c.code }, `task '${task.id}' ${task.status}: ${c.message}`);
      }
      task.fail(outcome);
    }
    if (was === RUNNING) this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#max) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      this.#start(next);
    }
    if (this.#onIdle !== undefined) this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#onIdle !== undefined && this.#running === 0 && this.#streams === 0) {
      const idle = this.#onIdle;
      this.#onIdle = undefined;
      idle();
    }
  }

  async #drain(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if ((this.#running > 0 || this.#streams > 0) && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          this.#onIdle = undefined;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal?.addEventListener('abort', done, { once: true });
        this.#onIdle = done;
      });
    }
    const left = this.#running;
    this.#hardStop.abort(shutdownError(undefined, 'aborted'));
    this.#wheel.removeAll((entry) => {
      const task = entry as Task<unknown>;
      const error = shutdownError(task.id, 'aborted');
      task.abort(error);
      this.#finish(task, CANCELLED, error);
    });
    if (left > 0) this.#deps.logger?.warn({ aborted: left }, `aborted ${left} running task(s) at the drain deadline`);
    // Streams settle on their own once the hard-stop signal aborted them.
  }
}
