import { AgentError } from '../../sdk/index.js';

/** Stable codes of the agents plugin. */
export const AgentErrorCodes = {
  /** No agent by that name is defined. */
  UNKNOWN_AGENT: 'AGENT_NOT_FOUND',
  /** Two agents with one name. */
  NAME_TAKEN: 'AGENT_NAME_TAKEN',
  /** The agent names a provider no loaded plugin registered. */
  UNKNOWN_PROVIDER: 'AGENT_PROVIDER_NOT_FOUND',
  /** Two providers with one name. */
  PROVIDER_TAKEN: 'AGENT_PROVIDER_TAKEN',
  /** The provider threw or answered something unusable; `retryable` is the cause's. */
  PROVIDER_FAILED: 'AGENT_PROVIDER_FAILED',
  /** The model did not reply within `maxTurns` model calls. */
  MAX_TURNS: 'AGENT_MAX_TURNS',
  /** The run (or a sub-run, against an ancestor's budget) went over a budget; `context.budget` names it. */
  BUDGET_EXCEEDED: 'AGENT_BUDGET_EXCEEDED',
  /** The run missed its deadline. */
  TIMEOUT: 'AGENT_TIMEOUT',
  /** The run was cancelled (`agents.cancel`, the caller's signal, a cancelled parent). */
  CANCELLED: 'AGENT_CANCELLED',
  /** The process is stopping: the run is left unfinished in the journal, to resume at the next start. */
  INTERRUPTED: 'AGENT_INTERRUPTED',
  /** The agent's running slots and queue are full. */
  BUSY: 'AGENT_BUSY',
  /** A run would call an agent already in its chain of parent runs. */
  RECURSION: 'AGENT_RECURSION',
  /** The reply is not valid JSON for the agent's `output` schema, after one re-ask. */
  OUTPUT_INVALID: 'AGENT_OUTPUT_INVALID',
  /** No run by that id. */
  RUN_NOT_FOUND: 'AGENT_RUN_NOT_FOUND',
  /** `approve` for a call the run is not waiting on. */
  NOT_PENDING: 'AGENT_APPROVAL_NOT_PENDING',
  /** A run's actor kept crashing. */
  CRASHED: 'AGENT_CRASHED',
  /** Bad input to a service method. */
  BAD_INPUT: 'AGENT_BAD_INPUT',
} as const;

export type AgentErrorCode = (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes];

/** What the model sees as a tool result for a call whose outcome the journal cannot tell. */
export const TOOL_OUTCOME_UNKNOWN = 'TOOL_OUTCOME_UNKNOWN';
/** What the model sees for a call a human denied. */
export const TOOL_REJECTED = 'TOOL_REJECTED';

export function agentError(code: AgentErrorCode, message: string, context: Record<string, unknown> = {}, cause?: unknown, retryable?: boolean): AgentError {
  return new AgentError(code, message, {
    context,
    ...(cause === undefined ? {} : { cause }),
    retryable: retryable ?? (code === AgentErrorCodes.TIMEOUT || code === AgentErrorCodes.BUSY),
  });
}
