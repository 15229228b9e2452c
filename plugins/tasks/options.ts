/** Option schemas of the tasks plugin; `{}` validates (the original system's constants). */
import { z } from '../../sdk/index.js';

export const tasksOptionsSchema = z.object({
  /** Tasks running at once (the original system's 100 permits). */
  maxConcurrent: z.number().int().min(1).default(100),
  /** Tasks waiting for a slot; one more is refused at once with TASK_QUEUE_FULL. */
  queueCapacity: z.number().int().min(0).default(1000),
  /** Default per-task deadline in ms; 0 means none. */
  timeoutMs: z.number().min(0).default(30_000),
  /** How long stop lets running tasks finish before aborting them (also bounded by the kernel's stop deadline). */
  drainTimeoutMs: z.number().min(0).default(10_000),
  /** Queue fill ratio above which the health check reports degraded. */
  degradedQueueRatio: z.number().min(0).max(1).default(0.8),
});

export type TasksOptionsInput = z.input<typeof tasksOptionsSchema>;
export type TasksOptions = z.output<typeof tasksOptionsSchema>;
