import { AgentError } from '../../sdk/index.js';

/** Stable codes of the agents plugin. */
export const AgentErrorCodes = {
  /** No agent by that name is defined. */
  AGENT_NOT_FOUND: 'AGENT_NOT_FOUND',
  /** Two agents with one name. */
  AGENT_NAME_TAKEN: 'AGENT_NAME_TAKEN',
  /** The agent names a provider no loaded plugin registered. */
  AGENT_PROVIDER_NOT_FOUND: 'AGENT_PROVIDER_NOT_FOUND',
  /** Two providers with one name. */
  AGENT_PROVIDER_TAKEN: 'AGENT_PROVIDER_TAKEN',
  /** The provider threw or answered something unusable; `retryable` is the cause's. */
  AGENT_PROVIDER_FAILED: 'AGENT_PROVIDER_FAILED',
  /** The model did not reply within `maxTurns` model calls. */
  AGENT_MAX_TURNS: 'AGENT_MAX_TURNS',
  /** The run (or a sub-run, against an ancestor's budget) went over a budget; `context.budget` names it. */
  AGENT_BUDGET_EXCEEDED: 'AGENT_BUDGET_EXCEEDED',
  /** The run missed its deadline. */
  AGENT_TIMEOUT: 'AGENT_TIMEOUT',
  /** The run was cancelled (`agents.cancel`, the caller's signal, a cancelled parent). */
  AGENT_CANCELLED: 'AGENT_CANCELLED',
  /** The process is stopping: the run is left unfinished in the journal, to resume at the next start. */
  AGENT_INTERRUPTED: 'AGENT_INTERRUPTED',
  /** The agent's running slots and queue are full. */
  AGENT_BUSY: 'AGENT_BUSY',
  /** A run would call an agent already in its chain of parent runs. */
  AGENT_RECURSION: 'AGENT_RECURSION',
  /** The reply is not valid JSON for the agent's `output` schema, after one re-ask. */
  AGENT_OUTPUT_INVALID: 'AGENT_OUTPUT_INVALID',
  /** No run by that id. */
  AGENT_RUN_NOT_FOUND: 'AGENT_RUN_NOT_FOUND',
  /** `approve` for a call the run is not waiting on. */
  AGENT_APPROVAL_NOT_PENDING: 'AGENT_APPROVAL_NOT_PENDING',
  /** A run's actor kept crashing. */
  AGENT_CRASHED: 'AGENT_CRASHED',
  /** Bad input to a service method. */
  AGENT_BAD_INPUT: 'AGENT_BAD_INPUT',
  /** An agent definition that does not validate (a `ConfigError`; unknown keys included). */
  AGENT_INVALID_DEFINITION: 'AGENT_INVALID_DEFINITION',
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
    retryable: retryable ?? (code === AgentErrorCodes.AGENT_TIMEOUT || code === AgentErrorCodes.AGENT_BUSY),
  });
}
