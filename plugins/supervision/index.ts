/** The supervision plugin: OTP-style supervision trees and the kernel's fault recovery policy. */
import { definePlugin } from '../../sdk/index.js';
import { SupervisionOptionsSchema } from './options.js';
import { decideRecovery, recoveryTable } from './recovery.js';
import { Supervision } from './Supervision.js';

export default definePlugin({
  name: 'supervision',
  version: '1.0.0',
  description: 'OTP-style supervision trees for anything startable; taps hooks.fault with the recovery table',
  optionalDependsOn: ['events', 'health'],
  options: SupervisionOptionsSchema,
  setup(ctx) {
    const service = new Supervision({
      logger: ctx.logger,
      metrics: ctx.metrics,
      options: ctx.options,
      events: ctx.tryResolve('events'),
      health: ctx.options.healthChecks ? ctx.tryResolve('health') : undefined,
      reportFault: (report) => ctx.reportFault(report),
    });
    ctx.provide('supervision', service);
    const table = recoveryTable(ctx.options.recovery);
    ctx.hooks.fault.tap('supervision', (fault) => decideRecovery(fault, table));
    ctx.onStop((signal) => service.stopAll('kernel stopping', signal));
  },
});

export { SupervisionErrorCodes } from './errors.js';
export type { SupervisionErrorCode } from './errors.js';
export { FailureDetector, phi, PHI_CAP } from './FailureDetector.js';
export type { FailureDetectorOptions } from './FailureDetector.js';
export { SupervisionOptionsSchema } from './options.js';
export type { SupervisionOptions } from './options.js';
export { DEFAULT_RECOVERY, decideRecovery, isRootEscalation, recoveryTable } from './recovery.js';
export { RestartIntensity } from './RestartIntensity.js';
export { Supervision, treeHealth } from './Supervision.js';
export type { SupervisionDeps } from './Supervision.js';
export { DEFAULT_START_TIMEOUT_MS, DEFAULT_WORKER_SHUTDOWN_MS, SupervisorNode } from './SupervisorNode.js';
export type { SupervisionMetrics, SupervisorEnv } from './SupervisorNode.js';
export { validateChildSpec, validateSupervisorSpec } from './validateSpec.js';
export type {
  ChildContext,
  ChildCounts,
  ChildHandle,
  ChildInfo,
  ChildSpec,
  ChildState,
  ChildType,
  ExitListener,
  ExitReason,
  NestedSupervisorOptions,
  RecoveryTable,
  RestartType,
  ShutdownPolicy,
  Strategy,
  SupervisionService,
  Supervisor,
  SupervisorSpec,
  SupervisorState,
} from './types.js';
