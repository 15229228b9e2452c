/**
 * Public contract of the supervision plugin (DESIGN §4 "supervision"). Other plugins import these
 * types only (`import type`), and reach the service through `ctx.resolve('supervision')`.
 */
import type { BackoffOptions } from '../../sdk/index.js';

export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
/** permanent: always restarted; transient: only after an abnormal exit; temporary: never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';
/** ms to wait for `stop()`; 'brutal': abort at once; 'infinity': wait (supervisors only). */
export type ShutdownPolicy = number | 'brutal' | 'infinity';
export type ChildType = 'worker' | 'supervisor';
export type ChildState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

/** What `start(ctx)` receives. */
export interface ChildContext {
  readonly id: string;
  /** How many times this child was restarted so far (0 on the first start). */
  readonly restartCount: number;
  /** Aborted when the supervisor gives up on the child (forced kill, brutal shutdown). */
  readonly signal: AbortSignal;
  /** Reports liveness to the phi-accrual failure detector; a child that calls it and then falls silent is restarted. */
  heartbeat(): void;
}

/** A running child. */
export interface ChildHandle {
  /** Resolves when the child ends normally; rejects with the error when it crashes. */
  readonly exited: Promise<unknown>;
  /** Asks the child to end; resolves when it has. */
  stop(): Promise<void>;
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
  startChild(spec: ChildSpec): Promise<void>;
  terminateChild(id: string): Promise<void>;
  restartChild(id: string): Promise<void>;
  deleteChild(id: string): Promise<void>;
  whichChildren(): ChildInfo[];
  countChildren(): ChildCounts;
  stop(reason?: string): Promise<void>;
  /** Resolves when the supervisor has stopped (normally or after giving up). */
  readonly stopped: Promise<void>;
}

/** The `supervision` service. */
export interface SupervisionService {
  /** Starts a root supervision tree; rejects if its initial children cannot start. */
  start(spec: SupervisorSpec): Promise<Supervisor>;
  /** As a ChildSpec of type 'supervisor', to nest a tree under another supervisor. */
  supervisorChild(spec: SupervisorSpec, options?: Pick<ChildSpec, 'restart' | 'shutdown'>): ChildSpec;
  /** The root trees started so far. */
  roots(): Supervisor[];
}

declare module '../../sdk/index.js' {
  interface Services {
    supervision: SupervisionService;
  }
}
