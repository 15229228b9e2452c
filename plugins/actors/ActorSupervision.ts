/**
 * Actor supervision: binds every cell to a supervisor of the supervision plugin. Top-level actors
 * run under the root tree 'actors'; the children of a parent actor run under a nested supervisor
 * `actors/<parent id>` under the parent's own supervisor, so the supervision tree mirrors the actor
 * tree. Stopping, forgetting and escalation between parents and children live here too.
 */
import type { BackoffOptions, Logger } from '../../sdk/index.js';
import { noop } from '../../sdk/util/index.js';
import type { ChildContext, ChildHandle, ChildSpec, RestartType, SupervisionService, Supervisor } from '../supervision/types.js';
import type { ActorCell } from './ActorCell.js';
import { actorNotFound, childrenFailed, supervisorGone } from './errors.js';
import { kChildren, kConfig, kEscalate, kFinalize, kIncarnate, kIncarnated, kParent, kReason, kRetire } from './internals.js';
import type { ActorsOptions } from './options.js';
import type { TerminationReason } from './types.js';

/** The supervision contract's default `shutdown` of a worker. */
const DEFAULT_CHILD_SHUTDOWN_MS = 5000;
/** How a parent's children supervisor is nested (see #childSupervisor). */
const CHILD_SUPERVISOR = Object.freeze({ restart: 'temporary' as const });

export interface ActorSupervisionInit {
  readonly supervision: SupervisionService;
  readonly options: ActorsOptions['supervision'];
  readonly logger: Logger;
  /** The live cells by id (the runtime's map, read here). */
  readonly cells: ReadonlyMap<string, ActorCell>;
  /** Whether the actor system is shutting down. */
  readonly closing: () => boolean;
}

export class ActorSupervision {
  readonly #init: ActorSupervisionInit;
  readonly #options: ActorsOptions['supervision'];
  /**
   * The supervisor of each parent actor's children, nested in the actors tree under the supervisor
   * of the parent itself (see #childSupervisor); only parents have an entry.
   */
  readonly #childSupervisors = new Map<ActorCell, Promise<Supervisor>>();
  /** How many children supervisors of a parent gave up: their successors get a fresh child id. */
  readonly #childSupervisorFailures = new Map<ActorCell, number>();
  /** Actors whose first supervisor start is in flight. */
  readonly #starting = new Map<ActorCell, Promise<void>>();
  #root: Supervisor | undefined;
  #rootStarting: Promise<Supervisor> | undefined;
  #rootGeneration = 0;

  constructor(init: ActorSupervisionInit) {
    this.#init = init;
    this.#options = init.options;
  }

  /** `ref.stop()`: through the supervisor, so that a permanent actor is not restarted. */
  async stop(cell: ActorCell): Promise<void> {
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
      await cell[kRetire](this.#options.shutdownMs);
    } else if (supervisor !== undefined && cell[kReason] === undefined) {
      // Between incarnations (crashed, restart pending): the supervisor must cancel the restart.
      await supervisor.terminateChild(cell.id).catch((error: unknown) => {
        this.#init.logger.debug({ err: error, actor: cell.id }, 'terminateChild failed; finalizing the actor directly');
      });
    }
    cell[kFinalize]({ kind: 'stopped' }, 'stopped');
    if (supervisor !== undefined) await supervisor.deleteChild(cell.id).catch(noop);
  }

  /** A cell that ended for good on its own (a crashed 'temporary' actor): drop its child spec. */
  forget(cell: ActorCell): void {
    void this.#supervisorOf(cell)
      .then((supervisor) => supervisor?.deleteChild(cell.id))
      .catch(noop);
  }

  /** ChildSpec.start of every actor: one shared function; the child id names the cell. */
  readonly #startChild = (child: ChildContext): ChildHandle | Promise<ChildHandle> => {
    const cell = this.#init.cells.get(child.id);
    if (cell === undefined) throw actorNotFound(child.id);
    return cell[kIncarnate](child);
  };

  /** Puts a new cell under its supervisor (the root, or its parent's children supervisor), which starts it. */
  attach(cell: ActorCell, backoff: Partial<BackoffOptions> | undefined): void {
    const effectiveBackoff = backoff ?? this.#options.backoff;
    // Built by assignment, not spread: a plain three-field literal is the smallest object V8 makes,
    // and there is one per actor. What equals the supervisor's default is left out.
    const spec: { id: string; start: ChildSpec['start']; restart: RestartType; shutdown?: number; backoff?: Partial<BackoffOptions> } = {
      id: cell.id,
      start: this.#startChild,
      // 'permanent' becomes 'transient': an actor exits normally only when it is stopped for good,
      // and a crash is restarted either way.
      restart: cell[kConfig].restart === 'permanent' ? 'transient' : cell[kConfig].restart,
    };
    const shutdownMs = this.#options.shutdownMs;
    if (shutdownMs !== DEFAULT_CHILD_SHUTDOWN_MS) spec.shutdown = shutdownMs;
    if (effectiveBackoff !== undefined) spec.backoff = effectiveBackoff;
    const parent = cell[kParent];
    const supervisor = parent === undefined ? this.rootSupervisor() : this.#childSupervisor(parent);
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
    this.#init.logger.error({ err, actor: cell.id, name: cell.name }, `actor ${cell.name ?? cell.id} failed to start: ${err.message}`);
    cell[kFinalize]({ kind: 'crashed', error: err }, 'stopped');
    this.forget(cell);
  }

  /** The root actor supervisor 'actors', started on first use. */
  rootSupervisor(): Supervisor | Promise<Supervisor> {
    if (this.#root !== undefined) return this.#root;
    if (this.#rootStarting !== undefined) return this.#rootStarting;
    const generation = ++this.#rootGeneration;
    const { intensity, periodMs } = this.#options;
    this.#rootStarting = this.#init.supervision
      .start({ id: generation === 1 ? 'actors' : `actors#${generation}`, strategy: 'one-for-one', intensity, periodMs })
      .then((supervisor) => {
        this.#root = supervisor;
        this.#rootStarting = undefined;
        void supervisor.stopped.then(() => this.#supervisorStopped(supervisor, undefined));
        return supervisor;
      });
    this.#rootStarting.catch((error: unknown) => {
      this.#rootStarting = undefined;
      this.#init.logger.error({ err: error }, 'could not start the root actor supervisor');
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
      const { intensity, periodMs } = this.#options;
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
    if (parent === undefined) return this.rootSupervisor();
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
    if (this.#init.closing()) return;
    let victims: ActorCell[];
    if (parent === undefined) {
      if (this.#root !== supervisor) return;
      this.#root = undefined;
      victims = [...this.#init.cells.values()].filter((c) => c[kParent] === undefined);
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
    this.#init.logger.error({ supervisor: supervisor.id, actors: victims.length }, `actor supervisor '${supervisor.id}' stopped; its actors were terminated`);
    // Gave up (intensity exceeded) rather than stopped by its own supervisor: escalate to the parent.
    if (parent !== undefined && supervisor.state === 'failed') {
      this.#childSupervisorFailures.set(parent, (this.#childSupervisorFailures.get(parent) ?? 0) + 1);
      parent[kEscalate](childrenFailed(parent.id, parent.name, supervisor.id, victims.length));
    }
  }


  /**
   * A cell terminated: a parent that ended on its own (crash of a temporary actor, supervisor gone)
   * takes its children with it, and a parent that did not stop normally takes its children supervisor.
   */
  terminated(cell: ActorCell, reason: TerminationReason): void {
    this.#childSupervisorFailures.delete(cell);
    if (this.#init.closing()) return;
    const children = cell[kChildren];
    if (children !== undefined && children.size > 0) {
      for (const child of children) void child.stop();
    }
    if (reason.kind !== 'stopped' && this.#childSupervisors.has(cell)) void this.#stopChildSupervisor(cell);
  }

  /**
   * The end of shutdown: the children supervisors are nested in the root tree, so stopping the root
   * stops them, each before the parent actor it belongs to (reverse start order).
   */
  async stopAll(): Promise<void> {
    this.#childSupervisors.clear();
    this.#childSupervisorFailures.clear();
    const root = this.#root ?? (await this.#rootStarting?.catch(() => undefined));
    this.#root = undefined;
    await root?.stop('actor system shutting down');
  }
}
