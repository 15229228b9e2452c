/**
 * The CLI's result (`{"type":"result", …}`, the last JSON line of `--output-format json` and
 * `stream-json`) → a model response or a typed error. The CLI prints it on any exit code: an API
 * error exits 1 with `is_error: true` and `api_error_status`.
 */
import { AgentError, NetworkError } from '../../sdk/index.js';
import { isRetryableStatus } from '../../sdk/util/index.js';
import type { ModelResponse } from '../agents/types.js';
import { ClaudeCliErrorCodes } from './errors.js';

/** The fields of the result this provider reads. */
export interface CliResult {
  readonly type: 'result';
  readonly subtype?: string;
  readonly is_error?: boolean;
  readonly result?: string;
  readonly session_id?: string;
  readonly total_cost_usd?: number;
  readonly api_error_status?: number | null;
  readonly api_error_type?: string;
  readonly num_turns?: number;
  readonly usage?: { input_tokens?: number; output_tokens?: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
  readonly permission_denials?: ReadonlyArray<{ tool_name?: string }>;
}

/** A stdout line as JSON when it is an object, else undefined. */
export function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const isResult = (value: Record<string, unknown> | undefined): value is Record<string, unknown> & CliResult => value?.type === 'result';

/**
 * The response for a result. `costBefore` is what the session had cost before this call: the CLI
 * reports a resumed session's cumulative cost, and a response carries only its own.
 */
export function toResponse(command: string, r: CliResult, costBefore: number | undefined): ModelResponse {
  const status = typeof r.api_error_status === 'number' ? r.api_error_status : undefined;
  const context = { sessionId: r.session_id, subtype: r.subtype, ...(status !== undefined ? { status, type: r.api_error_type } : {}) };
  if (status !== undefined && (r.is_error === true || status >= 400)) {
    const retryable = isRetryableStatus(status);
    const hint = status === 401 || status === 403 ? ' (check ANTHROPIC_API_KEY or the CLI login; retrying will not help)' : '';
    throw new NetworkError(ClaudeCliErrorCodes.CLAUDE_CLI_API_ERROR, `${command}: the model API answered ${status}: ${r.result ?? r.api_error_type ?? ''}${hint}`.trim(), {
      retryable,
      severity: retryable ? 'low' : 'medium',
      context,
    });
  }
  if (r.is_error === true || typeof r.result !== 'string') {
    throw new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_FAILED, `${command} reported an error (${r.subtype ?? 'unknown'}): ${r.result ?? ''}`.trim(), { retryable: false, context });
  }
  const u = r.usage ?? {};
  const total = typeof r.total_cost_usd === 'number' ? r.total_cost_usd : undefined;
  const cost = total === undefined ? undefined : Math.max(0, total - (costBefore ?? 0));
  return {
    reply: r.result,
    usage: { inputTokens: (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0), outputTokens: u.output_tokens ?? 0 },
    ...(cost !== undefined ? { costUsd: cost } : {}),
    ...(typeof r.session_id === 'string' ? { providerSessionId: r.session_id } : {}),
  };
}
