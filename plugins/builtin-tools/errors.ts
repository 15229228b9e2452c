/**
 * Error codes of the built-in tools, in addition to the bus's own (`TOOL_FAILED` and friends).
 * Handlers throw these as `ToolError`s; the bus passes them to the caller unchanged.
 */
import { ToolError } from '../../sdk/index.js';

export const BuiltinToolErrorCodes = Object.freeze({
  /** An fs path is absolute, has a `..` segment, or resolves (through a symlink) outside `fs.root`. */
  PATH_OUTSIDE_ROOT: 'TOOL_PATH_OUTSIDE_ROOT',
  /** An http.fetch URL (or a redirect) names a host not in `http.allowHosts`, or a scheme other than http(s). */
  HOST_NOT_ALLOWED: 'TOOL_HOST_NOT_ALLOWED',
  /**
   * An fs path names a FIFO, socket, device (or a folder where a file is expected, a file where a
   * folder is): refused before any blocking I/O. `context.type` says what it is, `context.expected` what was wanted.
   */
  WRONG_FILE_TYPE: 'TOOL_WRONG_FILE_TYPE',
  /** A file or response body is larger than `maxBytes`. */
  TOO_LARGE: 'TOOL_TOO_LARGE',
} as const);

export type BuiltinToolErrorCode = (typeof BuiltinToolErrorCodes)[keyof typeof BuiltinToolErrorCodes];

export function builtinError(code: BuiltinToolErrorCode, message: string, context: Record<string, unknown>, cause?: unknown): ToolError {
  return new ToolError(code, message, cause === undefined ? { context } : { context, cause });
}
