/**
 * The `nats` service: owns the connection and hands out the parts built on it (event stores,
 * bridges, remote actors and tools). Each part lives in its own module; this one wires them to
 * the kernel's lifecycle.
 */
import { nuid, type NatsConnection as Client } from '@nats-io/transport-node';
import type { Disposer, PluginContext } from '../../sdk/index.js';
import { abortReason, drainBudget, withDeadline } from '../../sdk/util/index.js';
import type {} from '../actors/types.js';
import type {} from '../tools/types.js';
import type {} from '../events/types.js';
import type { EventStore } from '../events/stores/EventStore.js';
import { NatsConnection, type ConnectionStats } from './NatsConnection.js';
import { jetStreamStoreOptions, type JetStreamStoreOptionsInput, type NatsOptions } from './options.js';
import { JetStreamStore } from './JetStreamStore.js';
import { badSubject, invalidStoreOptions, needsPlugin } from './errors.js';
import { NatsEventBridge } from './NatsEventBridge.js';
import { NatsRemoteActors } from './NatsRemoteActors.js';
import { NatsRemoteTools } from './NatsRemoteTools.js';
import { NatsRunScheduler, type RunHost } from './NatsRunScheduler.js';
import { checkPattern, Subjects } from './subjects.js';
import type { EventBridge, NatsService } from './types.js';

export class NatsTransport implements NatsService {
  readonly connection: NatsConnection;
  readonly subjects: Subjects;
  readonly #ctx: PluginContext<NatsOptions>;
  readonly #disposers: Disposer[] = [];
  /** This node's id: the origin of what it sends (bridged events), unique per kernel. */
  readonly nodeId = nuid.next();
  #tools: NatsRemoteTools | undefined;
  /** The distributed-runs scheduler, when the agents plugin is loaded and `runs.enabled`. */
  runs: NatsRunScheduler | undefined;

  constructor(ctx: PluginContext<NatsOptions>) {
    this.#ctx = ctx;
    this.subjects = new Subjects(ctx.options.system);
    this.connection = new NatsConnection(ctx.options, ctx.configDir, ctx.logger, ctx.metrics);
  }

  get system(): string {
    return this.subjects.system;
  }

  get client(): Client {
    return this.connection.client;
  }

  stats(): ConnectionStats {
    return this.connection.stats();
  }

  async start(signal: AbortSignal): Promise<void> {
    try {
      await this.#start(signal);
    } catch (error) {
      // The kernel stops only the plugins that started: what this start opened before it failed
      // (the connection, subscriptions) is closed here, or it would outlive the failed boot.
      const budget = this.#ctx.options.drainTimeoutMs;
      await this.stop(AbortSignal.timeout(budget), Date.now() + budget).catch(() => undefined);
      throw error;
    }
  }

  async #start(signal: AbortSignal): Promise<void> {
    const ctx = this.#ctx;
    await this.connection.ready();
    if (signal.aborted) throw abortReason(signal);
    if (ctx.options.healthCheck) {
      const unregister = ctx.tryResolve('health')?.register('nats', this.connection.healthCheck, { kind: 'ready', critical: true, timeoutMs: 2000 });
      if (unregister !== undefined) this.#disposers.push(async () => unregister());
    }
    const actors = ctx.tryResolve('actors');
    if (actors !== undefined) {
      const remote = new NatsRemoteActors(this.connection, this.subjects, ctx.options.requestTimeoutMs, ctx.logger.child({ component: 'remote-actors' }));
      const detach = actors.attachTransport(remote);
      this.#disposers.push(async () => {
        await detach();
        await remote.close();
      });
    }
    const agents = ctx.tryResolve<RunHost>('agents');
    if (agents !== undefined && ctx.options.runs.enabled && typeof agents.attachScheduler === 'function') {
      const events = ctx.tryResolve('events');
      const scheduler = new NatsRunScheduler(
        this.connection,
        this.subjects,
        agents,
        ctx.options.runs,
        this.nodeId,
        ctx.logger.child({ component: 'runs' }),
        ctx.metrics,
        () => events?.lastSequence,
      );
      this.runs = scheduler;
      // Pull runs only once every plugin has started (the agents plugin may start after us), and
      // hand them back before any plugin stops (while the agents plugin can still journal).
      ctx.hooks.started.tapPromise('nats.runs', () => scheduler.open());
      ctx.hooks.beforeStop.tapPromise('nats.runs', () =>
        withDeadline(() => scheduler.close(), { timeoutMs: ctx.options.drainTimeoutMs }).catch((error: unknown) => {
          ctx.logger.warn({ err: error }, `distributed runs did not hand back in time: ${(error as Error).message}`);
        }),
      );
      this.#disposers.push(() => scheduler.close());
    }
    if (ctx.options.bridge.length > 0) await this.bridge(ctx.options.bridge);
    if (ctx.options.exposeTools.length > 0) await this.exposeTools(ctx.options.exposeTools);
    if (ctx.options.importTools.length > 0) await this.importTools(ctx.options.importTools);
  }

  async stop(signal: AbortSignal, deadline: number): Promise<void> {
    for (const dispose of this.#disposers.splice(0).reverse()) {
      // Each part gets what is left of the stop budget, so a stuck one cannot hold the drain.
      await withDeadline(() => dispose(), { timeoutMs: Math.max(1, drainBudget(deadline)), signal }).catch((error: unknown) => {
        this.#ctx.logger.warn({ err: error }, `NATS: a part did not stop in time: ${(error as Error).message}`);
      });
    }
    await this.connection.close(signal, deadline);
  }

  createEventStore(options: JetStreamStoreOptionsInput = {}): EventStore {
    const parsed = jetStreamStoreOptions.safeParse(options);
    if (!parsed.success) {
      throw invalidStoreOptions(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
    }
    return new JetStreamStore(this.connection, parsed.data, this.#ctx.logger.child({ component: 'jetstream-store', stream: parsed.data.stream }));
  }

  async bridge(patterns: string | readonly string[]): Promise<EventBridge> {
    const list = typeof patterns === 'string' ? [patterns] : [...patterns];
    if (list.length === 0) throw badSubject('bridge patterns', '[]', 'give at least one event type pattern');
    for (const p of list) checkPattern('bridge pattern', p);
    const bus = this.#ctx.tryResolve('events');
    if (bus === undefined) throw needsPlugin('events', 'nats.bridge');
    const bridge = new NatsEventBridge(bus, this.connection, this.subjects, this.nodeId, list, this.#ctx.logger.child({ component: 'bridge' }));
    await bridge.open();
    this.#disposers.push(() => bridge.close());
    return bridge;
  }

  async exposeTools(patterns: string | readonly string[]): Promise<Disposer> {
    return await this.#remoteTools().expose(patterns);
  }

  async importTools(patterns?: string | readonly string[]): Promise<readonly string[]> {
    return await this.#remoteTools().import(patterns);
  }

  #remoteTools(): NatsRemoteTools {
    if (this.#tools !== undefined) return this.#tools;
    const ctx = this.#ctx;
    const tools = ctx.tryResolve('tools');
    if (tools === undefined) throw needsPlugin('tools', 'remote tools');
    const remote = new NatsRemoteTools(this.connection, this.subjects, tools, { timeoutMs: ctx.options.toolTimeoutMs, stallMs: ctx.options.discoveryStallMs }, ctx.logger.child({ component: 'remote-tools' }));
    this.#tools = remote;
    this.#disposers.push(() => remote.close());
    return remote;
  }
}
