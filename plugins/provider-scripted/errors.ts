/** Stable codes of the scripted provider. */
export const ScriptedErrorCodes = {
  /** No script for the agent's model. */
  SCRIPT_NOT_FOUND: 'SCRIPT_NOT_FOUND',
  /** The run asked for a turn past the end of its script. */
  SCRIPT_EXHAUSTED: 'SCRIPT_EXHAUSTED',
  /** No alternative of the turn matches the last message, and none is a default. */
  SCRIPT_NO_MATCH: 'SCRIPT_NO_MATCH',
  /** A step with `fail` (unless it names its own `code`). */
  SCRIPT_STEP_FAILED: 'SCRIPT_STEP_FAILED',
} as const;
