/**
 * What the page shows, kept current from the event log: runs and approvals (RunIndex), the
 * supervision tree (SupervisionView), recent events (EventRing) and a few counters; and the live
 * feed (SseHub) that pushes the changes of each tick to open pages.
 */
import type { Logger } from '../../sdk/index.js';
import type { AgentDefinition } from '../agents/types.js';
import type { EventBus, StoredEvent, Subscription } from '../events/types.js';
import type { HealthReport, HealthService } from '../health/types.js';
import type { PrometheusService } from '../metrics-prometheus/types.js';
import type { SupervisionService } from '../supervision/types.js';
import { EventRing, toEventView } from './EventRing.js';
import type { DashboardOptions } from './options.js';
import { RunIndex, toSteps } from './RunIndex.js';
import { SseHub } from './SseHub.js';
import { SupervisionView } from './SupervisionView.js';
import type { EventView, KeyMetric, PendingApproval, RunDetail, RunSummary, TreeNode } from './types.js';

/**
 * The parts of the agents service the page uses. `approve` came with durable runs; the dashboard
 * checks for it at run time so that it also serves an agents build without approvals.
 */
export interface AgentsPort {
  list(): readonly AgentDefinition[];
  approve?(runId: string, callId: string, decision: 'allow' | 'deny'): unknown;
}

export interface DashboardDeps {
  readonly options: DashboardOptions;
  readonly logger: Logger;
  readonly events: EventBus | undefined;
  readonly agents: AgentsPort | undefined;
  readonly supervision: SupervisionService | undefined;
  readonly health: HealthService | undefined;
  readonly prometheus: PrometheusService | undefined;
}

/** One tick's changes, as the page receives them on the SSE stream (`event: update`). */
export interface Update {
  readonly events: readonly EventView[];
  readonly runs: readonly RunSummary[];
  readonly approvals?: readonly PendingApproval[];
  readonly tree?: readonly TreeNode[];
  readonly health?: HealthReport;
  readonly metrics: readonly KeyMetric[];
}

/** Prometheus series worth a card when the metrics plugin is loaded (summed over labels). */
const GAUGES: ReadonlyArray<readonly [string, string]> = [
  ['actors_active', 'Actors'],
];

export class Dashboard {
  readonly #deps: DashboardDeps;
  readonly runs: RunIndex;
  readonly #tree = new SupervisionView();
  readonly #ring: EventRing;
  readonly hub: SseHub;
  #subscription: Subscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #counters = { retries: 0, toolCalls: 0, toolFailures: 0 };
  readonly #dirtyRuns = new Set<string>();
  /** Events since the last tick, for open pages (views are made once per tick, not per event). */
  #pending: StoredEvent[] = [];
  #approvalsDirty = true;
  #lastTree = '';
  #lastHealth = '';
  #gauges: KeyMetric[] = [];

  constructor(deps: DashboardDeps) {
    this.#deps = deps;
    this.runs = new RunIndex(deps.options.maxRuns);
    this.#ring = new EventRing(deps.options.eventBuffer);
    this.hub = new SseHub(deps.options.streamMaxMs);
  }

  /** Reads what the log already holds, then follows it live from the next sequence (no gap, no double). */
  async start(signal: AbortSignal): Promise<void> {
    const events = this.#deps.events;
    if (events !== undefined) {
      const upTo = events.lastSequence;
      if (upTo > 0) {
        const types = ['agent.>', 'supervision.>', 'resilience.retry', 'tool.called', 'tool.failed'];
        for await (const event of events.replay({ toSequence: upTo, types, signal })) this.#count(event);
        const from = Math.max(1, upTo - this.#deps.options.eventBuffer + 1);
        for await (const event of events.replay({ fromSequence: from, toSequence: upTo, signal })) this.#ring.push(event);
      }
      this.#subscription = events.subscribe({}, (event) => this.#onEvent(event), { from: upTo + 1 });
    }
    this.#timer = setInterval(() => void this.#tick(), this.#deps.options.snapshotIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.hub.close();
    await this.#subscription?.unsubscribe();
    this.#subscription = undefined;
  }

  #count(event: StoredEvent): void {
    if (RunIndex.wants(event.type)) {
      const runId = this.runs.apply(event);
      if (runId !== undefined) this.#dirtyRuns.add(runId);
      if (event.type === 'agent.run.suspended' || event.type === 'agent.tool.returned' || event.type.startsWith('agent.run.') || event.type === 'agent.approval.decided') {
        this.#approvalsDirty = true;
      }
    } else if (SupervisionView.wants(event.type)) this.#tree.apply(event);
    else if (event.type === 'resilience.retry') this.#counters.retries++;
    else if (event.type === 'tool.called') this.#counters.toolCalls++;
    else if (event.type === 'tool.failed') {
      this.#counters.toolCalls++;
      this.#counters.toolFailures++;
    }
  }

  #onEvent(event: StoredEvent): void {
    this.#count(event);
    this.#ring.push(event);
    if (this.hub.size > 0) {
      this.#pending.push(event);
      // A page that cannot keep up loses old lines of the stream panel, never memory. Trimmed at
      // twice the buffer, so the copy is paid once per `eventBuffer` events, not on every event.
      if (this.#pending.length >= 2 * this.#deps.options.eventBuffer) this.#pending = this.#pending.slice(-this.#deps.options.eventBuffer);
    }
  }

  async #tick(): Promise<void> {
    if (this.hub.size === 0) {
      this.#dirtyRuns.clear();
      this.#pending = [];
      return;
    }
    try {
      await this.#refreshGauges();
      const update = this.#update(false);
      if (update.events.length > 0 || update.runs.length > 0 || update.approvals !== undefined || update.tree !== undefined || update.health !== undefined) {
        this.hub.send('update', update, update.events.at(-1)?.sequence);
      } else this.hub.ping();
    } catch (error) {
      this.#deps.logger.warn({ err: error }, 'dashboard: could not build an update');
    }
  }

  /** Everything, for a page that (re)connects: `full` ignores what was already sent. */
  #update(full: boolean): Update {
    const tree = this.tree();
    const treeJson = JSON.stringify(tree);
    const health = this.#deps.health?.report();
    const healthJson = health === undefined ? '' : JSON.stringify(health);
    if (full) {
      // A (re)connecting page gets the whole state; what the other pages still have to receive stays queued.
      return { events: [], runs: this.runs.list(), approvals: this.runs.approvals(), tree, ...(health !== undefined ? { health } : {}), metrics: this.metrics() };
    }
    const runs = [...this.#dirtyRuns].flatMap((id) => this.runs.get(id) ?? []);
    this.#dirtyRuns.clear();
    const events = this.#pending.slice(-this.#deps.options.eventBuffer).map(toEventView);
    this.#pending = [];
    const approvals = this.#approvalsDirty ? this.runs.approvals() : undefined;
    this.#approvalsDirty = false;
    const out: Update = {
      events,
      runs,
      ...(approvals !== undefined ? { approvals } : {}),
      ...(treeJson !== this.#lastTree ? { tree } : {}),
      ...(health !== undefined && healthJson !== this.#lastHealth ? { health } : {}),
      metrics: this.metrics(),
    };
    this.#lastTree = treeJson;
    this.#lastHealth = healthJson;
    return out;
  }

  /** The first message of a (re)connected stream: full state, plus the events after `lastEventId`. */
  backlog(lastEventId: number | undefined): string[] {
    const chunks: string[] = [];
    const state = this.#update(true);
    chunks.push(Dashboard.#format('update', { ...state, events: lastEventId === undefined ? [] : this.#ring.list(lastEventId) }, this.#deps.events?.lastSequence));
    return chunks;
  }

  static #format(event: string, data: unknown, id: number | undefined): string {
    return SseHub.format(event, data, id);
  }

  health(): HealthReport | undefined {
    return this.#deps.health?.report();
  }

  tree(): TreeNode[] {
    return this.#tree.snapshot(this.#deps.supervision);
  }

  recentEvents(limit: number, after = 0): EventView[] {
    return this.#ring.list(after, limit);
  }

  async runDetail(runId: string): Promise<RunDetail | undefined> {
    const summary = this.runs.get(runId);
    if (summary === undefined) return undefined;
    const journal = (await this.#deps.events?.byCorrelation(runId, { limit: 5_000 })) ?? [];
    return { summary, steps: toSteps(journal), children: this.runs.children(runId) };
  }

  agents(): Array<{ name: string; provider: string; model: string; tools: readonly string[]; runs: number; running: number }> {
    const all = this.runs.list();
    return (this.#deps.agents?.list() ?? []).map((d) => ({
      name: d.name,
      provider: d.provider,
      model: d.model,
      tools: d.tools ?? [],
      runs: all.filter((r) => r.agent === d.name).length,
      running: all.filter((r) => r.agent === d.name && (r.status === 'running' || r.status === 'suspended' || r.status === 'queued')).length,
    }));
  }

  canApprove(): boolean {
    return typeof this.#deps.agents?.approve === 'function';
  }

  async approve(runId: string, callId: string, decision: 'allow' | 'deny'): Promise<void> {
    const agents = this.#deps.agents;
    if (agents?.approve === undefined) throw new Error('approvals need the agents plugin with durable runs (agents.approve)');
    await agents.approve(runId, callId, decision);
  }

  /** Key figures: runs, tokens and cost from the journal; restarts, retries and tool calls seen on the log. */
  metrics(): KeyMetric[] {
    let running = 0;
    let failed = 0;
    let tokens = 0;
    let cost = 0;
    const all = this.runs.list();
    for (const run of all) {
      if (run.status === 'running' || run.status === 'suspended' || run.status === 'queued') running++;
      if (run.status === 'failed') failed++;
      // Each run reports its own usage (sub-runs are runs of their own), so the sum counts every model call once.
      tokens += run.usage.totalTokens;
      cost += run.usage.costUsd;
    }
    return [
      { name: 'runs', label: 'Runs', value: all.length },
      { name: 'running', label: 'In flight', value: running },
      { name: 'failed', label: 'Failed', value: failed },
      { name: 'restarts', label: 'Restarts', value: this.#tree.restarts() },
      { name: 'retries', label: 'Retries', value: this.#counters.retries },
      { name: 'toolCalls', label: 'Tool calls', value: this.#counters.toolCalls },
      { name: 'tokens', label: 'Tokens', value: tokens },
      { name: 'costUsd', label: 'Cost (USD)', value: Math.round(cost * 10_000) / 10_000 },
      { name: 'events', label: 'Events', value: this.#deps.events?.lastSequence ?? 0 },
      ...this.#gauges,
    ];
  }

  async #refreshGauges(): Promise<void> {
    const prometheus = this.#deps.prometheus;
    if (prometheus === undefined) return;
    const json = await prometheus.registry.getMetricsAsJSON();
    const out: KeyMetric[] = [];
    for (const [suffix, label] of GAUGES) {
      const metric = json.find((m) => m.name.endsWith(suffix));
      if (metric === undefined) continue;
      const value = (metric.values as ReadonlyArray<{ value: number }>).reduce((sum, v) => sum + v.value, 0);
      out.push({ name: suffix, label, value });
    }
    this.#gauges = out;
  }
}
