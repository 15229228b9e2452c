/**
 * The resilience plugin: named policies (retry, timeout, circuit breaker, bulkhead) from
 * `options.policies`, applied by anyone through `ctx.tryResolve('resilience')?.policy(name)`.
 */
import { classify, definePlugin } from '../../sdk/index.js';
import type { EventBus } from '../events/types.js';
import type { HealthService } from '../health/types.js';
import { resilienceOptionsSchema } from './options.js';
import { PolicyRegistry } from './PolicyRegistry.js';
import type { CircuitState, PolicyObserver } from './types.js';

const STATE_CODE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };
const TRANSITION_EVENT: Readonly<Record<CircuitState, string>> = {
  open: 'resilience.circuit.opened',
  'half-open': 'resilience.circuit.half_opened',
  closed: 'resilience.circuit.closed',
};

export default definePlugin({
  name: 'resilience',
  version: '1.0.0',
  description: 'Named resilience policies: bulkhead → circuit breaker → retry → timeout',
  optionalDependsOn: ['events', 'health'],
  options: resilienceOptionsSchema,
  setup(ctx) {
    const log = ctx.logger;
    const events = ctx.tryResolve<EventBus>('events');
    const publish = (type: string, policy: string, data: Record<string, unknown>): void => {
      if (events === undefined) return;
      events.publish({ type, source: 'resilience', subject: policy, data: { policy, ...data } }).catch((error: unknown) => {
        log.warn({ err: error, type }, 'could not publish a resilience event');
      });
    };
    // Everything here runs on failure paths only (retries, transitions), so labelled metrics are fine.
    const retries = ctx.metrics.counter({ name: 'resilience_retries_total', help: 'Retries started by resilience policies', labelNames: ['policy'] });
    const transitions = ctx.metrics.counter({
      name: 'circuit_breaker_transitions_total',
      help: 'Circuit breaker state changes',
      labelNames: ['policy', 'from', 'to'],
    });
    const timeouts = ctx.metrics.counter({ name: 'resilience_timeouts_total', help: 'Attempts ended by a policy timeout', labelNames: ['policy'] });
    const rejections = ctx.metrics.counter({
      name: 'resilience_rejections_total',
      help: 'Calls refused by an open circuit or a full bulkhead',
      labelNames: ['policy', 'reason'],
    });
    const observer: PolicyObserver = {
      onRetry(policy, attempt, delayMs, error) {
        const c = classify(error);
        retries.inc({ policy });
        log.debug({ policy, attempt, delayMs, code: c.code }, `policy '${policy}': attempt ${attempt} failed (${c.code}); retrying in ${delayMs} ms`);
        publish('resilience.retry', policy, { attempt, delayMs, code: c.code, message: c.message });
      },
      onTransition(policy, from, to) {
        transitions.inc({ policy, from, to });
        log[to === 'open' ? 'warn' : 'info']({ policy, from, to }, `policy '${policy}': circuit ${from} → ${to}`);
        publish(TRANSITION_EVENT[to], policy, { from, to });
      },
      onTimeout(policy, attempt, timeoutMs) {
        timeouts.inc({ policy });
        log.debug({ policy, attempt, timeoutMs }, `policy '${policy}': attempt ${attempt} timed out`);
      },
      onRejected(policy, reason) {
        rejections.inc({ policy, reason });
      },
    };
    const registry = new PolicyRegistry(ctx.options, observer);
    const stateGauge = ctx.metrics.gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      labelNames: ['policy'],
      // Read on scrape: the breaker keeps a plain field, so calls never touch the metric.
      collect: () => {
        for (const policy of registry.all()) if (policy.circuit) stateGauge.set({ policy: policy.name }, STATE_CODE[policy.circuit.state]);
      },
    });
    ctx.provide('resilience', registry, { dispose: (r) => (r as PolicyRegistry).dispose() });
    const health = ctx.tryResolve<HealthService>('health');
    if (health !== undefined) {
      for (const policy of registry.all()) {
        const breaker = policy.circuit;
        if (breaker === undefined) continue;
        health.register(`resilience.${policy.name}`, () =>
          breaker.state === 'closed'
            ? { status: 'healthy' }
            : {
                status: 'degraded',
                message: `circuit ${breaker.state}`,
                details: { state: breaker.state, retryAfterMs: breaker.retryAfterMs, consecutiveFailures: breaker.consecutiveFailures },
              },
        );
      }
    }
    ctx.onStop(() => registry.dispose());
  },
});

export { createPolicy } from './createPolicy.js';
export type { CreatePolicyOptions } from './createPolicy.js';
export { ResiliencePolicy } from './Policy.js';
export { PolicyRegistry } from './PolicyRegistry.js';
export { CircuitBreaker } from './CircuitBreaker.js';
export { Bulkhead } from './Bulkhead.js';
export { Retry } from './Retry.js';
export { RESILIENCE_ERROR_CODES } from './errors.js';
export type { ResilienceErrorCode } from './errors.js';
export { resilienceOptionsSchema, policySchema } from './options.js';
export type {
  CircuitBreakerView,
  CircuitState,
  ExecuteContext,
  ExecuteOptions,
  Policy,
  PolicyObserver,
  PolicyOptions,
  PolicyOptionsInput,
  PolicyStats,
  ResilienceOptions,
  ResilienceOptionsInput,
  ResilienceService,
} from './types.js';
