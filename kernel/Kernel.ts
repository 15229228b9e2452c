/**
 * The microkernel: lifecycle, container, hooks, faults. It knows nothing about actors or tools;
 * everything it runs is a plugin.
 *
 * A little over 500 lines on purpose: start, stop, rollback, tracked work and `check`'s dry run
 * all walk the same private plugin records; the parts that need no record live beside it
 * (Timeline, ServiceContainer, setupProblems, createKernelHooks).
 */
import type { Logger } from 'pino';
import {
  classify,
  KernelError,
  toError,
  type Disposer,
  type Fault,
  type FaultReport,
  type KernelHooks,
  type KernelState,
  type LifecycleHandler,
  type LoadedPlugin,
  type PluginContext,
  type ProvideOptions,
  type RecoveryDecision,
  type Services,
} from '../sdk/index.js';
import type { KernelConfig } from './config.js';
import { createKernelHooks } from './createKernelHooks.js';
import type { ResolvedPlugin, SkippedPlugin } from './loader.js';
import { MetricsFacade } from './MetricsFacade.js';
import { ServiceContainer } from './ServiceContainer.js';
import { missingServiceError, type SetupOutcome } from './setupProblems.js';
import { Timeline, type PhaseRecord } from './Timeline.js';
import { abortReason, isThenable, withDeadline } from '../sdk/util/index.js';
import { KernelErrorCodes } from './errors.js';

/** After this long a plugin's stop is logged as being waited for, then every SLOW_STOP_REPEAT_MS. */
const SLOW_STOP_NOTICE_MS = 1_000;
const SLOW_STOP_REPEAT_MS = 5_000;

type PluginStatus = 'loaded' | 'set-up' | 'starting' | 'started' | 'stopped' | 'failed';

interface PluginRecord {
  readonly plugin: ResolvedPlugin;
  readonly info: LoadedPlugin;
  readonly logger: Logger;
  readonly startHandlers: LifecycleHandler[];
  readonly stopHandlers: LifecycleHandler[];
  status: PluginStatus;
}

export interface KernelInit {
  readonly config: KernelConfig;
  readonly plugins: readonly ResolvedPlugin[];
  readonly configDir: string;
  readonly logger: Logger;
  /** Optional plugins left out because they are not installed; logged at start. */
  readonly skipped?: readonly SkippedPlugin[];
}

/** What `stop()` resolves to: why it stopped and what went wrong on the way (nothing is skipped). */
export interface StopReport {
  readonly reason: string;
  readonly errors: readonly Error[];
}

export interface SettledOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** A running (or runnable) Mister Smith system. Create it with `createKernel`. */
export class Kernel {
  readonly hooks: KernelHooks = createKernelHooks();
  readonly metrics = new MetricsFacade();
  readonly config: KernelConfig;
  readonly logger: Logger;
  readonly configDir: string;
  readonly container = new ServiceContainer();
  /** 0 after a clean run; 1 after a critical fault or failed tracked work. */
  exitCode = 0;

  #state: KernelState = 'created';
  readonly #records: PluginRecord[];
  readonly #timeline = new Timeline();
  readonly #stopping = new AbortController();
  readonly #tracked = new Set<Promise<unknown>>();
  #trackedFailures = 0;
  readonly #skipped: readonly SkippedPlugin[];
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<StopReport> | undefined;

  constructor(init: KernelInit) {
    this.config = init.config;
    this.logger = init.logger;
    this.configDir = init.configDir;
    this.#skipped = init.skipped ?? [];
    this.#records = init.plugins.map((plugin) => ({
      plugin,
      info: Object.freeze({
        name: plugin.name,
        version: plugin.definition.version,
        dependsOn: plugin.definition.dependsOn ?? [],
        optionalDependsOn: plugin.definition.optionalDependsOn ?? [],
        optional: plugin.optional,
        source: plugin.source,
      }),
      logger: init.logger.child({ plugin: plugin.name }),
      startHandlers: [],
      stopHandlers: [],
      status: 'loaded' as PluginStatus,
    }));
    // The kernel's own tap: a backend announced by a plugin receives every facade metric.
    this.hooks.metricsBackend.tap('kernel', (backend) => this.metrics.attach(backend));
  }

  get state(): KernelState {
    return this.#state;
  }

  /** Aborted when the kernel starts stopping. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  /** The plugins in start order. */
  get plugins(): readonly LoadedPlugin[] {
    return this.#records.map((r) => r.info);
  }

  /** Boot and shutdown as data: each plugin's setup, start and stop with durations and errors. */
  timeline(): readonly PhaseRecord[] {
    return this.#timeline.records();
  }

  resolve<K extends keyof Services>(name: K): Services[K];
  resolve<T>(name: string): T;
  resolve(name: string): unknown {
    return this.container.resolve(name, 'kernel');
  }

  tryResolve<K extends keyof Services>(name: K): Services[K] | undefined;
  tryResolve<T>(name: string): T | undefined;
  tryResolve(name: string): unknown {
    return this.container.tryResolve(name);
  }

  /** created → starting → running. Rejects (state `failed`) naming the plugin that failed. */
  start(): Promise<void> {
    // While starting or running (or after a failed start) the one start is the answer; once the
    // kernel stops it cannot start again, and saying so beats resolving as if it were running.
    if (this.#startPromise !== undefined && this.#state !== 'stopping' && this.#state !== 'stopped') return this.#startPromise;
    if (this.#state !== 'created') {
      return Promise.reject(new KernelError(KernelErrorCodes.KERNEL_INVALID_STATE, `cannot start a kernel in state '${this.#state}'`));
    }
    this.#startPromise = this.#start();
    return this.#startPromise;
  }

  /** running → stopping → stopped. Idempotent: a second call returns the same promise. */
  stop(reason = 'requested'): Promise<StopReport> {
    if (this.#stopPromise !== undefined) return this.#stopPromise;
    this.#stopPromise = this.#stop(reason);
    return this.#stopPromise;
  }

  /**
   * Reports a fault to the `fault` hook. With no decision from any tap, a `critical` fault stops
   * the kernel (exit code 1) and anything else is logged.
   */
  async reportFault(report: FaultReport | Error, defaultSource = 'kernel'): Promise<RecoveryDecision | undefined> {
    const input: FaultReport = report instanceof Error ? { error: report } : report;
    const error = toError(input.error);
    const classification = classify(input.error);
    const fault: Fault = Object.freeze({
      source: input.source ?? defaultSource,
      error,
      code: classification.code,
      kind: input.kind ?? classification.kind,
      severity: input.severity ?? classification.severity,
      retryable: classification.retryable,
      message: classification.message,
      time: new Date(),
      context: input.context ?? {},
    });
    let decision: RecoveryDecision | undefined;
    try {
      decision = this.hooks.fault.isUsed() ? await this.hooks.fault.promise(fault) : undefined;
    } catch (tapError) {
      this.logger.error({ err: tapError }, 'a fault hook tap failed; applying the default policy');
    }
    const log = { source: fault.source, code: fault.code, kind: fault.kind, severity: fault.severity, decision, err: error };
    if (decision === undefined && fault.severity === 'critical') {
      this.logger.fatal(log, `critical fault from ${fault.source}: stopping`);
      this.exitCode = 1;
      void this.stop(`critical fault from ${fault.source}: ${fault.message}`);
    } else if (decision === 'stop') {
      this.logger.error(log, `fault from ${fault.source}: a recovery policy decided to stop`);
      this.exitCode = 1;
      void this.stop(`fault from ${fault.source}: ${fault.message}`);
    } else {
      this.logger[fault.severity === 'low' ? 'warn' : 'error'](log, `fault from ${fault.source}: ${fault.message}`);
    }
    return decision;
  }

  /** Waits until all work handed to `ctx.track` has settled; resolves to the number that rejected. */
  async settled(options: SettledOptions = {}): Promise<number> {
    while (this.#tracked.size > 0) {
      const pending = [...this.#tracked];
      await withDeadline(() => Promise.allSettled(pending), {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        timeoutError: () => new KernelError(KernelErrorCodes.KERNEL_SETTLE_TIMEOUT, `tracked work did not settle within ${options.timeoutMs} ms`),
      });
    }
    return this.#trackedFailures;
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    for (const s of this.#skipped) {
      this.logger.warn({ use: s.use, reason: s.reason }, `optional plugin '${s.use}' is not installed; running without it`);
    }
    const startTimeoutMs = this.config.startTimeoutMs;
    let current: { record: PluginRecord; phase: 'setup' | 'start' } | undefined;
    try {
      for (const record of this.#records) {
        current = { record, phase: 'setup' };
        const ctx = this.#contextFor(record);
        const ok = await this.#runPhase(record, 'setup', startTimeoutMs, undefined, () => record.plugin.definition.setup(ctx as PluginContext<never>));
        record.status = ok ? 'set-up' : 'failed';
      }
      current = undefined;
      this.hooks.loaded.call(this.#records.filter((r) => r.status !== 'failed').map((r) => r.info));
      await this.hooks.beforeStart.promise();
      for (const record of this.#records) {
        if (record.status !== 'set-up') continue;
        current = { record, phase: 'start' };
        record.status = 'starting';
        const handlers = record.startHandlers;
        const ok = await this.#runPhase(record, 'start', startTimeoutMs, handlers.length === 0 ? undefined : async (signal) => {
          const phase = { deadline: Date.now() + startTimeoutMs };
          for (const handler of handlers) await handler(signal, phase);
        });
        record.status = ok ? 'started' : 'failed';
      }
      current = undefined;
      await this.hooks.started.promise();
      this.metrics.stopBuffering(); // every backend that will attach has: drop what none received
      this.#state = 'running';
      this.#exportTimeline();
      if (this.logger.isLevelEnabled('info')) {
        const failed = this.#records.filter((r) => r.status === 'failed').map((r) => r.plugin.name);
        const started = this.#records.length - failed.length;
        this.logger.info(
          { timeline: this.#timeline.summary('setup', 'start'), ...(failed.length > 0 ? { failedOptional: failed } : {}) },
          `started ${started} plugin(s)`,
        );
      }
    } catch (error) {
      const cause = toError(error);
      const who = current === undefined ? 'a kernel hook' : `plugin '${current.record.plugin.name}'`;
      const failure = new KernelError(KernelErrorCodes.KERNEL_START_FAILED, `${who} failed to ${current?.phase ?? 'start'}: ${cause.message}`, {
        cause,
        context: current === undefined ? {} : { plugin: current.record.plugin.name, phase: current.phase },
      });
      this.logger.error({ err: cause, plugin: current?.record.plugin.name }, failure.message);
      // The plugin that failed did not start: only those started before it are stopped (its
      // handlers got their abort signal, and what it provided is disposed with the container).
      if (current !== undefined) current.record.status = 'failed';
      await this.#rollback();
      this.#state = 'failed';
      // A failed boot is when the timeline matters most: export it like a successful one.
      this.#exportTimeline();
      this.logger.flush();
      throw failure;
    }
  }

  /**
   * Runs one phase of one plugin under its deadline. Returns false when an optional plugin failed
   * (it is cleaned up and reported), throws when a required one did.
   */
  async #runPhase(
    record: PluginRecord,
    phase: 'setup' | 'start',
    timeoutMs: number,
    work: ((signal: AbortSignal) => unknown) | undefined,
    unsignalled?: () => unknown,
  ): Promise<boolean> {
    const name = record.plugin.name;
    const began = performance.now();
    try {
      if (this.#stopping.signal.aborted) throw abortReason(this.#stopping.signal);
      // Work that takes no signal (setup) runs first and is put under the deadline only if it is
      // still pending: a synchronous setup cannot miss a deadline, and skipping the timer and
      // AbortController per plugin is most of what boot costs with many small plugins.
      const pending = unsignalled?.();
      const deadline = {
        timeoutMs,
        signal: this.#stopping.signal,
        timeoutError: () => new KernelError(KernelErrorCodes.KERNEL_PHASE_TIMEOUT, `${phase} did not finish within ${timeoutMs} ms`, { context: { plugin: name, phase } }),
      };
      if (isThenable(pending)) await withDeadline(() => pending, deadline);
      if (work !== undefined) await withDeadline(async (signal) => work(signal), deadline);
      this.#timeline.add({ plugin: name, phase, startedAt: performance.timeOrigin + began, durationMs: performance.now() - began });
      return true;
    } catch (error) {
      const err = toError(error);
      this.#timeline.add({ plugin: name, phase, startedAt: performance.timeOrigin + began, durationMs: performance.now() - began, error: err.message });
      if (!record.plugin.optional) throw error;
      record.logger.error({ err, phase }, `optional plugin '${name}' failed to ${phase}; the kernel runs on without it`);
      // As in a rollback, a plugin whose start failed is not stopped: its handlers got their abort
      // signal; what it provided is disposed now.
      await this.container.disposeOwner(name, record.logger);
      record.status = 'failed';
      void this.reportFault({ error: err, source: name, severity: 'medium', context: { phase } });
      return false;
    }
  }

  /** Undo a failed start: stop, in reverse order, every plugin whose start began; dispose all. */
  async #rollback(): Promise<void> {
    this.#stopping.abort(new KernelError(KernelErrorCodes.KERNEL_START_FAILED, 'start failed'));
    await this.#stopPlugins(this.config.shutdownTimeoutMs);
    await this.container.disposeAll(this.logger);
  }

  async #stop(reason: string): Promise<StopReport> {
    if (this.#state === 'created' || this.#state === 'failed' || this.#state === 'stopped') {
      this.#state = this.#state === 'failed' ? 'failed' : 'stopped';
      return { reason, errors: [] };
    }
    if (this.#state === 'starting') {
      // Stopping mid-start aborts the start; its rollback stops what had started.
      this.#stopping.abort(new KernelError(KernelErrorCodes.KERNEL_STOPPED, `stopped during start: ${reason}`));
      await this.#startPromise!.catch(() => undefined);
      if ((this.#state as KernelState) !== 'running') {
        // The start was abandoned because we asked it to be: what the caller asked for is a stop.
        this.#state = 'stopped';
        return { reason, errors: [] };
      }
    }
    this.#state = 'stopping';
    this.logger.info({ reason }, 'stopping');
    const errors: Error[] = [];
    this.#stopping.abort(new KernelError(KernelErrorCodes.KERNEL_STOPPING, `kernel stopping: ${reason}`));
    try {
      await this.hooks.beforeStop.promise({ reason });
    } catch (error) {
      errors.push(toError(error));
      this.logger.error({ err: error }, 'beforeStop hook failed; stopping anyway');
    }
    errors.push(...(await this.#stopPlugins(this.config.shutdownTimeoutMs)));
    errors.push(...(await this.container.disposeAll(this.logger)));
    try {
      await this.hooks.stopped.promise({ reason });
    } catch (error) {
      errors.push(toError(error));
      this.logger.error({ err: error }, 'stopped hook failed');
    }
    this.#state = 'stopped';
    this.#exportTimeline();
    if (this.logger.isLevelEnabled('info')) this.logger.info({ reason, errors: errors.length, timeline: this.#timeline.summary('stop') }, 'stopped');
    this.logger.flush();
    return { reason, errors };
  }

  /**
   * Stops plugins in reverse start order. Each gets an equal share of what is left of the budget,
   * so a fast plugin leaves its unused time to the ones after it. Errors never skip the rest.
   */
  async #stopPlugins(budgetMs: number): Promise<Error[]> {
    const deadline = performance.now() + budgetMs;
    const toStop = this.#records.filter((r) => r.status === 'started' || r.status === 'starting').reverse();
    const errors: Error[] = [];
    for (let i = 0; i < toStop.length; i++) {
      const share = Math.max(1, (deadline - performance.now()) / (toStop.length - i));
      const error = await this.#stopPlugin(toStop[i]!, share);
      if (error) errors.push(error);
    }
    return errors;
  }

  async #stopPlugin(record: PluginRecord, timeoutMs: number): Promise<Error | undefined> {
    const name = record.plugin.name;
    const began = performance.now();
    let failure: Error | undefined;
    // A stop that takes a while says who it is waiting for, so a hung shutdown has a name.
    const waiting = (): void =>
      void record.logger.warn(
        { waitedMs: Math.round(performance.now() - began), leftMs: Math.max(0, Math.round(timeoutMs - (performance.now() - began))) },
        `stopping: waiting for plugin '${name}'`,
      );
    let notice = setTimeout(function again() {
      waiting();
      notice = setTimeout(again, SLOW_STOP_REPEAT_MS).unref();
    }, Math.min(SLOW_STOP_NOTICE_MS, timeoutMs / 2)).unref();
    try {
      await withDeadline(
        async (signal) => {
          const phase = { deadline: Date.now() + timeoutMs };
          for (const handler of [...record.stopHandlers].reverse()) {
            try {
              await handler(signal, phase);
            } catch (error) {
              failure ??= toError(error);
              record.logger.error({ err: error }, 'onStop handler failed');
            }
          }
        },
        {
          timeoutMs,
          timeoutError: () => new KernelError(KernelErrorCodes.KERNEL_STOP_TIMEOUT, `plugin '${name}' did not stop within ${Math.round(timeoutMs)} ms`, { context: { plugin: name } }),
        },
      );
    } catch (error) {
      failure = toError(error);
      record.logger.error({ err: error }, failure.message);
    } finally {
      clearTimeout(notice);
    }
    record.status = record.status === 'failed' ? 'failed' : 'stopped';
    this.#timeline.add({ plugin: name, phase: 'stop', startedAt: performance.timeOrigin + began, durationMs: performance.now() - began, ...(failure ? { error: failure.message } : {}) });
    return failure;
  }

  #exportTimeline(): void {
    const gauge = this.metrics.gauge({
      name: 'kernel_phase_duration_seconds',
      help: 'Duration of each plugin lifecycle phase (setup, start, stop)',
      labelNames: ['plugin', 'phase'],
    });
    for (const r of this.#timeline.records()) gauge.set({ plugin: r.plugin, phase: r.phase }, r.durationMs / 1000);
  }

  #contextFor(record: PluginRecord): PluginContext<unknown> {
    const name = record.plugin.name;
    const kernel = this;
    const container = this.container;
    const ctx: PluginContext<unknown> = {
      name,
      options: record.plugin.options,
      logger: record.logger,
      metrics: this.metrics,
      hooks: this.hooks,
      signal: this.#stopping.signal,
      configDir: this.configDir,
      kernelState: () => kernel.#state,
      timeline: () => kernel.#timeline.records(),
      provide(serviceName: string, value: unknown, options?: ProvideOptions<unknown>): Disposer {
        return container.provide(name, serviceName, value, options?.dispose);
      },
      resolve(serviceName: string): never {
        if (!container.has(serviceName)) {
          const later = kernel.#records.filter((r) => r.status === 'loaded' && r !== record).map((r) => r.plugin.name);
          throw missingServiceError(name, serviceName, later, container.list().map((s) => s.name));
        }
        return container.resolve(serviceName, name);
      },
      tryResolve(serviceName: string): never {
        return container.tryResolve(serviceName) as never;
      },
      onStart(handler) {
        if (record.status !== 'loaded') throw new KernelError(KernelErrorCodes.KERNEL_INVALID_STATE, `plugin '${name}': onStart must be called during setup`);
        record.startHandlers.push(handler);
      },
      onStop(handler) {
        record.stopHandlers.push(handler);
      },
      track<T>(promise: Promise<T>, label?: string): Promise<T> {
        return kernel.#track(record, promise, label);
      },
      reportFault(report) {
        return kernel.reportFault(report, name);
      },
    };
    return ctx;
  }

  /**
   * Runs every plugin's `setup` (no start handlers) against a real container, as `start` would,
   * carrying on past failures, then disposes everything: `mister-smith check` learns from it who
   * provides what and which setups would fail. The kernel cannot start afterwards.
   */
  async dryRunSetups(): Promise<{ outcomes: SetupOutcome[]; providers: Map<string, string> }> {
    if (this.#state !== 'created') throw new KernelError(KernelErrorCodes.KERNEL_INVALID_STATE, `cannot dry-run a kernel in state '${this.#state}'`);
    this.#state = 'stopping';
    const outcomes: SetupOutcome[] = [];
    for (const [index, record] of this.#records.entries()) {
      try {
        await withDeadline(async () => record.plugin.definition.setup(this.#contextFor(record) as PluginContext<never>), {
          timeoutMs: this.config.startTimeoutMs,
          timeoutError: () => new KernelError(KernelErrorCodes.KERNEL_PHASE_TIMEOUT, `setup did not finish within ${this.config.startTimeoutMs} ms`),
        });
        record.status = 'set-up';
        outcomes.push({ plugin: record.plugin.name, index });
      } catch (error) {
        record.status = 'failed';
        outcomes.push({ plugin: record.plugin.name, index, error: toError(error) });
      }
    }
    const providers = new Map(this.container.list().map((s) => [s.name, s.owner]));
    this.#stopping.abort(new KernelError(KernelErrorCodes.KERNEL_STOPPING, 'dry run done'));
    await this.container.disposeAll(this.logger);
    this.#state = 'stopped';
    return { outcomes, providers };
  }

  #track<T>(record: PluginRecord, promise: Promise<T>, label?: string): Promise<T> {
    const watched = promise.then(
      (value) => {
        this.#tracked.delete(watched);
        return value;
      },
      (error: unknown) => {
        this.#tracked.delete(watched);
        this.#trackedFailures++;
        this.exitCode = 1;
        record.logger.error({ err: error, work: label }, `tracked work${label ? ` '${label}'` : ''} failed`);
        void this.reportFault({ error, source: record.plugin.name, context: label ? { work: label } : {} });
      },
    );
    this.#tracked.add(watched);
    return promise;
  }
}

