/**
 * The otel plugin's options (zod v4). Everything has a default except that nothing is exported
 * anywhere until the plugin is loaded: loading it is what turns tracing on.
 */
import { z } from '../../sdk/index.js';

export const otelOptions = z.object({
  /** The OTLP/HTTP traces endpoint (a collector, Jaeger, Tempo, Langfuse, Phoenix…). */
  endpoint: z.url().default('http://127.0.0.1:4318/v1/traces'),
  /** Extra HTTP headers on every export (an API key, a tenant id). */
  headers: z.record(z.string(), z.string()).default({}),
  /** `service.name` of the resource; default: the config's `name`. */
  serviceName: z.string().min(1).optional(),
  /**
   * Share of traces recorded, decided once per trace from its id (so every process and node of one
   * agent run decides alike); child spans follow their parent.
   */
  sampleRatio: z.number().min(0).max(1).default(1),
  /** Record tool inputs and outputs on tool spans (they may hold personal or secret data). */
  recordToolPayloads: z.boolean().default(false),
  /** Longest recorded payload, in characters; longer ones are cut and marked. */
  maxPayloadChars: z.number().int().positive().default(1024),
  /** Batch span processor settings. */
  batch: z
    .object({
      maxQueueSize: z.number().int().positive().default(2048),
      maxExportBatchSize: z.number().int().positive().default(512),
      scheduledDelayMs: z.number().int().positive().default(1000),
      exportTimeoutMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  /**
   * Upper bound of the final flush at stop (also bounded by the kernel's `shutdownTimeoutMs`); each
   * export's `exportTimeoutMs`, retries included, is capped to it so none outlives the stop.
   */
  flushTimeoutMs: z.number().int().positive().default(5000),
});

export type OtelOptions = z.output<typeof otelOptions>;
export type OtelOptionsInput = z.input<typeof otelOptions>;
