/**
 * The `supervision` service: creates root trees and nested supervisors, owns what they share
 * (metric handles, event publication, the health checks of root trees) and stops every root tree
 * when the plugin stops.
 */
import type { Disposer, FaultReport, Logger, Metrics } from '../../sdk/index.js';
import type { EventBus } from '../events/types.js';
import type { CheckResult, HealthService } from '../health/types.js';
import { notRunning, duplicateSupervisor } from './errors.js';
import type { SupervisionOptions } from './options.js';
import { SupervisorNode, type SupervisionMetrics, type SupervisorEnv } from './SupervisorNode.js';
import { NestedSupervisorSpec } from './NestedSupervisor.js';
import type { ChildSpec, NestedSupervisorOptions, Supervisor, SupervisionService, SupervisorSpec } from './types.js';
import { validateSupervisorSpec } from './validateSpec.js';

export interface SupervisionDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly options: Pick<SupervisionOptions, 'failureDetector'>;
  /** The events service, when the events plugin is loaded. */
  readonly events?: EventBus | undefined;
  /** The health service, when the health plugin is loaded (and health checks are wanted). */
  readonly health?: HealthService | undefined;
  /** Where a root tree that gave up is reported (the plugin passes `ctx.reportFault`). */
  readonly reportFault?: ((report: FaultReport) => Promise<unknown>) | undefined;
}

export class Supervision implements SupervisionService {
  readonly #logger: Logger;
  readonly #deps: SupervisionDeps;
  readonly #metrics: SupervisionMetrics;
  /** Root trees by id, in start order: running ones, and failed ones until their id is reused. */
  readonly #roots = new Map<string, SupervisorNode>();
  /** Every live supervisor, nested ones included, for the children gauge. */
  readonly #live = new Set<SupervisorNode>();
  readonly #healthChecks = new Map<SupervisorNode, Disposer>();
  readonly #childEnv: SupervisorEnv;
  readonly #rootEnv: SupervisorEnv;
  #stopping = false;

  constructor(deps: SupervisionDeps) {
    this.#deps = deps;
    this.#logger = deps.logger;
    const m = deps.metrics;
    this.#metrics = {
      restarts: m.counter({ name: 'supervisor_restarts_total', help: 'Child restarts, by supervisor', labelNames: ['supervisor'] }),
      exits: m.counter({
        name: 'supervisor_child_exits_total',
        help: 'Child exits, by supervisor and reason (normal, crash, start-failure, heartbeat-timeout, shutdown, killed)',
        labelNames: ['supervisor', 'reason'],
      }),
      escalations: m.counter({ name: 'supervisor_escalations_total', help: 'Supervisors that exceeded their restart intensity and escalated', labelNames: ['supervisor'] }),
      forcedKills: m.counter({
        name: 'supervisor_forced_kills_total',
        help: "Children abandoned as killed (shutdown deadline passed or 'brutal'), by supervisor",
        labelNames: ['supervisor'],
      }),
    };
    const gauge = m.gauge({
      name: 'supervisor_children',
      help: 'Running children per live supervisor',
      labelNames: ['supervisor'],
      // Counted on scrape, not on every start and exit: the hot path stays free of gauge updates.
      collect: () => {
        for (const node of this.#live) gauge.set({ supervisor: node.id }, node.countChildren().active);
      },
    });
    const events = deps.events;
    const publish =
      events === undefined
        ? undefined
        : (type: string, supervisor: string, data: Record<string, unknown>, correlationId: string): void => {
            try {
              events.publish({ type, source: `supervisor:${supervisor}`, data, correlationId }).catch((error: unknown) => {
                this.#logger.warn({ err: error, type }, 'publishing a supervision event failed');
              });
            } catch (error) {
              this.#logger.warn({ err: error, type }, 'publishing a supervision event failed');
            }
          };
    const onEnded = (node: SupervisorNode): void => {
      this.#live.delete(node);
      gauge.set({ supervisor: node.id }, 0);
    };
    this.#childEnv = {
      logger: this.#logger,
      metrics: this.#metrics,
      publish,
      detector: deps.options.failureDetector,
      onGiveUp: undefined,
      onEnded,
      nest: (spec, options) => this.#nested(spec, options),
    };
    this.#rootEnv = {
      ...this.#childEnv,
      onGiveUp: (node, error) => this.#rootGaveUp(node, error),
      onEnded: (node) => {
        onEnded(node);
        // A tree stopped on purpose is forgotten (trees may come and go); a failed one stays
        // listed, and unhealthy, until its id is reused.
        if (node.state === 'stopped') this.#forget(node);
      },
    };
  }

  async start(spec: SupervisorSpec): Promise<Supervisor> {
    if (this.#stopping) throw notRunning('supervision', 'stopped', `start tree '${String(spec?.id)}'`);
    const invalid = validateSupervisorSpec(spec);
    if (invalid !== undefined) throw invalid;
    const existing = this.#roots.get(spec.id);
    if (existing !== undefined) {
      if (existing.state !== 'failed') throw duplicateSupervisor(spec.id);
      this.#forget(existing);
    }
    const node = this.#create(spec, true);
    this.#roots.set(spec.id, node);
    try {
      await node.start();
    } catch (error) {
      this.#forget(node);
      throw error;
    }
    this.#registerHealth(node);
    return node;
  }

  supervisorChild(spec: SupervisorSpec, options: NestedSupervisorOptions = {}): ChildSpec {
    return this.#nested(spec, options);
  }

  /** Root trees that are starting, running, stopping, or failed (a tree stopped on purpose is dropped). */
  roots(): Supervisor[] {
    return [...this.#roots.values()];
  }

  /**
   * Stops every root tree, newest first; when `signal` aborts (the plugin's stop deadline) the
   * trees still stopping are killed: their remaining children are abandoned and their signals aborted.
   */
  async stopAll(reason: string, signal?: AbortSignal): Promise<void> {
    this.#stopping = true;
    const roots = [...this.#roots.values()].reverse();
    const onAbort = (): void => {
      for (const root of roots) void root.kill(`stop deadline passed (${reason})`);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (const root of roots) {
        try {
          await root.stop(reason);
        } catch (error) {
          this.#logger.error({ err: error, supervisor: root.id }, 'stopping a supervision tree failed');
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      for (const unregister of this.#healthChecks.values()) {
        await unregister().catch((error: unknown) => this.#logger.warn({ err: error }, 'unregistering a supervision health check failed'));
      }
      this.#healthChecks.clear();
    }
  }

  #forget(node: SupervisorNode): void {
    if (this.#roots.get(node.id) === node) this.#roots.delete(node.id);
    const unregister = this.#healthChecks.get(node);
    if (unregister !== undefined) {
      this.#healthChecks.delete(node);
      unregister().catch((error: unknown) => this.#logger.warn({ err: error, supervisor: node.id }, 'unregistering a supervision health check failed'));
    }
  }

  readonly #createNested = (spec: SupervisorSpec): SupervisorNode => this.#create(spec, false);

  #nested(spec: SupervisorSpec, options: NestedSupervisorOptions): NestedSupervisorSpec {
    const invalid = validateSupervisorSpec(spec);
    if (invalid !== undefined) throw invalid;
    return new NestedSupervisorSpec(spec, options, this.#createNested);
  }

  #create(spec: SupervisorSpec, root: boolean): SupervisorNode {
    const node = new SupervisorNode(spec, root ? this.#rootEnv : this.#childEnv);
    this.#live.add(node);
    return node;
  }

  #rootGaveUp(node: SupervisorNode, error: Error): void {
    const report = this.#deps.reportFault;
    if (report === undefined) return;
    report({ error, severity: 'high', source: `supervisor:${node.id}`, context: { supervisor: node.id, root: true } }).catch((failure: unknown) =>
      this.#logger.error({ err: failure, supervisor: node.id }, 'reporting a supervision escalation failed'),
    );
  }

  #registerHealth(node: SupervisorNode): void {
    const health = this.#deps.health;
    if (health === undefined) return;
    const name = `supervisor:${node.id}`;
    try {
      this.#healthChecks.set(node, health.register(name, () => treeHealth(node)));
    } catch (error) {
      this.#logger.warn({ err: error, supervisor: node.id }, 'registering a supervision health check failed');
    }
  }
}

/** healthy; degraded when more than half the intensity is used in the current period; unhealthy when stopped or failed. */
export function treeHealth(node: SupervisorNode): CheckResult {
  const usage = node.intensityUsage();
  const details = { state: node.state, restartsInPeriod: usage.restarts, intensity: usage.intensity, periodMs: usage.periodMs, ...node.countChildren() };
  switch (node.state) {
    case 'running':
      if (usage.restarts * 2 > usage.intensity) {
        return { status: 'degraded', message: `${usage.restarts} restarts in the last ${usage.periodMs} ms (intensity ${usage.intensity})`, details };
      }
      return { status: 'healthy', details };
    case 'starting':
      return { status: 'unknown', message: 'starting', details };
    default:
      return { status: 'unhealthy', message: `supervision tree '${node.id}' is ${node.state}`, details };
  }
}

