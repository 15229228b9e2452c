/** Error codes of the mcp plugin. Codes never change once published. */
export const McpErrorCodes = {
  /** `issueToken` without the http plugin started. */
  MCP_HTTP_UNAVAILABLE: 'MCP_HTTP_UNAVAILABLE',
  /** An external server could not be started or connected to (at kernel start). */
  MCP_SERVER_START_FAILED: 'MCP_SERVER_START_FAILED',
  /** A call to an imported tool while its server is down (retryable: the supervisor restarts it). */
  MCP_SERVER_UNAVAILABLE: 'MCP_SERVER_UNAVAILABLE',
  /** An imported tool answered with `isError`. */
  MCP_TOOL_FAILED: 'MCP_TOOL_FAILED',
  /** The external server's connection failed during a call. */
  MCP_CALL_FAILED: 'MCP_CALL_FAILED',
  /** Bad command line of `mister-smith mcp`. */
  MCP_BAD_USAGE: 'MCP_BAD_USAGE',
} as const;
