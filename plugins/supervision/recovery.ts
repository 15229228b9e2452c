/**
 * The recovery policy the plugin taps into `hooks.fault`: error kind → decision, from the original system's
 * runtime error table mapped onto the kernel's decisions.
 */
import type { ErrorKind, Fault, RecoveryDecision } from '../../sdk/index.js';
import { SupervisionErrorCodes } from './errors.js';
import type { RecoveryTable } from './types.js';

/**
 * The original table, translated where the original system's action has no kernel decision: Reload → restart,
 * CircuitBreaker → retry (the breaker lives with the caller), Failover → escalate, the fallback
 * Retry{1, 100 ms} → retry.
 */
export const DEFAULT_RECOVERY: Readonly<Record<ErrorKind, RecoveryDecision>> = Object.freeze({
  runtime: 'restart',
  supervision: 'escalate',
  configuration: 'restart',
  resource: 'retry',
  network: 'retry',
  persistence: 'escalate',
  actor: 'retry',
  stream: 'retry',
  task: 'retry',
  event: 'retry',
  tool: 'retry',
  resilience: 'retry',
  agent: 'retry',
  cancelled: 'ignore',
  unknown: 'escalate',
});

/** The effective table: DEFAULT_RECOVERY with `overrides` on top. */
export function recoveryTable(overrides: RecoveryTable = {}): Readonly<Record<ErrorKind, RecoveryDecision>> {
  const table: Record<ErrorKind, RecoveryDecision> = { ...DEFAULT_RECOVERY };
  for (const [kind, decision] of Object.entries(overrides) as Array<[ErrorKind, RecoveryDecision | undefined]>) {
    if (decision !== undefined) table[kind] = decision;
  }
  return Object.freeze(table);
}

/** Whether a fault is a root supervision tree giving up (it has no parent but the kernel). */
export function isRootEscalation(fault: Fault): boolean {
  return fault.code === SupervisionErrorCodes.SUPERVISION_INTENSITY_EXCEEDED && fault.source.startsWith('supervisor:') && fault.context['root'] === true;
}

/**
 * The decision for a fault. 'escalate' means "hand it to the level above"; above a root tree there
 * is only the kernel, so there it becomes 'stop' (exit code 1). A critical fault stops the kernel
 * too (the kernel's own default) unless the table says to ignore its kind: restarting or retrying
 * "the runtime" from inside it is what the original system's runtime/restart row means, and the process
 * manager does that after a stop with exit code 1.
 */
export function decideRecovery(fault: Fault, table: Readonly<Record<ErrorKind, RecoveryDecision>>): RecoveryDecision {
  const decision = table[fault.kind] ?? table.unknown;
  if (decision === 'escalate' && isRootEscalation(fault)) return 'stop';
  if (fault.severity === 'critical' && decision !== 'ignore') return 'stop';
  return decision;
}
