/**
 * Heap usage against V8's heap size limit: close to the limit, GC pauses grow and an
 * out-of-memory crash follows, so "degraded" is an early warning and "unhealthy" a near miss.
 */
import { getHeapStatistics } from 'node:v8';
import type { CheckResult, HealthCheck } from '../types.js';

export interface HeapUsageOptions {
  readonly degradedRatio: number;
  readonly unhealthyRatio: number;
  /** For tests: where the numbers come from (default `v8.getHeapStatistics`). */
  readonly read?: () => { readonly used_heap_size: number; readonly heap_size_limit: number };
}

/** The built-in `heap` check. */
export function heapUsageCheck(options: HeapUsageOptions): HealthCheck {
  const read = options.read ?? getHeapStatistics;
  return (): CheckResult => {
    const stats = read();
    const ratio = stats.used_heap_size / stats.heap_size_limit;
    const percent = Math.round(ratio * 1000) / 10;
    const details = { usedBytes: stats.used_heap_size, limitBytes: stats.heap_size_limit, ratio: Math.round(ratio * 1e4) / 1e4 };
    if (ratio >= options.unhealthyRatio) return { status: 'unhealthy', message: `heap ${percent}% of its limit`, details };
    if (ratio >= options.degradedRatio) return { status: 'degraded', message: `heap ${percent}% of its limit`, details };
    return { status: 'healthy', details };
  };
}
