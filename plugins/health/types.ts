/**
 * Public contract of the health plugin (DESIGN §4). The health helper owns this file and may add to
 * it; other plugins register checks through `ctx.tryResolve('health')?.register(...)`.
 */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

export interface CheckResult {
  readonly status: HealthStatus;
  readonly message?: string;
  readonly details?: Record<string, unknown>;
}

/** A check; it gets a signal aborted at its timeout. */
export type HealthCheck = (signal: AbortSignal) => CheckResult | Promise<CheckResult>;

export interface CheckOptions {
  /** Default 5000. */
  readonly timeoutMs?: number;
  /** Default: the plugin's intervalMs (30000). */
  readonly intervalMs?: number;
  /** A critical ready check that is unhealthy makes /readyz 503. Default false. */
  readonly critical?: boolean;
  /** Default 'ready'. */
  readonly kind?: 'live' | 'ready';
}

/** The `health` service. */
export interface HealthService {
  /** Returns a function that unregisters the check. */
  register(name: string, check: HealthCheck, options?: CheckOptions): () => void;
}

declare module '../../sdk/index.js' {
  interface Services {
    health: HealthService;
  }
}
