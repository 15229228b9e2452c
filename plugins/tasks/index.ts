/**
 * The tasks plugin: a bounded priority executor with per-task deadlines, optional retry through a
 * resilience policy, graceful drain on stop, and backpressured stream processing.
 */
import { definePlugin } from '../../sdk/index.js';
import type { EventBus } from '../events/types.js';
import type { HealthService } from '../health/types.js';
import type { ResilienceService } from '../resilience/types.js';
import { tasksOptionsSchema } from './options.js';
import { PRIORITY_NAMES } from './PriorityQueue.js';
import { TaskExecutor } from './TaskExecutor.js';
import { drainBudget } from '../../sdk/util/index.js';

const STATUS_LABELS = Object.freeze({
  succeeded: Object.freeze({ status: 'succeeded' }),
  failed: Object.freeze({ status: 'failed' }),
  timedOut: Object.freeze({ status: 'timed_out' }),
  cancelled: Object.freeze({ status: 'cancelled' }),
  rejected: Object.freeze({ status: 'rejected' }),
});

export default definePlugin({
  name: 'tasks',
  version: '1.0.0',
  description: 'Priority task executor with deadlines, drain on stop, and backpressured streams',
  optionalDependsOn: ['resilience', 'events', 'health'],
  options: tasksOptionsSchema,
  setup(ctx) {
    const options = ctx.options;
    const resilience = ctx.tryResolve<ResilienceService>('resilience');
    const duration = ctx.metrics.histogram({
      name: 'task_duration_seconds',
      help: 'Run time of finished tasks',
      buckets: [0.0001, 0.001, 0.01, 0.1, 0.5, 1, 5, 30, 120],
    });
    const executor = new TaskExecutor(options, {
      resolvePolicy: resilience === undefined ? undefined : (name) => resilience.policy(name),
      duration,
      logger: ctx.logger,
    });
    // Per-task counts live in plain fields; these metrics publish them when someone scrapes.
    ctx.metrics.counter({
      name: 'task_completions_total',
      help: 'Tasks finished, by status (succeeded, failed, timed_out, cancelled, rejected)',
      labelNames: ['status'],
      collect: () => {
        const s = executor.stats();
        return [
          [STATUS_LABELS.succeeded, s.succeeded],
          [STATUS_LABELS.failed, s.failed],
          [STATUS_LABELS.timedOut, s.timedOut],
          [STATUS_LABELS.cancelled, s.cancelled],
          [STATUS_LABELS.rejected, s.rejected],
        ];
      },
    });
    const depth = ctx.metrics.gauge({
      name: 'task_queue_depth',
      help: 'Tasks waiting for a slot, by priority',
      labelNames: ['priority'],
      collect: () => {
        const byPriority = executor.stats().queuedByPriority;
        for (const priority of PRIORITY_NAMES) depth.set({ priority }, byPriority[priority]);
      },
    });
    const running = ctx.metrics.gauge({
      name: 'tasks_running',
      help: 'Tasks running now',
      collect: () => running.set(executor.stats().running),
    });
    const submitted = ctx.metrics.gauge({
      name: 'task_submissions_total',
      help: 'Tasks submitted',
      collect: () => submitted.set(executor.stats().submitted),
    });
    ctx.provide('tasks', executor);
    const unregister = ctx.tryResolve<HealthService>('health')?.register('tasks', () => {
      const s = executor.stats();
      const details = { queued: s.queued, capacity: options.queueCapacity, running: s.running, maxConcurrent: options.maxConcurrent };
      if (!executor.accepting) return { status: 'unhealthy', message: 'executor is shut down', details };
      if (executor.saturation > options.degradedQueueRatio) {
        return { status: 'degraded', message: `task queue ${Math.round(executor.saturation * 100)} % full`, details };
      }
      return { status: 'healthy', details };
    });
    const events = ctx.tryResolve<EventBus>('events');
    ctx.onStop(async (signal, { deadline }) => {
      await unregister?.();
      const before = executor.stats();
      // Abort what still runs a little before the kernel's deadline, so the drain ends on our terms
      // (tasks rejected with TASK_EXECUTOR_SHUTDOWN) rather than as a missed stop deadline.
      await executor.shutdown({ timeoutMs: drainBudget(deadline, options.drainTimeoutMs), signal });
      const after = executor.stats();
      const summary = {
        queuedRejected: before.queued,
        runningAtStop: before.running,
        abortedAtDeadline: after.cancelled - before.cancelled,
        submitted: after.submitted,
      };
      ctx.logger.info(summary, 'task executor drained');
      await events?.publish({ type: 'tasks.executor.drained', source: 'tasks', data: summary }).catch((error: unknown) => {
        ctx.logger.warn({ err: error }, 'could not publish tasks.executor.drained');
      });
    });
  },
});

export { TaskExecutor } from './TaskExecutor.js';
export type { TaskExecutorDeps } from './TaskExecutor.js';
export { StreamProcessor } from './StreamProcessor.js';
export { PriorityQueue, PRIORITY_LEVEL, PRIORITY_NAMES } from './PriorityQueue.js';
export { TASK_ERROR_CODES } from './errors.js';
export type { TaskErrorCode } from './errors.js';
export { tasksOptionsSchema } from './options.js';
export type {
  OverflowPolicy,
  StreamContext,
  StreamOptions,
  StreamSink,
  StreamStage,
  StreamStageFn,
  StreamStats,
  TaskContext,
  TaskFn,
  TaskHandle,
  TaskPriority,
  TaskService,
  TaskSpec,
  TaskStats,
  TaskStatus,
  TasksOptions,
  TasksOptionsInput,
} from './types.js';
