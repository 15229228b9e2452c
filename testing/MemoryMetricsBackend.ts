import type {
  CounterSink,
  CounterSinkDefinition,
  GaugeDefinition,
  GaugeSink,
  HistogramSink,
  Labels,
  MetricDefinition,
  MetricsBackend,
  MetricType,
} from '../sdk/metrics.js';

function keyOf(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${String(labels[k])}`)
    .join(',');
}

interface Series {
  readonly labels: Labels;
  value: number;
  readonly observations: number[];
}

interface Recorded {
  readonly type: MetricType;
  readonly definition: MetricDefinition;
  readonly series: Map<string, Series>;
}

/**
 * A metrics backend that keeps every value in memory, for tests: attach it with
 * `kernel.hooks.metricsBackend.call(backend)` (createTestKernel does) and read what plugins counted.
 */
export class MemoryMetricsBackend implements MetricsBackend {
  readonly name = 'memory';
  readonly #metrics = new Map<string, Recorded>();

  counter(definition: CounterSinkDefinition): CounterSink {
    const series = this.#register('counter', definition);
    return { inc: (labels, value) => (this.#series(series, labels).value += value) };
  }

  gauge(definition: GaugeDefinition): GaugeSink {
    const series = this.#register('gauge', definition);
    return {
      set: (labels, value) => (this.#series(series, labels).value = value),
      inc: (labels, value) => (this.#series(series, labels).value += value),
    };
  }

  histogram(definition: MetricDefinition): HistogramSink {
    const series = this.#register('histogram', definition);
    return {
      observe: (labels, value) => {
        const s = this.#series(series, labels);
        s.observations.push(value);
        s.value += value;
      },
    };
  }

  /**
   * The value of a series: a counter's or gauge's value, a histogram's sum. With `labels`, only the
   * series whose labels include them are summed; without, all series of the metric.
   */
  value(name: string, labels?: Labels): number {
    return this.#matching(name, labels).reduce((sum, s) => sum + s.value, 0);
  }

  /** Every observation of a histogram (matching `labels` when given). */
  observations(name: string, labels?: Labels): number[] {
    return this.#matching(name, labels).flatMap((s) => s.observations);
  }

  /** The label sets recorded for a metric. */
  series(name: string): Labels[] {
    return [...(this.#metrics.get(name)?.series.values() ?? [])].map((s) => s.labels);
  }

  /** Names of every metric this backend received. */
  names(): string[] {
    return [...this.#metrics.keys()];
  }

  #matching(name: string, labels: Labels | undefined): Series[] {
    const metric = this.#metrics.get(name);
    if (metric === undefined) return [];
    // Collect-on-scrape counters and gauges publish their values when read, as on a scrape.
    if (metric.type !== 'histogram') (metric.definition as GaugeDefinition | CounterSinkDefinition).collect?.();
    return [...metric.series.values()].filter(
      (s) => labels === undefined || Object.entries(labels).every(([k, v]) => String(s.labels[k]) === String(v)),
    );
  }

  #register(type: MetricType, definition: MetricDefinition): Map<string, Series> {
    const recorded: Recorded = { type, definition, series: new Map() };
    this.#metrics.set(definition.name, recorded);
    return recorded.series;
  }

  #series(series: Map<string, Series>, labels: Labels | undefined): Series {
    const key = keyOf(labels);
    let s = series.get(key);
    if (s === undefined) {
      s = { labels: { ...labels }, value: 0, observations: [] };
      series.set(key, s);
    }
    return s;
  }
}
