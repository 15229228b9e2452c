/**
 * The metrics facade: plugins define counters, gauges and histograms here without knowing which
 * backend (if any) exports them. A backend plugin (metrics-prometheus) announces itself through
 * `kernel.hooks.metricsBackend` and receives every metric, defined before or after it loaded, with
 * the values recorded before it attached (the facade keeps them until the kernel has started). Once
 * the kernel runs with no backend, a metric update costs one no-op call.
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

/**
 * A counter's definition. With `collect` it is a collect-on-scrape counter: the plugin keeps its
 * total in a plain field (no metric call on the hot path) and `collect` returns it when someone reads
 * the metric — one number for an unlabelled counter, or `[labels, total]` pairs. Totals must never go
 * down; the facade turns each rise into an increment, so every backend sees an ordinary counter.
 */
export interface CounterDefinition extends MetricDefinition {
  readonly collect?: () => number | Iterable<readonly [Labels, number]>;
}

/** What a backend receives for a counter: `collect`, when present, must be called right before the counter is read. */
export interface CounterSinkDefinition extends MetricDefinition {
  readonly collect?: () => void;
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
  counter(definition: CounterDefinition): Counter;
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
  counter(definition: CounterSinkDefinition): CounterSink;
  gauge(definition: GaugeDefinition): GaugeSink;
  histogram(definition: HistogramDefinition): HistogramSink;
}

/** The prefix exporting backends put before every facade name. */
export const METRIC_PREFIX = 'mister_smith_';

/** `name` with the `mister_smith_` prefix, added only if missing. */
export function prefixedMetricName(name: string): string {
  return name.startsWith(METRIC_PREFIX) ? name : METRIC_PREFIX + name;
}
