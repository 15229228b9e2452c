/** Error codes of the health plugin. Codes never change once published. */
import { ConfigError } from '../../sdk/index.js';

export const HEALTH_ERROR_CODES = Object.freeze({
  /** A check did not finish within its `timeoutMs`; it is recorded as unhealthy `timed out after N ms`. */
  HEALTH_CHECK_TIMEOUT: 'HEALTH_CHECK_TIMEOUT',
  /** A check returned something that is not `{ status: 'healthy'|'degraded'|'unhealthy'|'unknown' }`. */
  HEALTH_CHECK_INVALID_RESULT: 'HEALTH_CHECK_INVALID_RESULT',
  /** `register` got a name that is already registered. */
  HEALTH_CHECK_CONFLICT: 'HEALTH_CHECK_CONFLICT',
  /** `run(name)` got a name that is not registered. */
  HEALTH_CHECK_NOT_FOUND: 'HEALTH_CHECK_NOT_FOUND',
  /** `register` got invalid options (non-positive timeout or interval, unknown kind, empty name). */
  HEALTH_INVALID_OPTIONS: 'HEALTH_INVALID_OPTIONS',
  /** The reason a running check's signal carries when the monitor stops. */
  HEALTH_STOPPED: 'HEALTH_STOPPED',
} as const);

/** A misuse of the health service (conflicting names, bad options, unknown checks). */
export class HealthError extends ConfigError {}
