/**
 * Every error code the kernel (lifecycle, config, container, hooks, metrics facade, CLI) throws.
 * Codes never change once published; keys equal their values so a code reads the same in source,
 * logs and docs. `docs/errors.md` is generated from these comments (`npm run docs:errors`).
 */
export const KernelErrorCodes = Object.freeze({
  /** A config file does not exist or cannot be read (or none was given and no default is in the directory). */
  CONFIG_FILE_NOT_FOUND: 'CONFIG_FILE_NOT_FOUND',
  /** A config file is not valid JSON, or a config module failed to load. */
  CONFIG_PARSE_FAILED: 'CONFIG_PARSE_FAILED',
  /** The configuration breaks a rule; the error lists every problem as `path: message`. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** A kernel method was called in a state that does not allow it (start twice, `onStart` after setup). */
  KERNEL_INVALID_STATE: 'KERNEL_INVALID_STATE',
  /** A plugin's setup or start failed or hit its deadline; started plugins were stopped in reverse order. */
  KERNEL_START_FAILED: 'KERNEL_START_FAILED',
  /** A lifecycle phase (setup, start) did not finish within `startTimeoutMs`. */
  KERNEL_PHASE_TIMEOUT: 'KERNEL_PHASE_TIMEOUT',
  /** A plugin did not stop within its share of `shutdownTimeoutMs`; the others were stopped anyway. */
  KERNEL_STOP_TIMEOUT: 'KERNEL_STOP_TIMEOUT',
  /** The reason handlers' signals carry when the kernel stops. */
  KERNEL_STOPPING: 'KERNEL_STOPPING',
  /** The kernel was stopped while it was still starting. */
  KERNEL_STOPPED: 'KERNEL_STOPPED',
  /** `kernel.settled()` timed out with tracked work still running. */
  KERNEL_SETTLE_TIMEOUT: 'KERNEL_SETTLE_TIMEOUT',
  /** Two plugins provide a service under one name. */
  KERNEL_SERVICE_CONFLICT: 'KERNEL_SERVICE_CONFLICT',
  /** A plugin resolved a service that no loaded plugin provides (or that is not in its `dependsOn`). */
  KERNEL_SERVICE_NOT_FOUND: 'KERNEL_SERVICE_NOT_FOUND',
  /**
   * A plugin resolved a service that a loaded plugin provides but that starts after it: the
   * provider must be in the requester's `dependsOn` (or `optionalDependsOn`, with `ctx.tryResolve`).
   */
  KERNEL_UNDECLARED_DEPENDENCY: 'KERNEL_UNDECLARED_DEPENDENCY',
  /** A tap on a kernel hook threw; the message names the hook and the tap. */
  KERNEL_HOOK_TAP_FAILED: 'KERNEL_HOOK_TAP_FAILED',
  /** A plugin called `process.exit()`; the kernel logged it and stopped what could be stopped. */
  KERNEL_PROCESS_EXIT: 'KERNEL_PROCESS_EXIT',
  /** A plugin CLI command failed or resolved to something that is not an exit code. */
  KERNEL_COMMAND_FAILED: 'KERNEL_COMMAND_FAILED',
  /** The CLI failed with an error that was not a Mister Smith error. */
  KERNEL_CLI_FAILED: 'KERNEL_CLI_FAILED',
  /** A metric was defined twice with another type or other labels. */
  METRIC_CONFLICT: 'METRIC_CONFLICT',
  /** A metric name is not `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  METRIC_INVALID_NAME: 'METRIC_INVALID_NAME',
} as const);

export type KernelErrorCode = (typeof KernelErrorCodes)[keyof typeof KernelErrorCodes];
