/**
 * The error taxonomy every part of Mister Smith speaks.
 *
 * An error has a stable `code` (never changes once published), a `kind` (which subsystem's rules
 * apply), a `severity` and whether retrying can help. The kind → severity → recovery table follows the
 * original system's runtime error model, so recovery plugins and resilience policies
 * decide from data instead of from `instanceof` chains.
 */
import { messageOf } from './util/messageOf.js';

/**
 * The SDK's own codes: what `TimeoutError` and `CancelledError` carry by default, and what `classify`
 * gives errors that are not Mister Smith errors (Node system codes such as `ECONNRESET` pass through).
 */
export const SdkErrorCodes = Object.freeze({
  /** Something did not finish in time (a `TimeoutError`, a DOM `TimeoutError` from `AbortSignal.timeout`). */
  TIMEOUT: 'TIMEOUT',
  /** The operation was cancelled (a `CancelledError`, an `AbortError`). */
  CANCELLED: 'CANCELLED',
  /** A zod schema rejected a value. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** Anything else thrown that carries no code `classify` knows. */
  UNKNOWN: 'UNKNOWN',
} as const);

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export type ErrorKind =
  | 'runtime'
  | 'supervision'
  | 'configuration'
  | 'resource'
  | 'network'
  | 'persistence'
  | 'actor'
  | 'stream'
  | 'task'
  | 'event'
  | 'tool'
  | 'resilience'
  | 'agent'
  | 'cancelled'
  | 'unknown';

/** What a recovery policy should do with a failure of some kind. */
export type RecoveryAction =
  | { readonly action: 'restart' }
  | { readonly action: 'escalate' }
  | { readonly action: 'reload' }
  | { readonly action: 'retry'; readonly maxAttempts: number; readonly delayMs: number }
  | { readonly action: 'circuit-breaker' }
  | { readonly action: 'failover' }
  | { readonly action: 'ignore' };

export interface KindDefaults {
  readonly severity: Severity;
  readonly retryable: boolean;
  readonly recovery: RecoveryAction;
}

const FALLBACK_RETRY: RecoveryAction = { action: 'retry', maxAttempts: 1, delayMs: 100 };

/**
 * Defaults per kind, from the runtime error table: runtime critical/restart, supervision
 * high/escalate, configuration medium/reload, resource medium/retry(3, 1 s), network low/circuit
 * breaker, persistence high/failover, and the rest with the fallback retry(1, 100 ms).
 */
export const ERROR_KIND_DEFAULTS: Readonly<Record<ErrorKind, KindDefaults>> = Object.freeze({
  runtime: { severity: 'critical', retryable: false, recovery: { action: 'restart' } },
  supervision: { severity: 'high', retryable: false, recovery: { action: 'escalate' } },
  configuration: { severity: 'medium', retryable: false, recovery: { action: 'reload' } },
  resource: { severity: 'medium', retryable: true, recovery: { action: 'retry', maxAttempts: 3, delayMs: 1000 } },
  network: { severity: 'low', retryable: true, recovery: { action: 'circuit-breaker' } },
  persistence: { severity: 'high', retryable: false, recovery: { action: 'failover' } },
  actor: { severity: 'medium', retryable: false, recovery: FALLBACK_RETRY },
  stream: { severity: 'medium', retryable: false, recovery: FALLBACK_RETRY },
  task: { severity: 'low', retryable: false, recovery: FALLBACK_RETRY },
  event: { severity: 'low', retryable: false, recovery: FALLBACK_RETRY },
  tool: { severity: 'low', retryable: false, recovery: FALLBACK_RETRY },
  resilience: { severity: 'medium', retryable: false, recovery: FALLBACK_RETRY },
  agent: { severity: 'medium', retryable: false, recovery: FALLBACK_RETRY },
  cancelled: { severity: 'low', retryable: false, recovery: { action: 'ignore' } },
  unknown: { severity: 'high', retryable: false, recovery: { action: 'escalate' } },
});

export interface MisterSmithErrorOptions {
  readonly kind?: ErrorKind;
  readonly severity?: Severity;
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
  readonly context?: Readonly<Record<string, unknown>>;
}

/** The base of every error the framework throws on purpose. */
export class MisterSmithError extends Error {
  /** Stable, documented identifier (`ACTOR_MAILBOX_FULL`). */
  readonly code: string;
  readonly kind: ErrorKind;
  readonly severity: Severity;
  readonly retryable: boolean;
  /** A hint from the failing side: do not retry before this many milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** Values that help a human or a policy understand the failure (ids, limits, paths). */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: MisterSmithErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const kind = options.kind ?? 'unknown';
    const defaults = ERROR_KIND_DEFAULTS[kind];
    this.name = new.target.name;
    this.code = code;
    this.kind = kind;
    this.severity = options.severity ?? defaults.severity;
    this.retryable = options.retryable ?? defaults.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      kind: this.kind,
      severity: this.severity,
      retryable: this.retryable,
      message: this.message,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      context: this.context,
    };
  }
}

type KindOptions = Omit<MisterSmithErrorOptions, 'kind'>;

function kindError(kind: ErrorKind) {
  return class extends MisterSmithError {
    constructor(code: string, message: string, options: KindOptions = {}) {
      super(code, message, { ...options, kind });
    }
  };
}

/** Kernel lifecycle failures (start, stop, hooks). */
export class KernelError extends kindError('runtime') {}
/** Bad configuration or plugin definitions; carries every problem found. */
export class ConfigError extends kindError('configuration') {
  /** Each problem as `path: message`. */
  readonly problems: readonly string[];
  constructor(code: string, message: string, problems: readonly string[] = [], options: KindOptions = {}) {
    super(code, problems.length > 0 ? `${message}\n  - ${problems.join('\n  - ')}` : message, options);
    this.problems = problems;
  }
}
export class SupervisionError extends kindError('supervision') {}
export class ResourceError extends kindError('resource') {}
export class NetworkError extends kindError('network') {}
export class PersistenceError extends kindError('persistence') {}
export class ActorError extends kindError('actor') {}
export class StreamError extends kindError('stream') {}
export class TaskError extends kindError('task') {}
export class EventError extends kindError('event') {}
export class ToolError extends kindError('tool') {}
export class ResilienceError extends kindError('resilience') {}
export class AgentError extends kindError('agent') {}

/** Thrown where a wait ends because its deadline passed. */
export class TimeoutError extends MisterSmithError {
  constructor(message: string, options: KindOptions & { code?: string } = {}) {
    super(options.code ?? SdkErrorCodes.TIMEOUT, message, { ...options, kind: 'resource', retryable: options.retryable ?? true });
  }
}

/** Thrown where a wait ends because its AbortSignal fired. */
export class CancelledError extends MisterSmithError {
  constructor(message = 'operation cancelled', options: KindOptions & { code?: string } = {}) {
    super(options.code ?? SdkErrorCodes.CANCELLED, message, { ...options, kind: 'cancelled' });
  }
}

/** What `classify` tells about anything that was thrown. */
export interface Classification {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly severity: Severity;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly recovery: RecoveryAction;
  readonly message: string;
}

/** Node system error codes that mean "the other side or the network hiccupped": retry helps. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
/** Exhausted local resources: may clear up, so retry after a pause. */
const RESOURCE_CODES = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EBUSY', 'ENOSPC']);
/** Storage problems a retry will not fix. */
const PERSISTENCE_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EROFS', 'EIO']);

function fromKind(code: string, kind: ErrorKind, message: string, retryable?: boolean): Classification {
  const d = ERROR_KIND_DEFAULTS[kind];
  return { code, kind, severity: d.severity, retryable: retryable ?? d.retryable, retryAfterMs: undefined, recovery: d.recovery, message };
}

/**
 * Maps anything thrown — a MisterSmithError, a Node system error, an abort, a zod error, a string —
 * to kind, severity and retryability, so policies never need to know who threw it.
 */
export function classify(error: unknown): Classification {
  if (error instanceof MisterSmithError) {
    return {
      code: error.code,
      kind: error.kind,
      severity: error.severity,
      retryable: error.retryable,
      retryAfterMs: error.retryAfterMs,
      recovery: ERROR_KIND_DEFAULTS[error.kind].recovery,
      message: error.message,
    };
  }
  const message = messageOf(error);
  if (error !== null && typeof error === 'object') {
    const e = error as { name?: unknown; code?: unknown; issues?: unknown };
    if (e.name === 'AbortError') return fromKind(SdkErrorCodes.CANCELLED, 'cancelled', message);
    if (e.name === 'TimeoutError') return fromKind(SdkErrorCodes.TIMEOUT, 'network', message, true);
    if (e.name === 'ZodError' || (e.name === '$ZodError' && Array.isArray(e.issues))) {
      return fromKind(SdkErrorCodes.VALIDATION_FAILED, 'configuration', message, false);
    }
    if (typeof e.code === 'string') {
      if (TRANSIENT_NETWORK_CODES.has(e.code)) return fromKind(e.code, 'network', message, true);
      if (RESOURCE_CODES.has(e.code)) return fromKind(e.code, 'resource', message, true);
      if (PERSISTENCE_CODES.has(e.code)) return fromKind(e.code, 'persistence', message, false);
    }
  }
  return fromKind(SdkErrorCodes.UNKNOWN, 'unknown', message);
}

/** Normalises anything thrown into an `Error` (strings and plain objects become `Error`s). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  const err = new Error(messageOf(value));
  (err as Error & { thrown?: unknown }).thrown = value;
  return err;
}
