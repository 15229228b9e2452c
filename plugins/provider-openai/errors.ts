/** Error codes of provider-openai. Codes never change once published. */
export const OpenAIErrorCodes = {
  /** A non-2xx answer (`context.status`); retryable for 429, 408 and 5xx, with `retryAfterMs` from the server. */
  OPENAI_HTTP_ERROR: 'OPENAI_HTTP_ERROR',
  /** An `error` object in a 200 answer or in the stream; retryable when its type says server error, overload, rate limit or timeout. */
  OPENAI_API_ERROR: 'OPENAI_API_ERROR',
  /** No complete answer within `timeoutMs` (retryable). */
  OPENAI_TIMEOUT: 'OPENAI_TIMEOUT',
  /** The connection failed: refused, reset, DNS (retryable). */
  OPENAI_UNREACHABLE: 'OPENAI_UNREACHABLE',
  /** The connection dropped mid-answer, or a stream ended before `[DONE]`/`finish_reason` (retryable). */
  OPENAI_STREAM_INTERRUPTED: 'OPENAI_STREAM_INTERRUPTED',
  /** A body or streamed event that is not JSON, no `choices[0].message`, tool arguments that are not JSON. */
  OPENAI_BAD_RESPONSE: 'OPENAI_BAD_RESPONSE',
  /** `requireApiKey` and no key in `apiKey` or the `apiKeyEnv` variable. */
  OPENAI_API_KEY_MISSING: 'OPENAI_API_KEY_MISSING',
} as const;
