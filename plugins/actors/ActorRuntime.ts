/**
 * The engine behind the `actors` service (LocalActorSystem is its public face): spawns cells, runs
 * them on one shared run queue, binds each to a supervisor from the supervision plugin, and keeps
 * names, watches, dead letters and counters. It is the cells' CellHost, so its counters and
 * callbacks are public to them — which is why users never get this object.
 */
import { AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncBailHook } from 'tapable';
import type { Logger, Metrics } from '../../sdk/index.js';
import { noop, withDeadline } from '../../sdk/util/index.js';
import type { EventBus } from '../events/types.js';
import type { SupervisionService } from '../supervision/types.js';
import { ActorCell, type CellConfig } from './ActorCell.js';
import { ActorMetrics, type ActorCounts } from './ActorMetrics.js';
import { ActorSupervision } from './ActorSupervision.js';
import type { CellHost } from './CellHost.js';
import { DeadLetterOffice } from './DeadLetterOffice.js';
import { actorNotFound, invalidOptions, nameTaken, remoteUnavailable, systemStopped, transportTaken } from './errors.js';
import { kAddWatcher, kAdopt, kBusy, kConfig, kDisown, kFinalize, kIncarnated, kParent, kReason, kRemoveWatcher, kRetire } from './internals.js';
import type { ActorsOptions } from './options.js';
import { RunQueue } from './RunQueue.js';
import type {
  ActorHooks,
  ActorRef,
  ActorStats,
  ActorSystem,
  AnyActorRef,
  Behavior,
  DeadLetterReason,
  Delivery,
  Envelope,
  RemoteActorTransport,
  RemoteRefOptions,
  SpawnOptions,
  TerminationReason,
} from './types.js';

const OVERFLOWS = new Set(['fail', 'drop-newest', 'drop-oldest']);
const RESTARTS = new Set(['permanent', 'transient', 'temporary']);

export interface ActorRuntimeInit {
  readonly options: ActorsOptions;
  readonly supervision: SupervisionService;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** The events service, looked up lazily (it is optional and may load after us). */
  readonly events?: () => EventBus | undefined;
}

export class ActorRuntime implements ActorSystem, CellHost, ActorCounts {
  readonly hooks: ActorHooks = Object.freeze({
    beforeDeliver: new AsyncSeriesWaterfallHook<[Envelope]>(['envelope']),
    afterDeliver: new AsyncSeriesHook<[Delivery]>(['delivery']),
    route: new SyncBailHook<[Envelope], AnyActorRef | undefined>(['envelope']),
  });
  readonly deadLetters: DeadLetterOffice;
  readonly askTimeoutMs: number;
  readonly throughput: number;
  /** Puts a cell on the run queue: the queue's own function (see RunQueue.schedule). */
  readonly schedule: (cell: ActorCell) => void;
  /** Hot counters, bumped by cells; published to metrics in batches. */
  sent = 0;
  processed = 0;
  queued = 0;
  inFlight = 0;
  highWater = 0;
  restarts = 0;

  readonly #options: ActorsOptions;
  readonly #logger: Logger;
  readonly #events: () => EventBus | undefined;
  readonly #defaultConfig: CellConfig;
  readonly #cells = new Map<string, ActorCell>();
  readonly #names = new Map<string, ActorCell>();
  readonly #supervision: ActorSupervision;
  readonly #queue: RunQueue;
  readonly #metrics: ActorMetrics | undefined;
  #seq = 0;
  #closing = false;
  #shutdown: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #transport: RemoteActorTransport | undefined;
  /** Exposed actors, with the transport's disposer once exposed (kept here: cells carry nothing for it). */
  readonly #exposed = new Map<ActorCell, (() => Promise<void>) | undefined>();

  constructor(init: ActorRuntimeInit) {
    this.#options = init.options;
    this.#logger = init.logger;
    this.#events = init.events ?? (() => undefined);
    this.askTimeoutMs = init.options.askTimeoutMs;
    this.throughput = init.options.throughput;
    this.deadLetters = new DeadLetterOffice(init.logger);
    this.#defaultConfig = Object.freeze({
      capacity: init.options.mailbox.capacity,
      overflow: init.options.mailbox.overflow,
      restart: init.options.supervision.restart,
    });
    this.#supervision = new ActorSupervision({
      supervision: init.supervision,
      options: init.options.supervision,
      logger: init.logger,
      cells: this.#cells,
      closing: () => this.#closing,
    });
    const flush = (): void => this.#metrics?.flush();
    this.#queue = new RunQueue(init.options.throughput, flush, () => {
      flush();
      this.checkDrained();
    });
    this.schedule = this.#queue.schedule;
    this.#metrics = init.metrics === undefined ? undefined : new ActorMetrics(init.metrics, this, this.deadLetters, () => this.#queue.running);
  }

  /** Live actors. */
  get actors(): number {
    return this.#cells.size;
  }

  spawn<M, R = unknown, S = undefined>(behavior: Behavior<M, R, S>, options: SpawnOptions = {}): ActorRef<M, R> {
    if (this.#closing) throw systemStopped('spawn an actor');
    if (behavior === null || typeof behavior !== 'object' || typeof behavior.receive !== 'function') {
      throw invalidOptions('behavior.receive must be a function');
    }
    const name = options.name;
    if (name !== undefined) {
      if (typeof name !== 'string' || name === '') throw invalidOptions(`name must be a non-empty string, got ${JSON.stringify(name)}`);
      const holder = this.#names.get(name);
      if (holder !== undefined) throw nameTaken(name, holder.id);
    }
    if (options.expose === true && name === undefined) throw invalidOptions('expose needs a name: other nodes reach the actor by it');
    let parent: ActorCell | undefined;
    if (options.parent !== undefined) {
      parent = this.#cellOf(options.parent);
      if (parent === undefined || !parent.alive) throw actorNotFound(`parent ${options.parent.id}`);
    }
    const config = this.#configFor(options);
    const id = `actor-${++this.#seq}`;
    const cell = new ActorCell(this, id, name, behavior as Behavior<unknown, unknown, unknown>, config, parent);
    this.#cells.set(id, cell);
    if (name !== undefined) this.#names.set(name, cell);
    if (parent !== undefined) parent[kAdopt](cell);
    this.#supervision.attach(cell, options.supervision?.backoff);
    if (options.expose === true) this.#expose(cell);
    return cell as unknown as ActorRef<M, R>;
  }

  remote<M = unknown, R = unknown>(name: string, options?: RemoteRefOptions): ActorRef<M, R> {
    const transport = this.#transport;
    if (transport === undefined) throw remoteUnavailable(name);
    return transport.remote<M, R>(name, options);
  }

  attachTransport(transport: RemoteActorTransport): () => Promise<void> {
    if (this.#transport !== undefined) throw transportTaken();
    this.#transport = transport;
    for (const cell of this.#exposed.keys()) this.#exposeWith(transport, cell);
    return async () => {
      if (this.#transport !== transport) return;
      this.#transport = undefined;
      const disposers = [...this.#exposed.values()];
      for (const cell of this.#exposed.keys()) this.#exposed.set(cell, undefined);
      await Promise.allSettled(disposers.map((d) => d?.()));
    };
  }

  #expose(cell: ActorCell): void {
    this.#exposed.set(cell, undefined);
    const transport = this.#transport;
    if (transport === undefined) return;
    try {
      this.#exposeWith(transport, cell);
    } catch (error) {
      // Not reachable as asked (a name that cannot be a subject): the spawn fails as a whole.
      this.#exposed.delete(cell);
      void cell.stop();
      throw error;
    }
  }

  #exposeWith(transport: RemoteActorTransport, cell: ActorCell): void {
    this.#exposed.set(cell, transport.expose(cell as AnyActorRef));
  }

  lookup<M = unknown, R = unknown>(name: string): ActorRef<M, R> | undefined {
    return this.#names.get(name) as ActorRef<M, R> | undefined;
  }

  watch(ref: AnyActorRef, callback: (reason: TerminationReason) => void): () => void {
    const cell = this.#cellOf(ref);
    if (cell === undefined) throw actorNotFound(`ref ${ref.id}`);
    if (!cell[kAddWatcher](callback)) {
      const reason = cell[kReason]!;
      queueMicrotask(() => this.notify(callback, reason));
      return noop;
    }
    return () => cell[kRemoveWatcher](callback);
  }

  stats(): ActorStats {
    this.#metrics?.flush();
    const mailboxDepths: Record<string, number> = {};
    for (const [id, cell] of this.#cells) mailboxDepths[id] = cell.mailboxSize;
    return {
      actors: this.#cells.size,
      messages: this.processed,
      mailboxDepths,
      deadLetters: this.deadLetters.count,
      queued: this.queued,
      restarts: this.restarts,
      mailboxHighWater: this.highWater,
    };
  }

  /** Starts the root actor supervisor (done lazily by the first spawn if that comes earlier). */
  async start(): Promise<void> {
    await this.#supervision.rootSupervisor();
  }

  /**
   * Graceful stop of the whole system: no new actors; mailboxes drain for up to `shutdownDrainMs`
   * (or until `signal` aborts); then every actor terminates, what is left in mailboxes becomes dead
   * letters with reason 'shutdown', pending asks fail, and the supervisors are stopped.
   */
  shutdown(signal?: AbortSignal): Promise<void> {
    this.#shutdown ??= this.#shutdownNow(signal);
    return this.#shutdown;
  }

  async #shutdownNow(signal: AbortSignal | undefined): Promise<void> {
    this.#closing = true;
    const drainMs = this.#options.shutdownDrainMs;
    if (drainMs > 0 && (this.queued > 0 || this.inFlight > 0)) {
      try {
        await withDeadline(() => new Promise<void>((resolve) => (this.#drained = resolve)), { timeoutMs: drainMs, signal });
      } catch {
        // The deadline passed: what is left goes to dead letters below, nothing vanishes.
      } finally {
        this.#drained = undefined;
      }
    }
    let dropped = 0;
    const cells = [...this.#cells.values()];
    const retired: Array<Promise<void>> = [];
    for (const cell of cells) {
      const left = cell.mailboxSize;
      dropped += left;
      cell[kFinalize](left > 0 || cell[kBusy] ? { kind: 'killed' } : { kind: 'stopped' }, 'shutdown');
      // Ending each incarnation here (instead of through supervisor.stop, child by child) keeps a
      // shutdown of 100,000 actors linear; the supervisors then have nothing left to wait for.
      if (cell[kIncarnated]) retired.push(cell[kRetire](0));
    }
    try {
      // `stopped` hooks run here; one that hangs must not hold the kernel past its deadline.
      await withDeadline(() => Promise.all(retired), { signal });
    } catch (error) {
      this.#logger.warn({ err: error }, "some actors' stopped hooks did not finish in time");
    }
    if (dropped > 0) this.#logger.warn({ dropped, drainMs }, `actor system stopped with ${dropped} undelivered message(s); they went to dead letters`);
    try {
      await withDeadline(() => this.#supervision.stopAll(), { signal });
    } catch (error) {
      this.#logger.warn({ err: error }, 'actor supervisors did not stop in time');
    }
    this.#metrics?.flush();
    this.#logger.info({ actors: cells.length, deadLetters: this.deadLetters.count }, 'actor system stopped');
  }

  // ── CellHost ────────────────────────────────────────────────────────────────────────────────

  /** @internal */
  route(cell: ActorCell, message: unknown, ask: boolean): AnyActorRef | undefined {
    const target = this.hooks.route.call({ recipient: cell as AnyActorRef, message, ask });
    return target === undefined || target === (cell as AnyActorRef) ? undefined : target;
  }

  /** @internal */
  deadLetter(cell: ActorCell, message: unknown, reason: DeadLetterReason): void {
    this.deadLetters.post(cell.id, message, reason);
    this.#metrics?.scheduleFlush();
  }

  /** @internal */
  crashed(cell: ActorCell, error: Error): void {
    this.#logger.warn({ err: error, actor: cell.id, name: cell.name }, `actor ${cell.name ?? cell.id} crashed: ${error.message}`);
    this.#publish('actor.crashed', cell, { error: error.message, restart: cell[kConfig].restart });
  }

  /** @internal */
  restarted(cell: ActorCell, restartCount: number): void {
    this.restarts++;
    this.#metrics?.restarted();
    this.#logger.info({ actor: cell.id, name: cell.name, restartCount }, `actor ${cell.name ?? cell.id} restarted`);
    this.#publish('actor.restarted', cell, { restartCount });
  }

  /** @internal */
  hookFailed(cell: ActorCell, error: unknown): void {
    this.#logger.error({ err: error, actor: cell.id, name: cell.name }, `actor ${cell.name ?? cell.id}: 'stopped' threw`);
  }

  /** @internal */
  stopCell(cell: ActorCell): Promise<void> {
    return this.#supervision.stop(cell);
  }

  /** @internal */
  forget(cell: ActorCell): void {
    this.#supervision.forget(cell);
  }

  /** @internal */
  terminated(cell: ActorCell, reason: TerminationReason): void {
    if (this.#cells.get(cell.id) === cell) this.#cells.delete(cell.id);
    if (cell.name !== undefined && this.#names.get(cell.name) === cell) this.#names.delete(cell.name);
    cell[kParent]?.[kDisown](cell);
    if (this.#exposed.size !== 0 && this.#exposed.has(cell)) {
      const dispose = this.#exposed.get(cell);
      this.#exposed.delete(cell);
      dispose?.().catch((error: unknown) => this.#logger.warn({ err: error, actor: cell.id }, 'un-exposing a stopped actor failed'));
    }
    if (reason.kind === 'crashed') this.#publish('actor.terminated', cell, { reason: reason.kind, error: reason.error.message });
    this.#supervision.terminated(cell, reason);
  }

  /** @internal */
  notify(watcher: (reason: TerminationReason) => void, reason: TerminationReason): void {
    try {
      watcher(reason);
    } catch (error) {
      this.#logger.error({ err: error }, 'an actor watcher threw');
    }
  }

  /** @internal */
  checkDrained(): void {
    if (this.#drained !== undefined && this.queued === 0 && this.inFlight === 0) this.#drained();
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────

  #cellOf(ref: AnyActorRef): ActorCell | undefined {
    if (ref instanceof ActorCell) return ref;
    return ref !== null && typeof ref === 'object' && typeof ref.id === 'string' ? this.#cells.get(ref.id) : undefined;
  }

  #configFor(options: SpawnOptions): CellConfig {
    const mailbox = options.mailbox;
    const restart = options.supervision?.restart;
    if (mailbox === undefined && restart === undefined) return this.#defaultConfig;
    const capacity = mailbox?.capacity ?? this.#defaultConfig.capacity;
    const overflow = mailbox?.overflow ?? this.#defaultConfig.overflow;
    if (!Number.isInteger(capacity) || capacity < 1) throw invalidOptions(`mailbox.capacity must be an integer >= 1, got ${capacity}`);
    if (!OVERFLOWS.has(overflow)) throw invalidOptions(`mailbox.overflow must be 'fail', 'drop-newest' or 'drop-oldest', got '${overflow}'`);
    if (restart !== undefined && !RESTARTS.has(restart)) throw invalidOptions(`supervision.restart must be 'permanent', 'transient' or 'temporary', got '${restart}'`);
    return { capacity, overflow, restart: restart ?? this.#defaultConfig.restart };
  }

  #publish(type: string, cell: ActorCell, data: Record<string, unknown>): void {
    const events = this.#events();
    if (events === undefined) return;
    events.publish({ type, source: 'actors', subject: cell.id, data: { actor: cell.id, name: cell.name, ...data } }).catch(noop);
  }
}
