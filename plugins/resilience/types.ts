/** Public contract of the resilience plugin (DESIGN §4). The resilience helper owns this file and may add to it. */
export interface ExecuteContext {
  /** Aborted when the attempt times out or the caller cancels. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface ExecuteOptions {
  readonly signal?: AbortSignal;
}

export interface Policy {
  readonly name: string;
  execute<T>(fn: (ctx: ExecuteContext) => T | Promise<T>, options?: ExecuteOptions): Promise<T>;
}

/** The `resilience` service. */
export interface ResilienceService {
  /** A named policy from the plugin options; throws RESILIENCE_UNKNOWN_POLICY for an unknown name. */
  policy(name: string): Policy;
  has(name: string): boolean;
}

declare module '../../sdk/index.js' {
  interface Services {
    resilience: ResilienceService;
  }
}
