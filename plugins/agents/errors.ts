import { AgentError } from '../../sdk/index.js';

/** Stable codes of the agents plugin. */
export const AgentErrorCodes = {
  /** No agent by that name is defined. */
  UNKNOWN_AGENT: 'AGENT_NOT_FOUND',
  /** Two agents with one name. */
  NAME_TAKEN: 'AGENT_NAME_TAKEN',
  /** The agent names a provider no loaded plugin registered. */
  UNKNOWN_PROVIDER: 'AGENT_PROVIDER_NOT_FOUND',
  /** The provider threw or answered something unusable. */
  PROVIDER_FAILED: 'AGENT_PROVIDER_FAILED',
  /** The model did not reply within `maxTurns` model calls. */
  MAX_TURNS: 'AGENT_MAX_TURNS',
  /** The run would exceed `budget.maxTokens` or `budget.maxToolCalls`. */
  BUDGET_EXCEEDED: 'AGENT_BUDGET_EXCEEDED',
  /** The run missed its deadline. */
  TIMEOUT: 'AGENT_TIMEOUT',
  /** The caller cancelled the run, or the system is stopping. */
  CANCELLED: 'AGENT_CANCELLED',
} as const;

export function agentError(code: (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes], message: string, context: Record<string, unknown> = {}, cause?: unknown): AgentError {
  return new AgentError(code, message, { context, ...(cause === undefined ? {} : { cause }), retryable: code === AgentErrorCodes.PROVIDER_FAILED || code === AgentErrorCodes.TIMEOUT });
}
