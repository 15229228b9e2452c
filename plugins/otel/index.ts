/**
 * The otel plugin: OpenTelemetry traces over OTLP/HTTP for kernel phases, HTTP requests, tool calls
 * and agent runs. Loading it is what turns tracing on; with it absent nothing in the other plugins
 * does any tracing work (their hooks are untapped, and untapped hooks are never called).
 */
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { BatchSpanProcessor, ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Agent as HttpAgent } from 'node:http';
import { definePlugin } from '../../sdk/index.js';
import { withDeadline } from '../../sdk/util/index.js';
import type {} from '../agents/types.js';
import type {} from '../events/types.js';
import type {} from '../http/types.js';
import { httpSpanRecorder } from './httpSpans.js';
import { recordKernelPhases } from './kernelSpans.js';
import { otelOptions } from './options.js';
import { RunTracer, type AgentDirectory } from './RunTracer.js';
import { PresetIdGenerator } from './TraceIds.js';

const TRACER_NAME = 'mister-smith';

export default definePlugin({
  name: 'otel',
  version: '1.0.0',
  description: 'OpenTelemetry traces (OTLP/HTTP) for kernel phases, HTTP requests, tool calls and agent runs',
  optionalDependsOn: ['events', 'agents', 'tools', 'http'],
  options: otelOptions,
  setup(ctx) {
    const { options } = ctx;
    const system = String((ctx.logger.bindings() as { system?: unknown }).system ?? 'mister-smith');
    const ids = new PresetIdGenerator();
    // A provider per kernel, never the global one: several kernels share a process in tests, and an
    // application may run its own OpenTelemetry setup beside ours.
    // An export retries (connection refused, 429, 5xx) on timers the OTLP exporter owns and nobody
    // can cancel. Were one allowed to outlast the final flush, a stop cut at the flush deadline left
    // them, and the batch processor's export timer, running for up to `exportTimeoutMs` — keeping the
    // process alive after `kernel.stop()` with the collector down. So no export, retries included,
    // takes longer than the final flush may: each ends by itself within `flushTimeoutMs`.
    const exportTimeoutMs = Math.min(options.batch.exportTimeoutMs, options.flushTimeoutMs);
    // The exporter keeps its connection to the collector alive between exports and never closes it
    // (its transport's shutdown does nothing): our own agent, destroyed at stop, so no idle socket
    // outlives the kernel.
    let agent: HttpAgent | undefined;
    const agentFactory = async (protocol: string): Promise<HttpAgent> => {
      const { Agent } = protocol === 'https:' ? await import('node:https') : await import('node:http');
      agent ??= new Agent({ keepAlive: true });
      return agent;
    };
    const rootSampler = new TraceIdRatioBasedSampler(options.sampleRatio);
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? system }),
      sampler: new ParentBasedSampler({ root: rootSampler }),
      idGenerator: ids,
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: options.endpoint, headers: options.headers, timeoutMillis: exportTimeoutMs, httpAgentOptions: agentFactory }),
          maxQueueSize: options.batch.maxQueueSize,
          maxExportBatchSize: options.batch.maxExportBatchSize,
          scheduledDelayMillis: options.batch.scheduledDelayMs,
          exportTimeoutMillis: exportTimeoutMs,
        }),
      ],
    });
    const tracer = provider.getTracer(TRACER_NAME, '1.0.0');

    const agents = ctx.tryResolve('agents');
    const directory: AgentDirectory | undefined =
      agents === undefined
        ? undefined
        : {
            agent: (name) => agents.list().find((a) => a.name === name),
            run: (runId) => agents.runs().find((r) => r.runId === runId),
          };
    // The ratio sampler decides from the trace id alone, so the flag on a propagated context is
    // the decision every process tracing the same run makes.
    const sampled = (traceId: string): boolean => rootSampler.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
    const runs = new RunTracer(tracer, ids, directory, { ...options, sampled });

    const http = ctx.tryResolve('http');
    if (http !== undefined) http.hooks.responded.tap('otel', httpSpanRecorder(tracer));

    const events = ctx.tryResolve('events');
    const subscriptions = events === undefined ? [] : ['agent.>', 'tool.called', 'tool.failed', 'tool.denied'].map((p) => events.subscribe(p, (e) => runs.observe(e)));
    // Runs carry the trace context of their spans — which exist only where the journal is the event log.
    if (agents !== undefined && events !== undefined) agents.hooks.traceparent.tap('otel', (scope) => runs.traceparentOf(scope));

    ctx.hooks.started.tapPromise('otel', async () => recordKernelPhases(tracer, 'start', ['setup', 'start'], ctx.timeline(), system));

    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await Promise.all(subscriptions.map((s) => s.unsubscribe()));
      runs.endAll();
      recordKernelPhases(tracer, 'stop', ['stop'], ctx.timeline(), system);
      // The export in flight ends within flushTimeoutMs by itself (above); cutting the wait at the
      // same instant would race it and leave its timers behind, so the cut here is only a safety
      // net (several batches queued, or a stalled loop).
      await withDeadline(() => provider.shutdown(), {
        timeoutMs: 2 * options.flushTimeoutMs,
        timeoutError: () => new Error(`otel: spans not flushed to ${options.endpoint} within ${options.flushTimeoutMs} ms`),
      }).catch((err: unknown) => ctx.logger.warn({ err }, 'spans not flushed at stop'));
      agent?.destroy();
    };
    // Stop spans exist only once every plugin has stopped, so the final flush waits for `stopped`.
    // A failed start never gets there: its rollback is the last time this plugin runs.
    ctx.hooks.stopped.tapPromise('otel', close);
    ctx.onStop(async () => {
      if (ctx.kernelState() === 'starting') await close();
    });
  },
});

export { otelOptions } from './options.js';
export type { OtelOptions, OtelOptionsInput } from './options.js';
