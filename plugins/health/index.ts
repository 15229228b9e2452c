/** The health plugin: checks with timeouts and criticality; `/livez`, `/readyz`, `/healthz`. */
import type { EventBus } from '../events/types.js';
import { definePlugin, KERNEL_VERSION } from '../../sdk/index.js';
import { EventLoopDelayCheck } from './checks/eventLoopDelay.js';
import { heapUsageCheck } from './checks/heapUsage.js';
import { HealthMonitor } from './HealthMonitor.js';
import { registerHealthRoutes } from './healthRoutes.js';
import { HealthOptionsSchema } from './options.js';

export default definePlugin({
  name: 'health',
  version: '1.0.0',
  description: 'Health checks with timeouts and criticality; /livez, /readyz and /healthz on the http plugin',
  optionalDependsOn: ['http', 'events'],
  options: HealthOptionsSchema,
  setup(ctx) {
    const { options, logger } = ctx;
    const monitor = new HealthMonitor({
      intervalMs: options.intervalMs,
      timeoutMs: options.timeoutMs,
      version: options.version ?? KERNEL_VERSION,
      logger,
      metrics: ctx.metrics,
      kernelState: ctx.kernelState,
      onChange: (change) => {
        // Resolved per change, not at setup: events may be provided by a plugin set up later.
        const events = ctx.tryResolve<EventBus>('events');
        events?.publish({ type: 'health.changed', source: 'health', subject: change.check, data: change }).catch((error: unknown) => {
          logger.warn({ err: error, check: change.check }, 'could not publish health.changed');
        });
      },
    });
    const http = ctx.tryResolve('http');
    const removeRoutes = http === undefined ? undefined : registerHealthRoutes(http, monitor, options.publicProbes);
    ctx.provide('health', monitor, { dispose: () => removeRoutes?.() });

    const eventLoop = options.eventLoop.enabled ? new EventLoopDelayCheck(options.eventLoop) : undefined;
    if (eventLoop !== undefined) {
      monitor.register('event-loop', eventLoop.check, { kind: 'live', critical: options.eventLoop.critical, intervalMs: options.eventLoop.intervalMs });
    }
    if (options.heap.enabled) {
      monitor.register('heap', heapUsageCheck(options.heap), { kind: 'live', critical: options.heap.critical, intervalMs: options.heap.intervalMs });
    }

    ctx.onStart(() => eventLoop?.start());
    // The first run waits for every plugin's onStart: a check of a component that starts after
    // health would otherwise be judged before its component exists.
    ctx.hooks.started.tapPromise('health', () => monitor.start());
    ctx.onStop(() => {
      monitor.stop();
      eventLoop?.stop();
    });
  },
});

export { EventLoopDelayCheck } from './checks/eventLoopDelay.js';
export type { EventLoopDelayOptions } from './checks/eventLoopDelay.js';
export { heapUsageCheck } from './checks/heapUsage.js';
export type { HeapUsageOptions } from './checks/heapUsage.js';
export { HEALTH_ERROR_CODES, HealthError } from './errors.js';
export { HealthMonitor } from './HealthMonitor.js';
export type { HealthMonitorOptions } from './HealthMonitor.js';
export { registerHealthRoutes } from './healthRoutes.js';
export { HealthOptionsSchema } from './options.js';
export type { HealthOptions } from './options.js';
export type { CheckOptions, CheckResult, CheckState, HealthChangedData, HealthCheck, HealthReport, HealthService, HealthStatus } from './types.js';
