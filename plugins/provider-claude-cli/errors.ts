/** Error codes of provider-claude-cli. Codes never change once published. */
export const ClaudeCliErrorCodes = {
  /** The executable was not found. */
  CLAUDE_CLI_NOT_FOUND: 'CLAUDE_CLI_NOT_FOUND',
  /** The model API answered with an error status (`context.status`); retryable for 429 and 5xx. */
  CLAUDE_CLI_API_ERROR: 'CLAUDE_CLI_API_ERROR',
  /** The CLI reported an error result without an API status (max turns, execution error). */
  CLAUDE_CLI_FAILED: 'CLAUDE_CLI_FAILED',
  /** The process ended without printing its result (a crash, a signal). */
  CLAUDE_CLI_CRASHED: 'CLAUDE_CLI_CRASHED',
  /** It printed something that is not its JSON result. */
  CLAUDE_CLI_BAD_OUTPUT: 'CLAUDE_CLI_BAD_OUTPUT',
  /** It wrote more than `maxOutputBytes`. */
  CLAUDE_CLI_OUTPUT_TOO_LARGE: 'CLAUDE_CLI_OUTPUT_TOO_LARGE',
  /** No result within `timeoutMs`: stopped with SIGTERM, then SIGKILL (retryable). */
  CLAUDE_CLI_TIMEOUT: 'CLAUDE_CLI_TIMEOUT',
  /** The agent is granted Mister Smith tools but there is no MCP endpoint to reach them. */
  CLAUDE_CLI_NO_MCP: 'CLAUDE_CLI_NO_MCP',
  /** The provider is stopping; no new process is started. */
  CLAUDE_CLI_STOPPED: 'CLAUDE_CLI_STOPPED',
} as const;
