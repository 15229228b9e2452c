/**
 * Error codes of the tools plugin. Codes never change once published; every error is a `ToolError`
 * (kind `tool`) whose `context` names the agent, the tool and whatever else explains the failure.
 */
import { ToolError } from '../../sdk/index.js';

export const ToolErrorCodes = Object.freeze({
  /** The agent (or an agent up its delegation chain) has no grant for the name, or a deny matches. */
  ACCESS_DENIED: 'TOOL_ACCESS_DENIED',
  /** The agent may call the name, but no tool is registered under it. */
  NOT_FOUND: 'TOOL_NOT_FOUND',
  /** The input failed the tool's schema; every issue with its path is in the message and `context.issues`. */
  INVALID_INPUT: 'TOOL_INVALID_INPUT',
  /** The approval hook said `'deny'` (or a tap threw). */
  REJECTED: 'TOOL_REJECTED',
  /** The handler did not finish before its deadline. */
  TIMEOUT: 'TOOL_TIMEOUT',
  /** The caller's signal aborted, or the kernel stopped, while the call was in flight. */
  CANCELLED: 'TOOL_CANCELLED',
  /** The handler threw; the original error is the `cause`. */
  FAILED: 'TOOL_FAILED',
  /** The handler's result failed the tool's output schema. */
  INVALID_OUTPUT: 'TOOL_INVALID_OUTPUT',
  /** Malformed `tools.call` options (`context.option` names which): e.g. a `timeoutMs` that is not above 0. */
  INVALID_OPTIONS: 'TOOL_INVALID_OPTIONS',
  /** A `callId` reused (same agent and tool) with a different input than the call it first named. */
  IDEMPOTENCY_CONFLICT: 'TOOL_IDEMPOTENCY_CONFLICT',
  /** `register` with a name that is already registered. */
  NAME_TAKEN: 'TOOL_NAME_TAKEN',
  /** `register` with a name that is not dotted segments of `[A-Za-z][A-Za-z0-9_-]*`. */
  INVALID_NAME: 'TOOL_INVALID_NAME',
  /** `register` with a definition lacking a description, an input zod schema or a handler. */
  INVALID_DEFINITION: 'TOOL_INVALID_DEFINITION',
  /** A grant or deny pattern that is neither an exact name, `ns.*`, nor `*`. */
  INVALID_PATTERN: 'TOOL_INVALID_PATTERN',
} as const);

export type ToolErrorCode = (typeof ToolErrorCodes)[keyof typeof ToolErrorCodes];

/** A ToolError with one of the codes above. */
export function toolError(code: ToolErrorCode, message: string, context: Record<string, unknown>, cause?: unknown): ToolError {
  return new ToolError(code, message, cause === undefined ? { context } : { context, cause });
}
