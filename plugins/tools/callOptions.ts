/**
 * Validation of `tools.call` options. A deadline can be shortened or lengthened, never removed: a
 * call whose deadline silently vanished (`timeoutMs: 0`, `NaN`, `-1`) outlived `kernel.stop`, and a
 * value past Node's timer range fired after 1 ms instead. So `timeoutMs` must be a number above 0;
 * `Infinity` and anything above {@link MAX_TIMEOUT_MS} mean "the longest deadline there is" and are
 * capped to it. The bus stopping still cancels every call in flight.
 */
import { isTraceparent, TRACEPARENT_PROBLEM } from '../../sdk/util/index.js';
import { ToolErrorCodes, toolError } from './errors.js';

/** The longest deadline a call can have: Node's largest timer delay (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** TOOL_INVALID_OPTIONS for `option`, showing the value and `reason`. */
function optionError(option: string, value: unknown, reason: string): Error {
  const shown = typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined ? String(value) : JSON.stringify(value) ?? typeof value;
  return toolError(ToolErrorCodes.INVALID_OPTIONS, `invalid call option ${option}: ${shown}; ${reason}`, { option, value: typeof value === 'object' && value !== null ? typeof value : value });
}

const invalid = (option: string, value: unknown, expected: string): Error => optionError(option, value, `expected ${expected}`);

/** Whether `value` is a usable deadline: a number above 0 (Infinity included, capped by {@link capTimeout}). */
export function isTimeout(value: unknown): value is number {
  return typeof value === 'number' && value > 0;
}

/** `timeoutMs`, capped to {@link MAX_TIMEOUT_MS}. */
export function capTimeout(timeoutMs: number): number {
  return timeoutMs > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : timeoutMs;
}

const TIMEOUT_EXPECTED = `a number of milliseconds above 0 (values above ${MAX_TIMEOUT_MS}, Infinity included, are capped to it; a deadline cannot be removed)`;

/** Throws `TOOL_INVALID_OPTIONS` naming the first malformed option. */
export function checkCallOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw invalid('options', options, 'an object or undefined');
  const o = options as Record<string, unknown>;
  if (o.timeoutMs !== undefined && !isTimeout(o.timeoutMs)) throw invalid('timeoutMs', o.timeoutMs, TIMEOUT_EXPECTED);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalid('signal', o.signal, 'an AbortSignal');
  if (o.callId !== undefined && (typeof o.callId !== 'string' || o.callId.length === 0)) throw invalid('callId', o.callId, 'a non-empty string');
  if (o.correlationId !== undefined && typeof o.correlationId !== 'string') throw invalid('correlationId', o.correlationId, 'a string');
  if (o.preApproved !== undefined && o.preApproved !== true) throw invalid('preApproved', o.preApproved, 'true or absent');
  // Checked here, once, so the handler, http.fetch's header and the events can trust it as it is.
  if (o.traceparent !== undefined && !isTraceparent(o.traceparent)) throw optionError('traceparent', o.traceparent, `it ${TRACEPARENT_PROBLEM}`);
  const chain = o.delegation;
  if (chain !== undefined) {
    if (!Array.isArray(chain)) throw invalid('delegation', chain, 'an array of agent ids');
    for (const agent of chain) if (typeof agent !== 'string' || agent.length === 0) throw invalid('delegation', chain, 'an array of agent ids');
  }
}

/** Checks a deadline given to the bus or a tool definition; throws what `error` makes. */
export function checkTimeoutSetting(value: unknown, error: (message: string) => Error): number {
  if (!isTimeout(value)) throw error(`timeoutMs ${String(value)} is not ${TIMEOUT_EXPECTED}`);
  return capTimeout(value);
}
