/** Error codes of provider-anthropic. Codes never change once published. */
export const AnthropicErrorCodes = {
  /** A non-2xx answer (`context.status`, `context.type`); retryable for 429, 408 and 5xx (529 included), with `retryAfterMs` from the server. */
  ANTHROPIC_HTTP_ERROR: 'ANTHROPIC_HTTP_ERROR',
  /** An `error` event in a stream or an error body with status 200; retryable for overloaded, api, rate-limit and timeout errors. */
  ANTHROPIC_API_ERROR: 'ANTHROPIC_API_ERROR',
  /** No complete answer within `timeoutMs` (retryable). */
  ANTHROPIC_TIMEOUT: 'ANTHROPIC_TIMEOUT',
  /** The connection failed (retryable). */
  ANTHROPIC_UNREACHABLE: 'ANTHROPIC_UNREACHABLE',
  /** The connection dropped mid-answer, or the stream ended before `message_stop` (retryable). */
  ANTHROPIC_STREAM_INTERRUPTED: 'ANTHROPIC_STREAM_INTERRUPTED',
  /** A body or event that is not JSON, no `content` array, tool input that is not JSON. */
  ANTHROPIC_BAD_RESPONSE: 'ANTHROPIC_BAD_RESPONSE',
  /** `requireApiKey` and no key in `apiKey` or the `apiKeyEnv` variable. */
  ANTHROPIC_API_KEY_MISSING: 'ANTHROPIC_API_KEY_MISSING',
} as const;
