/**
 * HTTP status → typed provider error. A retry can help only with 429, 5xx (529 "overloaded"
 * included), timeouts and dropped connections; 401/403 and other 4xx fail for good.
 * Shared by the HTTP model providers (OpenAI-compatible, Anthropic) so that every one of them
 * retries the same failures.
 */
import { NetworkError } from '../errors.js';

/** Whether a status is worth retrying. */
export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * The server's "wait this long" hint: `retry-after-ms` (milliseconds, sent by OpenAI and
 * Anthropic), else `Retry-After` (seconds or an HTTP date).
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The typed error for a non-2xx answer. */
export function httpStatusError(code: string, url: string, status: number, headers: Headers, detail: string, extra: Record<string, unknown> = {}): NetworkError {
  const retryable = isRetryableStatus(status);
  const wait = retryable ? retryAfterMs(headers) : undefined;
  const hint = status === 401 || status === 403 ? ' (check the API key and its permissions; retrying will not help)' : '';
  return new NetworkError(code, `${url} answered ${status}: ${detail}${hint}`, {
    retryable,
    severity: retryable ? 'low' : 'medium',
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    context: { status, ...extra },
  });
}

/**
 * An error response's body as text, and parsed when it is JSON. A body that cannot be read is ''
 * (the status says enough); one that is not JSON leaves `json` undefined.
 */
export async function readErrorBody(res: Response): Promise<{ readonly text: string; readonly json: unknown }> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The status says enough.
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: the raw text is the detail.
  }
  return { text, json };
}
