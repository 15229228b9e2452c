/**
 * The engine behind the `actors` service (LocalActorSystem is its public face): spawns cells, runs
 * them on one shared run queue, binds each to a supervisor from the supervision plugin, and keeps
 * names, watches, dead letters and counters. It is the cells' CellHost, so its counters and
 * callbacks are public to them — which is why users never get this object.
 */
import { AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncBailHook } from 'tapable';
import { type BackoffOptions, type Counter, type Gauge, type Logger, type Metrics } from '../../sdk/index.js';
import type { EventBus } from '../events/types.js';
import type { ChildContext, ChildHandle, ChildSpec, RestartType, SupervisionService, Supervisor } from '../supervision/types.js';
import { ActorCell, type CellConfig } from './ActorCell.js';
import type { CellHost } from './CellHost.js';
import {
  kAddWatcher,
  kAdopt,
  kBusy,
  kChildren,
  kConfig,
  kDisown,
  kEscalate,
  kFinalize,
  kIncarnate,
  kIncarnated,
  kParent,
  kReason,
  kRemoveWatcher,
  kRetire,
  kRun,
} from './internals.js';
import { DEAD_LETTER_REASONS, DeadLetterOffice } from './DeadLetterOffice.js';
import { actorNotFound, childrenFailed, invalidOptions, nameTaken, remoteUnavailable, supervisorGone, systemStopped, transportTaken } from './errors.js';
import type { ActorsOptions } from './options.js';
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
import { noop, withDeadline } from '../../sdk/util/index.js';

/** Messages handled in one microtask run before yielding to I/O with setImmediate. */
const MAX_PER_RUN = 50_000;
/** The supervision contract's default `shutdown` of a worker. */
const DEFAULT_CHILD_SHUTDOWN_MS = 5000;
const OVERFLOWS = new Set(['fail', 'drop-newest', 'drop-oldest']);
const RESTARTS = new Set(['permanent', 'transient', 'temporary']);
/** How a parent's children supervisor is nested (see #childSupervisor). */
const CHILD_SUPERVISOR = Object.freeze({ restart: 'temporary' as const });

export interface ActorRuntimeInit {
  readonly options: ActorsOptions;
  readonly supervision: SupervisionService;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** The events service, looked up lazily (it is optional and may load after us). */
  readonly events?: () => EventBus | undefined;
}

interface ActorMetrics {
  readonly sent: Counter;
  readonly processed: Counter;
  readonly deadLetters: Counter;
  readonly failures: Counter;
  readonly restarts: Counter;
}

export class ActorRuntime implements ActorSystem, CellHost {
  readonly hooks: ActorHooks = Object.freeze({
    beforeDeliver: new AsyncSeriesWaterfallHook<[Envelope]>(['envelope']),
    afterDeliver: new AsyncSeriesHook<[Delivery]>(['delivery']),
    route: new SyncBailHook<[Envelope], AnyActorRef | undefined>(['envelope']),
  });
  readonly deadLetters: DeadLetterOffice;
  readonly askTimeoutMs: number;
  readonly throughput: number;
  /** Hot counters, bumped by cells; published to metrics in batches. */
  sent = 0;
  processed = 0;
  queued = 0;
  inFlight = 0;
  highWater = 0;
  restarts = 0;

  readonly #options: ActorsOptions;
  readonly #supervision: SupervisionService;
  readonly #logger: Logger;
  readonly #events: () => EventBus | undefined;
  readonly #defaultConfig: CellConfig;
  readonly #backoff: Partial<BackoffOptions> | undefined;
  readonly #cells = new Map<string, ActorCell>();
  readonly #names = new Map<string, ActorCell>();
  /**
   * The supervisor of each parent actor's children, nested in the actors tree under the supervisor
   * of the parent itself (see #childSupervisor); only parents have an entry.
   */
  readonly #childSupervisors = new Map<ActorCell, Promise<Supervisor>>();
  /** How many children supervisors of a parent gave up: their successors get a fresh child id. */
  readonly #childSupervisorFailures = new Map<ActorCell, number>();
  /** Actors whose first supervisor start is in flight. */
  readonly #starting = new Map<ActorCell, Promise<void>>();
  #ready: ActorCell[] = [];
  #runScheduled = false;
  #flushScheduled = false;
  #seq = 0;
  #root: Supervisor | undefined;
  #rootStarting: Promise<Supervisor> | undefined;
  #rootGeneration = 0;
  #closing = false;
  #shutdown: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  readonly #metrics: ActorMetrics | undefined;
  #gauges: { readonly queue: Gauge; readonly highWater: Gauge; readonly active: Gauge } | undefined;
  readonly #flushed = { sent: 0, processed: 0, deadLetters: 0, byReason: new Map<DeadLetterReason, number>() };
  #transport: RemoteActorTransport | undefined;
  /** Exposed actors, with the transport's disposer once exposed (kept here: cells carry nothing for it). */
  readonly #exposed = new Map<ActorCell, (() => Promise<void>) | undefined>();

  constructor(init: ActorRuntimeInit) {
    this.#options = init.options;
    this.#supervision = init.supervision;
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
    this.#backoff = init.options.supervision.backoff;
    this.#metrics = init.metrics === undefined ? undefined : this.#defineMetrics(init.metrics);
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
    this.#attach(cell, options.supervision?.backoff);
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
    this.#flush();
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
    await this.#rootSupervisor();
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
    // The children supervisors are nested in the root tree: stopping the root stops them, each
    // before the parent actor it belongs to (reverse start order).
    this.#childSupervisors.clear();
    this.#childSupervisorFailures.clear();
    const stopAll = async (): Promise<void> => {
      const root = this.#root ?? (await this.#rootStarting?.catch(() => undefined));
      this.#root = undefined;
      await root?.stop('actor system shutting down');
    };
    try {
      await withDeadline(stopAll, { signal });
    } catch (error) {
      this.#logger.warn({ err: error }, 'actor supervisors did not stop in time');
    }
    this.#flush();
    this.#logger.info({ actors: cells.length, deadLetters: this.deadLetters.count }, 'actor system stopped');
  }

  // ── CellHost ────────────────────────────────────────────────────────────────────────────────

  /** @internal */
  schedule(cell: ActorCell): void {
    this.#ready.push(cell);
    if (!this.#runScheduled) {
      this.#runScheduled = true;
      queueMicrotask(this.#run);
    }
  }

  /**
   * One microtask runs every ready actor; each takes up to `throughput` messages per turn. After
   * MAX_PER_RUN messages the rest continues on setImmediate so that a busy system still lets
   * timers and I/O in.
   */
  readonly #run = (): void => {
    const ready = this.#ready;
    const budget = this.#options.throughput;
    let total = 0;
    let i = 0;
    while (i < ready.length) {
      total += ready[i]![kRun](budget);
      i++;
      if (total >= MAX_PER_RUN && i < ready.length) {
        ready.splice(0, i);
        this.#flush();
        setImmediate(this.#run);
        return;
      }
    }
    ready.length = 0;
    this.#runScheduled = false;
    this.#flush();
    this.checkDrained();
  };

  /** @internal */
  route(cell: ActorCell, message: unknown, ask: boolean): AnyActorRef | undefined {
    const target = this.hooks.route.call({ recipient: cell as AnyActorRef, message, ask });
    return target === undefined || target === (cell as AnyActorRef) ? undefined : target;
  }

  /** @internal */
  deadLetter(cell: ActorCell, message: unknown, reason: DeadLetterReason): void {
    this.deadLetters.post(cell.id, message, reason);
    this.#scheduleFlush();
  }

  /** @internal */
  crashed(cell: ActorCell, error: Error): void {
    this.#logger.warn({ err: error, actor: cell.id, name: cell.name }, `actor ${cell.name ?? cell.id} crashed: ${error.message}`);
    this.#publish('actor.crashed', cell, { error: error.message, restart: cell[kConfig].restart });
  }

  /** @internal */
  restarted(cell: ActorCell, restartCount: number): void {
    this.restarts++;
    this.#metrics?.restarts.inc();
    this.#logger.info({ actor: cell.id, name: cell.name, restartCount }, `actor ${cell.name ?? cell.id} restarted`);
    this.#publish('actor.restarted', cell, { restartCount });
  }

  /** @internal */
  hookFailed(cell: ActorCell, error: unknown): void {
    this.#logger.error({ err: error, actor: cell.id, name: cell.name }, `actor ${cell.name ?? cell.id}: 'stopped' threw`);
  }

  /** @internal */
  async stopCell(cell: ActorCell): Promise<void> {
    // Children first, then the supervisor they ran under, then the actor itself.
    const children = cell[kChildren];
    if (children !== undefined && children.size > 0) {
      await Promise.allSettled([...children].map((child) => child.stop()));
    }
    await this.#stopChildSupervisor(cell);
    const starting = this.#starting.get(cell);
    if (starting !== undefined) await starting;
    const supervisor = await this.#supervisorOf(cell);
    if (cell[kIncarnated]) {
      // A normal exit of a 'transient' child is final for the supervisor: no terminateChild
      // round trip (whose per-call deadline listener makes mass stops quadratic).
      await cell[kRetire](this.#options.supervision.shutdownMs);
    } else if (supervisor !== undefined && cell[kReason] === undefined) {
      // Between incarnations (crashed, restart pending): the supervisor must cancel the restart.
      await supervisor.terminateChild(cell.id).catch((error: unknown) => {
        this.#logger.debug({ err: error, actor: cell.id }, 'terminateChild failed; finalizing the actor directly');
      });
    }
    cell[kFinalize]({ kind: 'stopped' }, 'stopped');
    if (supervisor !== undefined) await supervisor.deleteChild(cell.id).catch(noop);
  }

  /** @internal */
  forget(cell: ActorCell): void {
    void this.#supervisorOf(cell)
      .then((supervisor) => supervisor?.deleteChild(cell.id))
      .catch(noop);
  }

  /** @internal */
  terminated(cell: ActorCell, reason: TerminationReason): void {
    if (this.#cells.get(cell.id) === cell) this.#cells.delete(cell.id);
    if (cell.name !== undefined && this.#names.get(cell.name) === cell) this.#names.delete(cell.name);
    cell[kParent]?.[kDisown](cell);
    this.#childSupervisorFailures.delete(cell);
    if (this.#exposed.size !== 0 && this.#exposed.has(cell)) {
      const dispose = this.#exposed.get(cell);
      this.#exposed.delete(cell);
      dispose?.().catch((error: unknown) => this.#logger.warn({ err: error, actor: cell.id }, 'un-exposing a stopped actor failed'));
    }
    if (reason.kind === 'crashed') this.#publish('actor.terminated', cell, { reason: reason.kind, error: reason.error.message });
    if (this.#closing) return;
    // A parent that ended on its own (crash of a temporary actor, supervisor gone) takes its children with it.
    const children = cell[kChildren];
    if (children !== undefined && children.size > 0) {
      for (const child of children) void child.stop();
    }
    if (reason.kind !== 'stopped' && this.#childSupervisors.has(cell)) void this.#stopChildSupervisor(cell);
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

  // ── supervision binding ─────────────────────────────────────────────────────────────────────

  /** ChildSpec.start of every actor: one shared function; the child id names the cell. */
  readonly #startChild = (child: ChildContext): ChildHandle | Promise<ChildHandle> => {
    const cell = this.#cells.get(child.id);
    if (cell === undefined) throw actorNotFound(child.id);
    return cell[kIncarnate](child);
  };

  #attach(cell: ActorCell, backoff: Partial<BackoffOptions> | undefined): void {
    const effectiveBackoff = backoff ?? this.#backoff;
    // Built by assignment, not spread: a plain three-field literal is the smallest object V8 makes,
    // and there is one per actor. What equals the supervisor's default is left out.
    const spec: { id: string; start: ChildSpec['start']; restart: RestartType; shutdown?: number; backoff?: Partial<BackoffOptions> } = {
      id: cell.id,
      start: this.#startChild,
      // 'permanent' becomes 'transient': an actor exits normally only when it is stopped for good,
      // and a crash is restarted either way.
      restart: cell[kConfig].restart === 'permanent' ? 'transient' : cell[kConfig].restart,
    };
    const shutdownMs = this.#options.supervision.shutdownMs;
    if (shutdownMs !== DEFAULT_CHILD_SHUTDOWN_MS) spec.shutdown = shutdownMs;
    if (effectiveBackoff !== undefined) spec.backoff = effectiveBackoff;
    const parent = cell[kParent];
    const supervisor = parent === undefined ? this.#rootSupervisor() : this.#childSupervisor(parent);
    const started = supervisor instanceof Promise ? supervisor.then((s) => s.startChild(spec)) : supervisor.startChild(spec);
    // Tracked outside the cell, and only while the start is in flight: idle actors carry nothing for it.
    const tracked = started.then(
      () => void this.#starting.delete(cell),
      (error: unknown) => {
        this.#starting.delete(cell);
        this.#startFailed(cell, error);
      },
    );
    this.#starting.set(cell, tracked);
  }

  #startFailed(cell: ActorCell, error: unknown): void {
    if (cell[kReason] !== undefined) return;
    const err = error instanceof Error ? error : new Error(String(error));
    this.#logger.error({ err, actor: cell.id, name: cell.name }, `actor ${cell.name ?? cell.id} failed to start: ${err.message}`);
    cell[kFinalize]({ kind: 'crashed', error: err }, 'stopped');
    this.forget(cell);
  }

  #rootSupervisor(): Supervisor | Promise<Supervisor> {
    if (this.#root !== undefined) return this.#root;
    if (this.#rootStarting !== undefined) return this.#rootStarting;
    const generation = ++this.#rootGeneration;
    const { intensity, periodMs } = this.#options.supervision;
    this.#rootStarting = this.#supervision
      .start({ id: generation === 1 ? 'actors' : `actors#${generation}`, strategy: 'one-for-one', intensity, periodMs })
      .then((supervisor) => {
        this.#root = supervisor;
        this.#rootStarting = undefined;
        void supervisor.stopped.then(() => this.#supervisorStopped(supervisor, undefined));
        return supervisor;
      });
    this.#rootStarting.catch((error: unknown) => {
      this.#rootStarting = undefined;
      this.#logger.error({ err: error }, 'could not start the root actor supervisor');
    });
    return this.#rootStarting;
  }

  /**
   * The supervisor of `parent`'s children, started with its first child: a `temporary` nested
   * supervisor (`actors/<parent id>`) under the supervisor `parent` itself runs under, so that the
   * supervision tree mirrors the actor tree inside the one root tree 'actors'. Temporary, because
   * when it gives up the failure goes to the parent actor (#supervisorStopped), not to a restart of
   * an empty supervisor; its parent supervisor then only forgets it, without counting it.
   */
  #childSupervisor(parent: ActorCell): Promise<Supervisor> {
    let supervisor = this.#childSupervisors.get(parent);
    if (supervisor === undefined) {
      const { intensity, periodMs } = this.#options.supervision;
      // A successor of one that gave up gets its own id: the old child may not be forgotten yet.
      const failures = this.#childSupervisorFailures.get(parent);
      const id = failures === undefined ? `actors/${parent.id}` : `actors/${parent.id}#${failures + 1}`;
      const host = this.#hostOf(parent);
      const current = (supervisor = (host instanceof Promise ? host : Promise.resolve(host)).then((h) =>
        h.startSupervisor({ id, strategy: 'one-for-one', intensity, periodMs }, CHILD_SUPERVISOR),
      ));
      this.#childSupervisors.set(parent, current);
      current.then(
        (s) => s.stopped.then(() => this.#supervisorStopped(s, parent, current)),
        () => {
          // Could not start: the actors waiting for it fail to start (#startFailed); the next spawn tries again.
          if (this.#childSupervisors.get(parent) === current) this.#childSupervisors.delete(parent);
        },
      );
    }
    return supervisor;
  }

  /** The supervisor `cell` runs under (the root, or its parent's children supervisor). */
  #hostOf(cell: ActorCell): Supervisor | Promise<Supervisor> {
    const parent = cell[kParent];
    if (parent === undefined) return this.#rootSupervisor();
    return this.#childSupervisors.get(parent) ?? Promise.reject(supervisorGone(cell.id, cell.name, `actors/${parent.id}`));
  }

  async #supervisorOf(cell: ActorCell): Promise<Supervisor | undefined> {
    const parent = cell[kParent];
    if (parent === undefined) return this.#root ?? this.#rootStarting?.catch(() => undefined);
    return this.#childSupervisors.get(parent)?.catch(() => undefined);
  }

  async #stopChildSupervisor(parent: ActorCell): Promise<void> {
    const supervisor = this.#childSupervisors.get(parent);
    if (supervisor === undefined) return;
    this.#childSupervisors.delete(parent);
    await supervisor.then((s) => s.stop('parent actor stopped'), noop);
  }

  /**
   * A supervisor stopped. If we did not ask for it, every actor under it is terminated — its
   * messages become dead letters and its pending asks fail — and the next spawn gets a fresh
   * supervisor. The root's failure is reported by the supervision plugin (a kernel fault); a
   * children supervisor that gave up escalates to its parent actor, which crashes.
   */
  #supervisorStopped(supervisor: Supervisor, parent: ActorCell | undefined, handle?: Promise<Supervisor>): void {
    if (this.#closing) return;
    let victims: ActorCell[];
    if (parent === undefined) {
      if (this.#root !== supervisor) return;
      this.#root = undefined;
      victims = [...this.#cells.values()].filter((c) => c[kParent] === undefined);
    } else {
      // Stopped on purpose (#stopChildSupervisor removes the entry first): nothing to do.
      if (this.#childSupervisors.get(parent) !== handle) return;
      this.#childSupervisors.delete(parent);
      const children = parent[kChildren];
      victims = children === undefined ? [] : [...children];
    }
    for (const cell of victims) {
      cell[kFinalize]({ kind: 'crashed', error: supervisorGone(cell.id, cell.name, supervisor.id) }, 'stopped');
    }
    this.#logger.error({ supervisor: supervisor.id, actors: victims.length }, `actor supervisor '${supervisor.id}' stopped; its actors were terminated`);
    // Gave up (intensity exceeded) rather than stopped by its own supervisor: escalate to the parent.
    if (parent !== undefined && supervisor.state === 'failed') {
      this.#childSupervisorFailures.set(parent, (this.#childSupervisorFailures.get(parent) ?? 0) + 1);
      parent[kEscalate](childrenFailed(parent.id, parent.name, supervisor.id, victims.length));
    }
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

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#runScheduled || this.#metrics === undefined) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Publishes what the hot counters gained since the last flush: a few calls per run, not per message. */
  #flush(): void {
    const metrics = this.#metrics;
    if (metrics === undefined) return;
    const flushed = this.#flushed;
    if (this.sent !== flushed.sent) {
      metrics.sent.inc(this.sent - flushed.sent);
      flushed.sent = this.sent;
    }
    if (this.processed !== flushed.processed) {
      metrics.processed.inc(this.processed - flushed.processed);
      flushed.processed = this.processed;
    }
    if (this.deadLetters.count !== flushed.deadLetters) {
      flushed.deadLetters = this.deadLetters.count;
      for (const reason of DEAD_LETTER_REASONS) {
        const now = this.deadLetters.countOf(reason);
        const delta = now - (flushed.byReason.get(reason) ?? 0);
        if (delta === 0) continue;
        flushed.byReason.set(reason, now);
        metrics.deadLetters.inc({ reason }, delta);
        if (reason !== 'shutdown') metrics.failures.inc({ failure_reason: reason }, delta);
      }
    }
  }

  #defineMetrics(metrics: Metrics): ActorMetrics {
    const gauges = {
      queue: metrics.gauge({ name: 'message_queue_depth', help: 'Messages waiting in all actor mailboxes', collect: () => this.#collect() }),
      highWater: metrics.gauge({ name: 'actor_mailbox_high_water', help: 'The deepest any actor mailbox has been', collect: () => this.#collect() }),
      active: metrics.gauge({ name: 'actors_active', help: 'Live actors', collect: () => this.#collect() }),
    };
    this.#gauges = gauges;
    return {
      sent: metrics.counter({ name: 'messages_sent_total', help: 'Messages accepted into actor mailboxes' }),
      processed: metrics.counter({ name: 'messages_processed_total', help: 'Messages handled by actors' }),
      deadLetters: metrics.counter({ name: 'actor_dead_letters_total', help: 'Messages that could not be delivered, by reason', labelNames: ['reason'] }),
      failures: metrics.counter({ name: 'message_delivery_failures_total', help: 'Messages refused or dropped at send time, by reason', labelNames: ['failure_reason'] }),
      restarts: metrics.counter({ name: 'actor_restarts_total', help: 'Actor restarts by their supervisors' }),
    };
  }

  #collect(): void {
    this.#flush();
    const gauges = this.#gauges;
    if (gauges === undefined) return;
    gauges.queue.set(this.queued);
    gauges.highWater.set(this.highWater);
    gauges.active.set(this.#cells.size);
  }
}
