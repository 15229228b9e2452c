/**
 * One supervisor: an OTP-style restart policy over a set of children. Root trees and nested
 * supervisors are both SupervisorNodes; the `Supervision` service creates them.
 *
 * Hot path (one-for-one crash → restart, no backoff): the child's `exited` reaction runs
 * `#onExit` → `#decide` → `#restartNow` → `#launch` → `start(ctx)` synchronously, with O(1) Map
 * lookups, no timer when the delay is 0 and no promise hop when `start` returns a handle.
 *
 * Why this file is over 500 lines: the restart policy is one state machine (children, intensity
 * window, strategy, backoff, ordered stop) whose parts read and write the same private state; the
 * pieces with a life of their own (ChildRecord, RestartIntensity, FailureDetector, validateSpec,
 * NestedSupervisor) already live in their own files.
 */
import {
  CancelledError,
  MisterSmithError,
  type BackoffOptions,
  type Counter,
  type Labels,
  type Logger,
  type SupervisionError,
} from '../../sdk/index.js';
import { ChildRecord, EPOCH, Incarnation, type IncarnationOwner } from './ChildRecord.js';
import {
  childKilled,
  childNotFound,
  childRunning,
  duplicateChild,
  heartbeatTimeout,
  intensityExceeded,
  invalidHandle,
  notRunning,
  startFailed,
  startTimeout,
  supervisorStartFailed,
  SupervisionErrorCodes,
} from './errors.js';
import { FailureDetector, type FailureDetectorOptions } from './FailureDetector.js';
import type { NestedSupervisorSpec } from './NestedSupervisor.js';
import { RestartIntensity } from './RestartIntensity.js';
import type {
  ChildCounts,
  ChildHandle,
  ChildInfo,
  ChildSpec,
  ExitListener,
  ExitReason,
  NestedSupervisorOptions,
  ShutdownPolicy,
  Strategy,
  Supervisor,
  SupervisorSpec,
  SupervisorState,
} from './types.js';
import { validateChildSpec } from './validateSpec.js';
import { backoffDelay, DEFAULT_BACKOFF, isThenable, messageOf, noop, sleep, withDeadline } from '../../sdk/util/index.js';

/** Default deadline of a worker's `start` and of its `stop` (ChildSpec docs). */
export const DEFAULT_START_TIMEOUT_MS = 5000;
export const DEFAULT_WORKER_SHUTDOWN_MS = 5000;

/** The metric handles every supervisor of one kernel shares. */
export interface SupervisionMetrics {
  readonly restarts: Counter;
  readonly exits: Counter;
  readonly escalations: Counter;
  readonly forcedKills: Counter;
}

/** What a supervisor needs from the service that created it. */
export interface SupervisorEnv {
  readonly logger: Logger;
  readonly metrics: SupervisionMetrics;
  /** Fire-and-forget event publication; undefined when the events plugin is absent. */
  readonly publish: ((type: string, supervisor: string, data: Record<string, unknown>, correlationId: string) => void) | undefined;
  readonly detector: FailureDetectorOptions;
  /** Called once after the supervisor gave up and stopped its children (the root reports a fault). */
  readonly onGiveUp: ((node: SupervisorNode, error: SupervisionError) => void) | undefined;
  /** Called once when the supervisor reached 'stopped' or 'failed'. */
  readonly onEnded: ((node: SupervisorNode) => void) | undefined;
  /** Builds the ChildSpec of a nested supervisor (`startSupervisor`); the service's `supervisorChild`. */
  readonly nest: (spec: SupervisorSpec, options: NestedSupervisorOptions) => NestedSupervisorSpec;
}

type LaunchResult = Error | undefined;

const RESOLVED: Promise<void> = Promise.resolve();
const NO_CHILDREN: readonly ChildSpec[] = Object.freeze([]);
const backoffCache = new WeakMap<object, BackoffOptions>();

function backoffOf(spec: ChildSpec): BackoffOptions {
  const partial = spec.backoff;
  if (partial === undefined) return DEFAULT_BACKOFF;
  let full = backoffCache.get(partial);
  if (full === undefined) {
    full = { ...DEFAULT_BACKOFF, ...partial };
    backoffCache.set(partial, full);
  }
  return full;
}

/** The backoff attempt to use now; stops growing once any sane delay has long reached its cap. */
function nextAttempt(rec: ChildRecord): number {
  const attempt = rec.attempt;
  if (attempt < 1000) rec.attempt = attempt + 1;
  return attempt;
}

function shutdownOf(spec: ChildSpec): ShutdownPolicy {
  return spec.shutdown ?? (spec.type === 'supervisor' ? 'infinity' : DEFAULT_WORKER_SHUTDOWN_MS);
}

function isHandle(value: unknown): value is ChildHandle {
  if (value === null || typeof value !== 'object' || typeof (value as ChildHandle).stop !== 'function') return false;
  // With `watch`, `exited` may be a lazy getter: do not touch it here.
  return typeof (value as ChildHandle).watch === 'function' || isThenable((value as ChildHandle).exited);
}

/** Subscribes an incarnation to its handle's end; the closures capture only the incarnation. */
function watchExit(incarnation: Incarnation, handle: ChildHandle): void {
  if (typeof handle.watch === 'function') {
    handle.watch(incarnation);
    return;
  }
  handle.exited.then(
    () => incarnation.exited(),
    (error: unknown) => incarnation.crashed(error),
  );
}

export class SupervisorNode implements Supervisor, IncarnationOwner {
  readonly id: string;
  /** Metric labels: by supervisor only — a child id is often dynamic (one per actor), so never a label. */
  readonly #labels: Labels;
  readonly #exitLabels = new Map<ExitReason, Labels>();
  /** Resolves when the supervisor has stopped, normally or after giving up. */
  readonly stopped: Promise<void>;
  readonly #strategy: Strategy;
  readonly #intensity: RestartIntensity;
  readonly #initial: readonly ChildSpec[];
  readonly #env: SupervisorEnv;
  readonly #log: Logger;
  readonly #children = new Map<string, ChildRecord>();
  /** Aborted when stopping begins: pending starts and group backoff waits end. */
  readonly #halt = new AbortController();
  /** Aborted when the supervisor must stop waiting for children: each is abandoned as killed. */
  readonly #kill = new AbortController();
  #state: SupervisorState = 'starting';
  #detector: FailureDetector<Incarnation> | undefined;
  #groupQueue: Promise<void> | undefined;
  /** Pending backoff restarts: kept here, not on every child record, since few children wait at once. */
  #timers: Map<ChildRecord, NodeJS.Timeout> | undefined;
  #deferred: Array<{ rec: ChildRecord; reason: ExitReason; error: unknown }> | undefined;
  #stopPromise: Promise<void> | undefined;
  #failure: SupervisionError | undefined;
  #resolveStopped!: () => void;
  #exited: Promise<void> | undefined;
  #settleExited: ((failure: SupervisionError | undefined) => void) | undefined;
  /** A parent's listener (`watch`), told once when this supervisor ends. */
  #listener: ExitListener | undefined;
  #ended = false;
  /** True while a handle's `watch` runs (see childExited). */
  #adopting = false;

  /** The spec must have been validated (`validateSupervisorSpec`). */
  constructor(spec: SupervisorSpec, env: SupervisorEnv) {
    this.id = spec.id;
    this.#labels = Object.freeze({ supervisor: spec.id });
    this.#strategy = spec.strategy ?? 'one-for-one';
    this.#intensity = new RestartIntensity(spec.intensity ?? 5, spec.periodMs ?? 60_000);
    this.#initial = spec.children ?? NO_CHILDREN;
    this.#env = env;
    this.#log = env.logger.child({ supervisor: spec.id });
    this.stopped = new Promise<void>((resolve) => (this.#resolveStopped = resolve));
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** The strategy this supervisor applies. */
  get strategy(): Strategy {
    return this.#strategy;
  }

  /** Restarts counted in the current intensity window, and the limit. */
  intensityUsage(now: number = Date.now()): { restarts: number; intensity: number; periodMs: number } {
    return { restarts: this.#intensity.count(now), intensity: this.#intensity.intensity, periodMs: this.#intensity.periodMs };
  }

  /**
   * For a parent: resolves when the supervisor stopped normally, rejects with
   * SUPERVISION_INTENSITY_EXCEEDED when it gave up. Created on first read so that a root tree's
   * failure never becomes an unhandled rejection.
   */
  get exited(): Promise<void> {
    if (this.#exited === undefined) {
      if (this.#ended) {
        this.#exited = this.#failure === undefined ? RESOLVED : Promise.reject(this.#failure);
      } else {
        this.#exited = new Promise<void>((resolve, reject) => {
          this.#settleExited = (failure) => (failure === undefined ? resolve() : reject(failure));
        });
      }
    }
    return this.#exited;
  }

  /**
   * For a parent, instead of `exited` (the ChildHandle `watch` fast path): told once, `exited()` when
   * the supervisor stopped normally, `crashed(SUPERVISION_INTENSITY_EXCEEDED)` when it gave up.
   */
  watch(listener: ExitListener): void {
    if (!this.#ended) this.#listener = listener;
    else if (this.#failure === undefined) listener.exited();
    else listener.crashed(this.#failure);
  }

  /** Starts the initial children in order; on the first that cannot start, stops the rest and rejects. */
  async start(): Promise<void> {
    this.#log.debug({ strategy: this.#strategy, children: this.#initial.length }, 'supervisor starting');
    for (const spec of this.#initial) {
      if (this.#state !== 'starting') break;
      if (this.#children.has(spec.id)) throw duplicateChild(this.id, spec.id);
      const rec = new ChildRecord(spec);
      this.#children.set(spec.id, rec);
      let result: LaunchResult | Promise<LaunchResult> = this.#launch(rec);
      if (result !== undefined && !(result instanceof Error)) result = await result;
      if (result !== undefined) {
        if (this.#children.get(spec.id) === rec) this.#children.delete(spec.id);
        this.#recordExit(rec, 'start-failure', result);
        const error = supervisorStartFailed(this.id, spec.id, result);
        this.#log.error({ err: result, child: spec.id }, error.message);
        await (this.#stopPromise ??= this.#shutdown('initial children could not start', error, false));
        throw error;
      }
    }
    if (this.#state !== 'starting') {
      await this.stopped;
      throw notRunning(this.id, this.#state, 'finish starting');
    }
    this.#state = 'running';
    this.#log.info({ strategy: this.#strategy, children: this.#children.size }, 'supervisor started');
    const deferred = this.#deferred;
    this.#deferred = undefined;
    if (deferred !== undefined) for (const d of deferred) this.#childDown(d.rec, d.reason, d.error);
  }

  startChild(spec: ChildSpec): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'starting') {
      return Promise.reject(notRunning(this.id, this.#state, `start child '${String(spec?.id)}'`));
    }
    const invalid = validateChildSpec(spec, this.id);
    if (invalid !== undefined) return Promise.reject(invalid);
    if (this.#children.has(spec.id)) return Promise.reject(duplicateChild(this.id, spec.id));
    const rec = new ChildRecord(spec);
    this.#children.set(spec.id, rec);
    const result = this.#launch(rec);
    if (result === undefined) return RESOLVED;
    if (result instanceof Error) return Promise.reject(this.#dropFailed(rec, result));
    return result.then((error) => {
      if (error !== undefined) throw this.#dropFailed(rec, error);
    });
  }

  startSupervisor(spec: SupervisorSpec, options: NestedSupervisorOptions = {}): Promise<Supervisor> {
    let child: NestedSupervisorSpec;
    try {
      child = this.#env.nest(spec, options);
    } catch (error) {
      return Promise.reject(error);
    }
    // startChild resolves once the child's start returned its handle, i.e. after the node was made.
    return this.startChild(child).then(() => child.takeStarted()!);
  }

  async terminateChild(id: string): Promise<void> {
    const rec = this.#children.get(id);
    if (rec === undefined) throw childNotFound(this.id, id);
    if (this.#state !== 'running' && this.#state !== 'starting') throw notRunning(this.id, this.#state, `terminate child '${id}'`);
    await this.#stopChild(rec);
    if (rec.state === 'failed') rec.state = 'stopped';
    // OTP: a temporary child's spec goes with it.
    if (rec.spec.restart === 'temporary') this.#forget(rec);
  }

  async restartChild(id: string): Promise<void> {
    const rec = this.#children.get(id);
    if (rec === undefined) throw childNotFound(this.id, id);
    if (this.#state !== 'running' && this.#state !== 'starting') throw notRunning(this.id, this.#state, `restart child '${id}'`);
    await this.#stopChild(rec);
    if (this.#children.get(id) !== rec) throw childNotFound(this.id, id);
    if (this.#state !== 'running' && this.#state !== 'starting') throw notRunning(this.id, this.#state, `restart child '${id}'`);
    this.#countRestart(rec, true);
    let result: LaunchResult | Promise<LaunchResult> = this.#launch(rec);
    if (result !== undefined && !(result instanceof Error)) result = await result;
    if (result !== undefined) {
      this.#recordExit(rec, 'start-failure', result);
      throw result;
    }
  }

  async deleteChild(id: string): Promise<void> {
    const rec = this.#children.get(id);
    if (rec === undefined) throw childNotFound(this.id, id);
    if (rec.state !== 'stopped' && rec.state !== 'failed') throw childRunning(this.id, id, rec.state);
    this.#forget(rec);
  }

  whichChildren(): ChildInfo[] {
    const out: ChildInfo[] = [];
    for (const rec of this.#children.values()) {
      out.push({ id: rec.spec.id, state: rec.state, restartCount: rec.restartCount, type: rec.spec.type ?? 'worker' });
    }
    return out;
  }

  countChildren(): ChildCounts {
    let active = 0;
    let supervisors = 0;
    for (const rec of this.#children.values()) {
      if (rec.state === 'running') active++;
      if (rec.spec.type === 'supervisor') supervisors++;
    }
    return { specs: this.#children.size, active, supervisors, workers: this.#children.size - supervisors };
  }

  stop(reason = 'requested'): Promise<void> {
    return (this.#stopPromise ??= this.#shutdown(reason, undefined, false));
  }

  /**
   * Stops without waiting for anyone: every child still stopping (or about to be) is abandoned as
   * killed and its signal aborted. Used when the stop deadline passes or the parent kills us.
   */
  kill(reason = 'killed'): Promise<void> {
    if (!this.#kill.signal.aborted) this.#kill.abort(new CancelledError(`supervisor '${this.id}' killed: ${reason}`));
    return this.stop(reason);
  }

  /** @internal Heartbeat of a child incarnation (ChildContext.heartbeat). */
  beat(incarnation: Incarnation): void {
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    (this.#detector ??= new FailureDetector(this.#onSilent, this.#env.detector)).heartbeat(incarnation);
  }

  // ── starting children ────────────────────────────────────────────────────────────────────────

  /**
   * Starts a new incarnation of `rec`. Returns undefined when it runs, the error when it failed
   * at once, or a promise of either when `start` is async. Never throws.
   */
  #launch(rec: ChildRecord): LaunchResult | Promise<LaunchResult> {
    const incarnation = new Incarnation(rec, this);
    rec.current = incarnation;
    rec.state = 'starting';
    let result: ChildHandle | Promise<ChildHandle>;
    try {
      result = rec.spec.start(incarnation);
    } catch (error) {
      return this.#startFailed(rec, incarnation, error);
    }
    if (isThenable(result) && !isHandle(result)) return this.#awaitStart(rec, incarnation, result as Promise<ChildHandle>);
    return this.#adopt(rec, incarnation, result as ChildHandle);
  }

  async #awaitStart(rec: ChildRecord, incarnation: Incarnation, pending: Promise<ChildHandle>): Promise<LaunchResult> {
    const timeoutMs = rec.spec.startTimeoutMs ?? (rec.spec.type === 'supervisor' ? undefined : DEFAULT_START_TIMEOUT_MS);
    let handle: ChildHandle;
    try {
      handle = await withDeadline(() => pending, {
        timeoutMs,
        signal: this.#halt.signal,
        timeoutError: () => startTimeout(this.id, rec.spec.id, timeoutMs ?? 0),
      });
    } catch (error) {
      // The start may still finish later; whatever it hands back then must not be left running.
      Promise.resolve(pending).then((late) => this.#stopQuietly(rec.spec.id, late), noop);
      return this.#startFailed(rec, incarnation, error);
    }
    return this.#adopt(rec, incarnation, handle);
  }

  #adopt(rec: ChildRecord, incarnation: Incarnation, handle: ChildHandle): LaunchResult {
    if (!isHandle(handle)) return this.#startFailed(rec, incarnation, invalidHandle(this.id, rec.spec.id));
    if (rec.current !== incarnation) {
      // Terminated (or the supervisor stopped) while it was starting.
      this.#stopQuietly(rec.spec.id, handle);
      return startFailed(this.id, rec.spec.id, 'it was terminated while starting');
    }
    incarnation.handle = handle;
    rec.state = 'running';
    rec.upSince = Date.now() - EPOCH;
    // One subscription per incarnation; `rec.current !== incarnation` tells a stale exit from a live one.
    this.#adopting = true;
    try {
      watchExit(incarnation, handle);
    } finally {
      this.#adopting = false;
    }
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ child: rec.spec.id, restartCount: rec.restartCount }, 'child started');
    this.#env.publish?.('supervision.child.started', this.id, { supervisor: this.id, child: rec.spec.id, restartCount: rec.restartCount }, this.#correlation(rec));
    return undefined;
  }

  #startFailed(rec: ChildRecord, incarnation: Incarnation, error: unknown): Error {
    if (rec.current === incarnation) rec.current = undefined;
    const err =
      error instanceof MisterSmithError &&
      (error.code === SupervisionErrorCodes.SUPERVISION_START_TIMEOUT || error.code === SupervisionErrorCodes.SUPERVISION_INVALID_HANDLE || error.code === SupervisionErrorCodes.SUPERVISION_START_FAILED)
        ? error
        : startFailed(this.id, rec.spec.id, error);
    incarnation.abort(err);
    if (rec.state === 'starting') rec.state = 'failed';
    return err;
  }

  #dropFailed(rec: ChildRecord, error: Error): Error {
    if (this.#children.get(rec.spec.id) === rec) this.#children.delete(rec.spec.id);
    this.#recordExit(rec, 'start-failure', error);
    return error;
  }

  // ── exits and restarts ───────────────────────────────────────────────────────────────────────

  /** @internal How an incarnation reports its end (ExitListener). */
  childExited(incarnation: Incarnation, error: unknown, crashed: boolean): void {
    if (this.#adopting) {
      // Told from inside `watch()`: finish adopting first, and never restart recursively on one stack.
      queueMicrotask(() => this.childExited(incarnation, error, crashed));
      return;
    }
    const rec = incarnation.rec;
    // Stale (an abandoned incarnation) or being stopped by us: whoever detached it reports it.
    if (rec.current !== incarnation) return;
    rec.current = undefined;
    this.#detector?.remove(incarnation);
    const reason: ExitReason = crashed ? 'crash' : 'normal';
    this.#recordExit(rec, reason, error);
    this.#childDown(rec, reason, error);
  }

  readonly #onSilent = (incarnation: Incarnation, phi: number): void => {
    const rec = incarnation.rec;
    this.#detector?.remove(incarnation);
    if (rec.current !== incarnation) return;
    rec.current = undefined;
    const error = heartbeatTimeout(this.id, rec.spec.id, phi);
    incarnation.abort(error);
    // It may be wedged rather than dead: ask it to stop too, without waiting.
    if (incarnation.handle !== undefined) this.#stopQuietly(rec.spec.id, incarnation.handle);
    this.#recordExit(rec, 'heartbeat-timeout', error);
    this.#childDown(rec, 'heartbeat-timeout', error);
  };

  #childDown(rec: ChildRecord, reason: ExitReason, error: unknown): void {
    if (this.#state === 'starting') {
      // Restart decisions wait until the initial children are all up, as in OTP's init.
      rec.state = reason === 'normal' ? 'stopped' : 'failed';
      (this.#deferred ??= []).push({ rec, reason, error });
      return;
    }
    if (this.#state !== 'running') {
      // A crash during shutdown restarts nothing.
      rec.state = reason === 'normal' ? 'stopped' : 'failed';
      return;
    }
    if (this.#children.get(rec.spec.id) !== rec) return;
    const restart = rec.spec.restart ?? 'permanent';
    if (restart === 'temporary' || (restart === 'transient' && reason === 'normal')) {
      rec.state = reason === 'normal' ? 'stopped' : 'failed';
      if (restart === 'temporary') this.#forget(rec);
      return;
    }
    const now = Date.now();
    if (!this.#intensity.record(now)) {
      rec.state = 'failed';
      this.#giveUp(rec, error ?? new Error(`child '${rec.spec.id}' exited (${reason})`));
      return;
    }
    // A child that stayed up longer than the intensity period starts its backoff afresh.
    if (reason !== 'start-failure' && now - EPOCH - rec.upSince > this.#intensity.periodMs) rec.attempt = 0;
    rec.state = 'restarting';
    if (this.#strategy === 'one-for-one') {
      const delay = backoffDelay(backoffOf(rec.spec), nextAttempt(rec));
      // `!(delay > 0)` rather than `delay <= 0`: 0 × factor^n is NaN once factor^n overflows.
      if (!(delay > 0)) this.#restartNow(rec);
      else {
        (this.#timers ??= new Map()).set(rec, setTimeout(this.#onBackoffTimer, delay, rec));
        if (this.#log.isLevelEnabled('debug')) this.#log.debug({ child: rec.spec.id, delayMs: delay }, 'child restart scheduled');
      }
    } else {
      const run = (): Promise<void> => this.#groupRestart(rec);
      this.#groupQueue = (this.#groupQueue ?? RESOLVED).then(run, run);
    }
  }

  readonly #onBackoffTimer = (rec: ChildRecord): void => {
    this.#timers?.delete(rec);
    if (this.#state === 'running' && rec.state === 'restarting' && this.#children.get(rec.spec.id) === rec) this.#restartNow(rec);
  };

  #restartNow(rec: ChildRecord): void {
    this.#countRestart(rec, false);
    const result = this.#launch(rec);
    if (result === undefined) return;
    if (result instanceof Error) this.#restartFailed(rec, result);
    else void result.then((error) => error !== undefined && this.#restartFailed(rec, error));
  }

  #countRestart(rec: ChildRecord, manual: boolean): void {
    rec.restartCount++;
    this.#env.metrics.restarts.inc(this.#labels);
    if (this.#log.isLevelEnabled('info')) this.#log.info({ child: rec.spec.id, restartCount: rec.restartCount, manual }, 'child restarted');
    this.#env.publish?.(
      'supervision.child.restarted',
      this.id,
      { supervisor: this.id, child: rec.spec.id, restartCount: rec.restartCount, manual },
      this.#correlation(rec, rec.restartCount - 1),
    );
  }

  /** A restart whose `start` failed is a new failure of that child. */
  #restartFailed(rec: ChildRecord, error: Error): void {
    this.#recordExit(rec, 'start-failure', error);
    // Through setImmediate, not recursion: a child whose start always throws with no backoff
    // would otherwise spin on one stack (or starve I/O in a microtask loop) until the intensity ends it.
    setImmediate(() => {
      if (rec.current === undefined && rec.state === 'failed') this.#childDown(rec, 'start-failure', error);
    });
  }

  /** one-for-all / rest-for-one: stop the group youngest first, wait the backoff, start it oldest first. */
  async #groupRestart(failed: ChildRecord): Promise<void> {
    try {
      if (this.#state !== 'running' || failed.state !== 'restarting' || this.#children.get(failed.spec.id) !== failed) return;
      const all = [...this.#children.values()];
      const from = this.#strategy === 'one-for-all' ? 0 : all.indexOf(failed);
      const group: ChildRecord[] = [];
      for (let i = from; i < all.length; i++) {
        const r = all[i]!;
        if (r === failed || r.state === 'running' || r.state === 'starting' || r.state === 'restarting') group.push(r);
      }
      for (let i = group.length - 1; i >= 0; i--) {
        const r = group[i]!;
        if (r !== failed && r.current !== undefined) {
          await this.#stopChild(r);
          if (r.spec.restart === 'temporary') {
            this.#forget(r);
            continue;
          }
        } else {
          this.#clearTimer(r);
        }
        r.state = 'restarting';
      }
      if (this.#state !== 'running') return;
      const delay = backoffDelay(backoffOf(failed.spec), nextAttempt(failed));
      if (delay > 0) await sleep(delay, this.#halt.signal);
      for (const r of group) {
        if (this.#state !== 'running') return;
        if (r.state !== 'restarting' || this.#children.get(r.spec.id) !== r) continue;
        this.#countRestart(r, false);
        let result: LaunchResult | Promise<LaunchResult> = this.#launch(r);
        if (result !== undefined && !(result instanceof Error)) result = await result;
        if (result !== undefined) {
          // The rest of the group stays 'restarting'; the next group restart picks it up.
          this.#recordExit(r, 'start-failure', result);
          this.#childDown(r, 'start-failure', result);
          return;
        }
      }
    } catch (error) {
      if (this.#state === 'running') this.#log.error({ err: error }, 'group restart failed');
    }
  }

  #giveUp(rec: ChildRecord, cause: unknown): void {
    const error = intensityExceeded(this.id, this.#intensity.intensity, this.#intensity.periodMs, rec.spec.id, cause);
    this.#env.metrics.escalations.inc(this.#labels);
    this.#log.error({ err: cause, child: rec.spec.id, intensity: this.#intensity.intensity, periodMs: this.#intensity.periodMs }, error.message);
    this.#env.publish?.(
      'supervision.escalated',
      this.id,
      { supervisor: this.id, child: rec.spec.id, intensity: this.#intensity.intensity, periodMs: this.#intensity.periodMs, error: messageOf(cause) },
      this.#correlation(rec),
    );
    this.#stopPromise ??= this.#shutdown('restart intensity exceeded', error, true);
  }

  // ── stopping ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Stops one child under its shutdown policy and reports its exit. The incarnation is detached
   * first, so its own `exited` reaction sees itself as stale and does not restart anything.
   */
  async #stopChild(rec: ChildRecord): Promise<void> {
    this.#clearTimer(rec);
    const incarnation = rec.current;
    if (incarnation === undefined) {
      if (rec.state !== 'failed' && rec.state !== 'stopping') rec.state = 'stopped';
      return;
    }
    rec.current = undefined;
    this.#detector?.remove(incarnation);
    const id = rec.spec.id;
    const handle = incarnation.handle;
    if (handle === undefined) {
      // Still in its async start: abandon it; #adopt stops whatever handle arrives later.
      incarnation.abort(childKilled(this.id, id, 'stopped while starting'));
      rec.state = 'stopped';
      this.#recordExit(rec, 'shutdown', undefined);
      return;
    }
    rec.state = 'stopping';
    const policy = shutdownOf(rec.spec);
    let killed: string | undefined;
    if (policy === 'brutal' || policy === 0) {
      killed = 'brutal shutdown';
    } else {
      const ended = await this.#waitForStop(id, handle, policy === 'infinity' ? undefined : policy);
      if (!ended) killed = policy === 'infinity' ? 'its supervisor was killed' : `it did not stop within ${policy} ms`;
    }
    if (killed !== undefined) {
      incarnation.abort(childKilled(this.id, id, killed));
      this.#env.metrics.forcedKills.inc(this.#labels);
      this.#log[killed === 'brutal shutdown' ? 'debug' : 'warn']({ child: id, shutdown: policy }, `child killed (forced): ${killed}`);
      this.#env.publish?.('supervision.child.killed', this.id, { supervisor: this.id, child: id, reason: killed }, this.#correlation(rec));
    }
    rec.state = 'stopped';
    this.#recordExit(rec, killed !== undefined ? 'killed' : 'shutdown', undefined);
  }

  /** Asks the child to stop; true when it ended (stop resolved or exited settled) in time. */
  async #waitForStop(id: string, handle: ChildHandle, timeoutMs: number | undefined): Promise<boolean> {
    const ended = new Promise<void>((resolve) => {
      const done = (): void => resolve();
      handle.exited.then(done, done);
      try {
        Promise.resolve(handle.stop()).then(resolve, (error: unknown) => {
          this.#log.warn({ err: error, child: id }, 'child stop() rejected; treating it as stopped');
          resolve();
        });
      } catch (error) {
        this.#log.warn({ err: error, child: id }, 'child stop() threw; treating it as stopped');
        resolve();
      }
    });
    try {
      await withDeadline(() => ended, { timeoutMs, signal: this.#kill.signal });
      return true;
    } catch {
      return false;
    }
  }

  #stopQuietly(id: string, handle: ChildHandle): void {
    try {
      Promise.resolve(handle.stop()).catch((error: unknown) => this.#log.warn({ err: error, child: id }, 'stop() of an abandoned child rejected'));
    } catch (error) {
      this.#log.warn({ err: error, child: id }, 'stop() of an abandoned child threw');
    }
  }

  async #shutdown(reason: string, failure: SupervisionError | undefined, escalate: boolean): Promise<void> {
    this.#state = 'stopping';
    this.#failure = failure;
    this.#halt.abort(new CancelledError(`supervisor '${this.id}' stopping: ${reason}`));
    this.#detector?.stop();
    this.#detector = undefined;
    if (this.#timers !== undefined) for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers = undefined;
    this.#log.info({ reason, children: this.#children.size }, 'supervisor stopping');
    const recs = [...this.#children.values()];
    for (let i = recs.length - 1; i >= 0; i--) {
      try {
        await this.#stopChild(recs[i]!);
      } catch (error) {
        this.#log.error({ err: error, child: recs[i]!.spec.id }, 'stopping a child failed');
      }
    }
    // A group restart in flight sees the state and returns; its own stop (if any) finishes first.
    if (this.#groupQueue !== undefined) await this.#groupQueue;
    this.#state = failure === undefined ? 'stopped' : 'failed';
    this.#ended = true;
    this.#log.info({ reason, state: this.#state }, 'supervisor stopped');
    this.#env.onEnded?.(this);
    this.#resolveStopped();
    this.#settleExited?.(failure);
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener !== undefined) {
      if (failure === undefined) listener.exited();
      else listener.crashed(failure);
    }
    if (escalate && failure !== undefined) this.#env.onGiveUp?.(this, failure);
  }

  // ── bookkeeping ──────────────────────────────────────────────────────────────────────────────

  #clearTimer(rec: ChildRecord): void {
    const timer = this.#timers?.get(rec);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.#timers!.delete(rec);
    }
  }

  #forget(rec: ChildRecord): void {
    if (this.#children.get(rec.spec.id) === rec) this.#children.delete(rec.spec.id);
  }

  #recordExit(rec: ChildRecord, reason: ExitReason, error: unknown): void {
    const child = rec.spec.id;
    let exitLabels = this.#exitLabels.get(reason);
    if (exitLabels === undefined) this.#exitLabels.set(reason, (exitLabels = Object.freeze({ supervisor: this.id, reason })));
    this.#env.metrics.exits.inc(exitLabels);
    const abnormal = reason === 'crash' || reason === 'start-failure' || reason === 'heartbeat-timeout';
    const level = abnormal ? 'warn' : 'debug';
    if (this.#log.isLevelEnabled(level)) {
      this.#log[level]({ child, reason, restartCount: rec.restartCount, ...(error !== undefined ? { err: error } : {}) }, `child exited (${reason})`);
    }
    this.#env.publish?.(
      'supervision.child.exited',
      this.id,
      { supervisor: this.id, child, reason, restartCount: rec.restartCount, ...(error !== undefined ? { error: messageOf(error) } : {}) },
      this.#correlation(rec),
    );
  }

  /**
   * Links the events of one incarnation of one child: its start, its exit, and the restart that
   * replaced it (which passes the incarnation number explicitly).
   */
  #correlation(rec: ChildRecord, incarnation: number = rec.restartCount): string {
    return `supervision:${this.id}:${rec.spec.id}:${incarnation}`;
  }
}
