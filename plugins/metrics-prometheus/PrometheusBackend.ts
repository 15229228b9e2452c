/**
 * The prom-client backend of the metrics facade. Each facade metric becomes one prom-client metric
 * named `mister_smith_<name>` in this kernel's own Registry; a sink forwards updates to it.
 *
 * The unlabelled path calls the prom-client metric directly (one extra call, no allocation), so a
 * facade `counter.inc()` costs about what prom-client's own `counter.inc()` does. The labelled path
 * adds the cardinality cap and turns prom-client's label errors into one warning per metric: a
 * metrics mistake must never throw into the code being measured.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  prefixedMetricName,
  type CounterSink,
  type CounterSinkDefinition,
  type GaugeDefinition,
  type GaugeSink,
  type HistogramDefinition,
  type HistogramSink,
  type Labels,
  type Logger,
  type MetricDefinition,
  type MetricsBackend,
} from '../../sdk/index.js';
import { PROMETHEUS_ERROR_CODES } from './errors.js';
import { LabelSetLimiter } from './LabelSetLimiter.js';
import { renderOpenMetrics } from './renderOpenMetrics.js';
import type { ExpositionFormat, PrometheusService } from './types.js';

export interface PrometheusBackendOptions {
  /** Distinct label sets per metric before folding into `other`. */
  readonly maxLabelSets: number;
  readonly logger: Logger;
  /** Default: a fresh Registry. */
  readonly registry?: Registry;
}

const NOOP_SINK: CounterSink & GaugeSink & HistogramSink = { inc() {}, set() {}, observe() {} };

/** Warns once per metric and code. */
class Warnings {
  readonly #seen = new Set<string>();
  constructor(readonly logger: Logger) {}
  once(metric: string, code: string, message: string, extra: Record<string, unknown> = {}): void {
    const key = `${metric}\u0000${code}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.logger.warn({ metric, code, ...extra }, message);
  }
}

function dropped(warnings: Warnings, name: string, error: unknown): void {
  warnings.once(name, PROMETHEUS_ERROR_CODES.PROMETHEUS_INVALID_LABELS, `dropped an update of ${name}: ${(error as Error).message}`);
}

/**
 * What every sink holds. Each update method keeps its own small try/catch (no shared helper taking a
 * callback), so the labelled path allocates no closure per update.
 */
abstract class PromSink<M> {
  constructor(
    readonly metric: M,
    readonly name: string,
    readonly limiter: LabelSetLimiter,
    readonly warnings: Warnings,
  ) {}
}

class PromCounterSink extends PromSink<Counter> implements CounterSink {
  inc(labels: Labels | undefined, value: number): void {
    if (labels === undefined) {
      this.metric.inc(value);
      return;
    }
    try {
      this.metric.inc(this.limiter.admit(labels) as Record<string, string | number>, value);
    } catch (error) {
      dropped(this.warnings, this.name, error);
    }
  }
}

class PromGaugeSink extends PromSink<Gauge> implements GaugeSink {
  set(labels: Labels | undefined, value: number): void {
    if (labels === undefined) {
      this.metric.set(value);
      return;
    }
    try {
      this.metric.set(this.limiter.admit(labels) as Record<string, string | number>, value);
    } catch (error) {
      dropped(this.warnings, this.name, error);
    }
  }
  inc(labels: Labels | undefined, value: number): void {
    if (labels === undefined) {
      this.metric.inc(value);
      return;
    }
    try {
      this.metric.inc(this.limiter.admit(labels) as Record<string, string | number>, value);
    } catch (error) {
      dropped(this.warnings, this.name, error);
    }
  }
}

class PromHistogramSink extends PromSink<Histogram> implements HistogramSink {
  observe(labels: Labels | undefined, value: number): void {
    if (labels === undefined) {
      this.metric.observe(value);
      return;
    }
    try {
      this.metric.observe(this.limiter.admit(labels) as Record<string, string | number>, value);
    } catch (error) {
      dropped(this.warnings, this.name, error);
    }
  }
}

/** A `MetricsBackend` (attach it with `hooks.metricsBackend.call`) that is also the `prometheus` service. */
export class PrometheusBackend implements MetricsBackend, PrometheusService {
  readonly name = 'prometheus';
  readonly registry: Registry;
  readonly #maxLabelSets: number;
  readonly #logger: Logger;
  readonly #warnings: Warnings;

  constructor(options: PrometheusBackendOptions) {
    this.registry = options.registry ?? new Registry();
    this.#maxLabelSets = options.maxLabelSets;
    this.#logger = options.logger;
    this.#warnings = new Warnings(options.logger);
  }

  counter(definition: CounterSinkDefinition): CounterSink {
    return this.#create(
      definition,
      (config) =>
        new PromCounterSink(new Counter({ ...config, ...this.#collectOption(config.name, definition.collect) }), config.name, this.#limiter(config.name, definition), this.#warnings),
    );
  }

  gauge(definition: GaugeDefinition): GaugeSink {
    return this.#create(
      definition,
      (config) =>
        new PromGaugeSink(new Gauge({ ...config, ...this.#collectOption(config.name, definition.collect) }), config.name, this.#limiter(config.name, definition), this.#warnings),
    );
  }

  histogram(definition: HistogramDefinition): HistogramSink {
    return this.#create(
      definition,
      (config) =>
        new PromHistogramSink(
          new Histogram({ ...config, ...(definition.buckets === undefined ? {} : { buckets: [...definition.buckets] }) }),
          config.name,
          this.#limiter(config.name, definition),
          this.#warnings,
        ),
    );
  }

  async metrics(format: ExpositionFormat = 'prometheus'): Promise<string> {
    const text = format === 'openmetrics' ? await renderOpenMetrics(this.registry) : await this.registry.metrics();
    // prom-client writes NaN as `Nan`: Go's ParseFloat takes it, OpenMetrics requires `NaN`.
    return text.includes(' Nan\n') ? text.replace(/ Nan$/gm, ' NaN') : text;
  }

  contentType(format: ExpositionFormat = 'prometheus'): string {
    return format === 'openmetrics' ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /** prom-client's `collect` option for a collect-on-scrape metric: a failing collect keeps the last value, with one warning. */
  #collectOption(name: string, collect: (() => void) | undefined): { collect?: () => void } {
    if (collect === undefined) return {};
    const warnings = this.#warnings;
    return {
      collect() {
        try {
          collect();
        } catch (error) {
          warnings.once(name, PROMETHEUS_ERROR_CODES.PROMETHEUS_COLLECT_FAILED, `collect of ${name} failed; it keeps its last value`, { err: error });
        }
      },
    };
  }

  #limiter(name: string, definition: MetricDefinition): LabelSetLimiter {
    const max = this.#maxLabelSets;
    return new LabelSetLimiter(definition.labelNames ?? [], max, () =>
      this.#warnings.once(name, PROMETHEUS_ERROR_CODES.PROMETHEUS_LABEL_CAP_REACHED, `${name} reached ${max} label sets; new ones are counted under 'other'`, {
        maxLabelSets: max,
      }),
    );
  }

  #create<S>(
    definition: MetricDefinition,
    make: (config: { name: string; help: string; labelNames: string[]; registers: Registry[] }) => S,
  ): S | typeof NOOP_SINK {
    const name = prefixedMetricName(definition.name);
    try {
      return make({ name, help: definition.help, labelNames: [...(definition.labelNames ?? [])], registers: [this.registry] });
    } catch (error) {
      // A rejected metric must not break the plugin that defined it: it goes unexported, loudly.
      this.#logger.error({ err: error, metric: name, code: PROMETHEUS_ERROR_CODES.PROMETHEUS_METRIC_REJECTED }, `metric ${name} cannot be exported: ${(error as Error).message}`);
      return NOOP_SINK;
    }
  }
}
