/**
 * What the metrics facade keeps for one metric while the kernel starts: a counter's sum, a gauge's
 * value, a histogram's observations, per label set — replayed into each backend that attaches in
 * that time, so values recorded before it are not lost. Bounded, so that a metric with many label
 * sets cannot grow it without limit before the facade stops buffering.
 */
import type { CounterSink, GaugeSink, HistogramSink, Labels, MetricType } from '../sdk/index.js';

/** Label sets kept per metric; updates for further ones are dropped. */
export const MAX_BUFFERED_LABEL_SETS = 1000;
/** Histogram observations kept per metric; later ones are dropped. */
export const MAX_BUFFERED_OBSERVATIONS = 10_000;

interface Series {
  readonly labels: Labels | undefined;
  value: number;
  observations: number[] | undefined;
}

/** Label-set keys of label objects seen before: hot paths pass the same frozen object each time. */
const keyCache = new WeakMap<Labels, string>();

export class MetricsBuffer implements CounterSink, GaugeSink, HistogramSink {
  readonly #type: MetricType;
  readonly #series = new Map<string, Series>();
  #observations = 0;

  constructor(type: MetricType) {
    this.#type = type;
  }

  /** A stable key for a label set, whatever the order of its keys. */
  static keyOf(labels: Labels): string {
    let key = keyCache.get(labels);
    if (key === undefined) {
      key = Object.keys(labels)
        .sort()
        .map((k) => `${k}\u0000${String(labels[k])}`)
        .join('\u0001');
      keyCache.set(labels, key);
    }
    return key;
  }

  inc(labels: Labels | undefined, value: number): void {
    const series = this.#seriesFor(labels);
    if (series !== undefined) series.value += value;
  }

  set(labels: Labels | undefined, value: number): void {
    const series = this.#seriesFor(labels);
    if (series !== undefined) series.value = value;
  }

  observe(labels: Labels | undefined, value: number): void {
    if (this.#observations >= MAX_BUFFERED_OBSERVATIONS) return;
    const series = this.#seriesFor(labels);
    if (series === undefined) return;
    (series.observations ??= []).push(value);
    this.#observations++;
  }

  /** Hands everything recorded to a backend's sink for this metric. */
  replayInto(sink: CounterSink | GaugeSink | HistogramSink): void {
    for (const series of this.#series.values()) {
      switch (this.#type) {
        case 'counter':
          if (series.value > 0) (sink as CounterSink).inc(series.labels, series.value);
          break;
        case 'gauge':
          (sink as GaugeSink).set(series.labels, series.value);
          break;
        case 'histogram':
          for (const value of series.observations ?? []) (sink as HistogramSink).observe(series.labels, value);
          break;
      }
    }
  }

  #seriesFor(labels: Labels | undefined): Series | undefined {
    const key = labels === undefined ? '' : MetricsBuffer.keyOf(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      if (this.#series.size >= MAX_BUFFERED_LABEL_SETS) return undefined;
      series = { labels: labels === undefined ? undefined : { ...labels }, value: 0, observations: undefined };
      this.#series.set(key, series);
    }
    return series;
  }
}
