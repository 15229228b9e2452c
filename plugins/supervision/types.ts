/**
 * Public contract of the supervision plugin. Other plugins import these
 * types only (`import type`), and reach the service through `ctx.resolve('supervision')`.
 */
import type { BackoffOptions, ErrorKind, RecoveryDecision } from '../../sdk/index.js';

export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
/** permanent: always restarted; transient: only after an abnormal exit; temporary: never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';
/** ms to wait for `stop()`; 'brutal': abort at once; 'infinity': wait (supervisors only). */
export type ShutdownPolicy = number | 'brutal' | 'infinity';
export type ChildType = 'worker' | 'supervisor';
export type ChildState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';
/** A supervisor's own lifecycle; 'failed' means it gave up (intensity exceeded) or could not start. */
export type SupervisorState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
/**
 * Why a child's incarnation ended, as logged, counted (`reason` label) and published:
 * - `normal`: `exited` resolved on its own;
 * - `crash`: `exited` rejected;
 * - `start-failure`: `start()` threw, rejected, timed out or returned no valid handle;
 * - `heartbeat-timeout`: the phi-accrual detector declared it silent;
 * - `shutdown`: the supervisor stopped it and it ended within its `shutdown` policy;
 * - `killed`: the supervisor stopped waiting for it (deadline passed, or `'brutal'`) and aborted its signal.
 */
export type ExitReason = 'normal' | 'crash' | 'start-failure' | 'heartbeat-timeout' | 'shutdown' | 'killed';

/** What `start(ctx)` receives. */
export interface ChildContext {
  readonly id: string;
  /** How many times this child was restarted so far (0 on the first start). */
  readonly restartCount: number;
  /**
   * Aborted when the supervisor gives up on this incarnation: forced kill after the shutdown
   * deadline, 'brutal' shutdown, start timeout, heartbeat timeout. The reason is a SupervisionError
   * (SUPERVISION_CHILD_KILLED, SUPERVISION_START_TIMEOUT, SUPERVISION_HEARTBEAT_TIMEOUT…).
   */
  readonly signal: AbortSignal;
  /** Reports liveness to the phi-accrual failure detector; a child that calls it and then falls silent is restarted. */
  heartbeat(): void;
}

/**
 * Told once when a child ends. The supervisor hands one to `ChildHandle.watch` (it is the same
 * object as the child's `ctx`), so a child that implements `watch` costs its supervisor no promise
 * reaction and no closures.
 */
export interface ExitListener {
  /** The child ended normally (same meaning as `exited` resolving). */
  exited(value?: unknown): void;
  /** The child crashed (same meaning as `exited` rejecting). */
  crashed(error: unknown): void;
}

/** A running child. */
export interface ChildHandle {
  /** Resolves when the child ends normally; rejects with the error when it crashes. */
  readonly exited: Promise<unknown>;
  /** Asks the child to end; resolves when it has. */
  stop(): Promise<void>;
  /**
   * Optional fast path (children counted in the 100,000s such as
   * actors): when present, the supervisor calls it once instead of subscribing to `exited`, and
   * the child calls `listener.exited()` or `listener.crashed(error)` exactly once when it ends.
   * `exited` may then be a lazy getter: the supervisor reads it only while stopping the child.
   */
  watch?(listener: ExitListener): void;
}

export interface ChildSpec {
  readonly id: string;
  start(ctx: ChildContext): ChildHandle | Promise<ChildHandle>;
  /** Default 'permanent'. */
  readonly restart?: RestartType;
  /** Default 5000 for workers, 'infinity' for supervisors. */
  readonly shutdown?: ShutdownPolicy;
  /** Default 'worker'. */
  readonly type?: ChildType;
  /** Restart backoff; default { initialMs: 100, factor: 2, maxMs: 30000, jitter: 0.1 }. */
  readonly backoff?: Partial<BackoffOptions>;
  /** Deadline for `start` (default 5000 ms). */
  readonly startTimeoutMs?: number;
}

export interface SupervisorSpec {
  readonly id: string;
  /** Default 'one-for-one'. */
  readonly strategy?: Strategy;
  /** Restarts allowed within `periodMs` before the supervisor gives up (default 5). */
  readonly intensity?: number;
  /** Default 60000. */
  readonly periodMs?: number;
  readonly children?: readonly ChildSpec[];
}

/**
 * How a nested supervisor runs as a child of its parent (`Supervisor.startSupervisor`,
 * `SupervisionService.supervisorChild`).
 */
export interface NestedSupervisorOptions extends Pick<ChildSpec, 'restart' | 'shutdown' | 'startTimeoutMs' | 'backoff'> {
  /**
   * Called with each incarnation of the nested supervisor once its initial children are up: the
   * first one, and every new one its parent starts after a restart (the old object then stays
   * `failed`). A throw fails that start (the new supervisor is stopped again).
   */
  readonly onStart?: (supervisor: Supervisor) => void;
}

export interface ChildInfo {
  readonly id: string;
  readonly state: ChildState;
  readonly restartCount: number;
  readonly type: ChildType;
}

export interface ChildCounts {
  readonly specs: number;
  readonly active: number;
  readonly supervisors: number;
  readonly workers: number;
}

export interface Supervisor {
  readonly id: string;
  /** Where the supervisor is in its lifecycle (health and tests). */
  readonly state: SupervisorState;
  /**
   * Adds a child and starts it; resolves once its `start` returned a handle. Rejects with
   * SUPERVISION_DUPLICATE_CHILD, SUPERVISION_INVALID_CHILD_SPEC, SUPERVISION_NOT_RUNNING,
   * SUPERVISION_START_FAILED or SUPERVISION_START_TIMEOUT; a child that fails to start is not kept.
   */
  startChild(spec: ChildSpec): Promise<void>;
  /** Stops a child under its shutdown policy and keeps its spec (a temporary child's spec is deleted). */
  terminateChild(id: string): Promise<void>;
  /**
   * Starts a nested supervisor as a dynamic child of type 'supervisor' (child id = `spec.id`;
   * defaults `permanent`, shutdown `'infinity'`) and resolves to it once its initial children are
   * up. When it exceeds its intensity it stops its children and its end counts as a crash of this
   * child: this supervisor restarts it per `options.restart` (a new Supervisor from the same spec,
   * initial children only; see `onStart`) against its own intensity. Rejects as `startChild` does,
   * and with SUPERVISION_INVALID_SPEC for a bad spec.
   */
  startSupervisor(spec: SupervisorSpec, options?: NestedSupervisorOptions): Promise<Supervisor>;
  /** Stops the child if it runs, then starts it again; not counted against the intensity. */
  restartChild(id: string): Promise<void>;
  /** Forgets a terminated child's spec; rejects with SUPERVISION_CHILD_RUNNING while it runs. */
  deleteChild(id: string): Promise<void>;
  /** Every child in start order. */
  whichChildren(): ChildInfo[];
  countChildren(): ChildCounts;
  /** Stops every child in reverse start order, then the supervisor; idempotent. */
  stop(reason?: string): Promise<void>;
  /** Resolves when the supervisor has stopped (normally or after giving up). */
  readonly stopped: Promise<void>;
}

/** The `supervision` service. */
export interface SupervisionService {
  /** Starts a root supervision tree; rejects if its initial children cannot start. */
  start(spec: SupervisorSpec): Promise<Supervisor>;
  /** As a ChildSpec of type 'supervisor', to nest a tree under another supervisor. */
  supervisorChild(spec: SupervisorSpec, options?: NestedSupervisorOptions): ChildSpec;
  /** The root trees that are starting, running, stopping or failed (a tree stopped on purpose is dropped). */
  roots(): Supervisor[];
}

/** What the plugin's fault tap answers for a fault of a given error kind. */
export type RecoveryTable = Readonly<Partial<Record<ErrorKind, RecoveryDecision>>>;

declare module '../../sdk/index.js' {
  interface Services {
    supervision: SupervisionService;
  }
}
