/**
 * The metrics facade: plugins define counters, gauges and histograms here without knowing which
 * backend (if any) exports them. With no backend a metric costs one no-op call; a backend plugin
 * (metrics-prometheus) announces itself through `kernel.hooks.metricsBackend` and receives every
 * metric, defined before or after it loaded.
 *
 * Names are given without the `mister_smith_` prefix (`supervisor_restarts_total`); exporting
 * backends add it (a name that already has it is left alone).
 */

export type LabelValue = string | number;
export type Labels = Readonly<Record<string, LabelValue>>;

export interface MetricDefinition {
  /** snake_case, `[a-zA-Z_:][a-zA-Z0-9_:]*`, without the `mister_smith_` prefix. */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

export interface GaugeDefinition extends MetricDefinition {
  /**
   * Called right before the gauge is read (a scrape). Lets a hot path keep a plain number and
   * publish it only when someone looks, instead of calling `set` on every change.
   */
  readonly collect?: () => void;
}

export interface HistogramDefinition extends MetricDefinition {
  /** Upper bounds of the buckets (seconds for `_seconds` metrics). */
  readonly buckets?: readonly number[];
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Counter {
  /** Adds `value` (default 1). Counters only go up. */
  inc(value?: number): void;
  inc(labels: Labels, value?: number): void;
}

export interface Gauge {
  set(value: number): void;
  set(labels: Labels, value: number): void;
  inc(value?: number): void;
  inc(labels: Labels, value?: number): void;
  dec(value?: number): void;
  dec(labels: Labels, value?: number): void;
}

export interface Histogram {
  observe(value: number): void;
  observe(labels: Labels, value: number): void;
}

/** The facade plugins see as `ctx.metrics`. */
export interface Metrics {
  counter(definition: MetricDefinition): Counter;
  gauge(definition: GaugeDefinition): Gauge;
  histogram(definition: HistogramDefinition): Histogram;
}

/** What a backend implements for one metric; `labels` is undefined for an unlabelled update. */
export interface CounterSink {
  inc(labels: Labels | undefined, value: number): void;
}
export interface GaugeSink {
  set(labels: Labels | undefined, value: number): void;
  inc(labels: Labels | undefined, value: number): void;
}
export interface HistogramSink {
  observe(labels: Labels | undefined, value: number): void;
}

/** A place metrics go: Prometheus, an in-memory recorder for tests, an OTLP exporter… */
export interface MetricsBackend {
  readonly name: string;
  counter(definition: MetricDefinition): CounterSink;
  gauge(definition: GaugeDefinition): GaugeSink;
  histogram(definition: HistogramDefinition): HistogramSink;
}

/** The prefix exporting backends put before every facade name. */
export const METRIC_PREFIX = 'mister_smith_';

/** `name` with the `mister_smith_` prefix, added only if missing. */
export function prefixedMetricName(name: string): string {
  return name.startsWith(METRIC_PREFIX) ? name : METRIC_PREFIX + name;
}
