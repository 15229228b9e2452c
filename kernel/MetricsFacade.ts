/**
 * The kernel's implementation of the metrics facade. A handle forwards to one sink: a buffer until a
 * backend attaches, the backend's own sink after, a fan-out with several backends. Swapping the sink
 * is how metrics defined before a backend loaded reach it.
 *
 * The buffer keeps cheap totals (a counter's sum, a gauge's last value, a bounded list of histogram
 * observations, per label set) so that a plugin counting in `setup` before metrics-prometheus has set
 * up loses nothing: each backend attaching during the start receives them. The kernel calls
 * `stopBuffering()` once every plugin has started; the buffers are dropped then, and with no backend
 * every update is one no-op call from there on.
 */
import {
  ConfigError,
  type Counter,
  type CounterDefinition,
  type CounterSink,
  type CounterSinkDefinition,
  type Gauge,
  type GaugeDefinition,
  type GaugeSink,
  type Histogram,
  type HistogramDefinition,
  type HistogramSink,
  type Labels,
  type MetricDefinition,
  type Metrics,
  type MetricsBackend,
  type MetricType,
} from '../sdk/index.js';
import { MetricsBuffer } from './MetricsBuffer.js';
import { KernelErrorCodes } from './errors.js';

const NOOP_SINK: CounterSink & GaugeSink & HistogramSink = {
  inc() {},
  set() {},
  observe() {},
};

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

class CounterHandle implements Counter {
  sink: CounterSink;
  constructor(sink: CounterSink) {
    this.sink = sink;
  }
  inc(labelsOrValue?: Labels | number, value?: number): void {
    // Overloads resolved inline: this runs on hot paths, so no rest args and no allocation.
    if (typeof labelsOrValue === 'object') this.sink.inc(labelsOrValue, value ?? 1);
    else this.sink.inc(undefined, labelsOrValue ?? 1);
  }
}

class GaugeHandle implements Gauge {
  sink: GaugeSink;
  constructor(sink: GaugeSink) {
    this.sink = sink;
  }
  set(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.sink.set(labelsOrValue, value!);
    else this.sink.set(undefined, labelsOrValue);
  }
  inc(labelsOrValue?: Labels | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.sink.inc(labelsOrValue, value ?? 1);
    else this.sink.inc(undefined, labelsOrValue ?? 1);
  }
  dec(labelsOrValue?: Labels | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.sink.inc(labelsOrValue, -(value ?? 1));
    else this.sink.inc(undefined, -(labelsOrValue ?? 1));
  }
}

class HistogramHandle implements Histogram {
  sink: HistogramSink;
  constructor(sink: HistogramSink) {
    this.sink = sink;
  }
  observe(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.sink.observe(labelsOrValue, value!);
    else this.sink.observe(undefined, labelsOrValue);
  }
}

type Entry =
  | { type: 'counter'; definition: CounterSinkDefinition; handle: CounterHandle; sinks: CounterSink[]; buffer: MetricsBuffer | undefined }
  | { type: 'gauge'; definition: GaugeDefinition; handle: GaugeHandle; sinks: GaugeSink[]; buffer: MetricsBuffer | undefined }
  | { type: 'histogram'; definition: HistogramDefinition; handle: HistogramHandle; sinks: HistogramSink[]; buffer: MetricsBuffer | undefined };

function fanOut<S extends object>(sinks: S[], keys: readonly (keyof S)[]): S {
  if (sinks.length === 1) return sinks[0]!;
  const out = {} as Record<keyof S, unknown>;
  for (const key of keys) {
    out[key] = (labels: Labels | undefined, value: number) => {
      for (const sink of sinks) (sink[key] as (l: Labels | undefined, v: number) => void)(labels, value);
    };
  }
  return out as S;
}

/**
 * Turns a collect-on-scrape counter's totals into increments of `handle`: what backends see is an
 * ordinary counter whose `collect` they call before reading it. A total that went down (its source
 * was replaced) restarts the count from there rather than decrementing.
 */
function collectAsIncrements(collect: NonNullable<CounterDefinition['collect']>, handle: () => CounterHandle): () => void {
  let lastUnlabelled = 0;
  const last = new Map<string, number>();
  return () => {
    const totals = collect();
    if (typeof totals === 'number') {
      if (totals > lastUnlabelled) handle().sink.inc(undefined, totals - lastUnlabelled);
      lastUnlabelled = totals;
      return;
    }
    for (const [labels, total] of totals) {
      const key = MetricsBuffer.keyOf(labels);
      const previous = last.get(key) ?? 0;
      if (total > previous) handle().sink.inc(labels, total - previous);
      last.set(key, total);
    }
  };
}

export class MetricsFacade implements Metrics {
  readonly #entries = new Map<string, Entry>();
  readonly #backends: MetricsBackend[] = [];
  #buffering = true;

  counter(definition: CounterDefinition): Counter {
    return this.#define('counter', definition).handle as Counter;
  }

  gauge(definition: GaugeDefinition): Gauge {
    return this.#define('gauge', definition).handle as Gauge;
  }

  histogram(definition: HistogramDefinition): Histogram {
    return this.#define('histogram', definition).handle as Histogram;
  }

  /**
   * Connects a backend: it receives every metric defined so far and every one defined later. Until
   * the kernel has started, it also receives the values recorded before it attached.
   */
  attach(backend: MetricsBackend): void {
    if (this.#backends.includes(backend)) return;
    this.#backends.push(backend);
    for (const entry of this.#entries.values()) this.#bind(entry, backend);
  }

  /**
   * Ends the buffering of values recorded with no backend attached (the kernel calls it once every
   * plugin has started). Without a backend, every handle becomes a no-op from here on.
   */
  stopBuffering(): void {
    if (!this.#buffering) return;
    this.#buffering = false;
    for (const entry of this.#entries.values()) {
      if (entry.buffer === undefined) continue;
      entry.buffer = undefined;
      this.#rewire(entry);
    }
  }

  /** The backends attached so far. */
  get backends(): readonly MetricsBackend[] {
    return this.#backends;
  }

  /** Every metric defined so far. */
  definitions(): Array<{ type: MetricType; definition: MetricDefinition }> {
    return [...this.#entries.values()].map((e) => ({ type: e.type, definition: e.definition }));
  }

  #define(type: MetricType, definition: MetricDefinition): Entry {
    const existing = this.#entries.get(definition.name);
    if (existing !== undefined) {
      const sameLabels = (existing.definition.labelNames ?? []).join(',') === (definition.labelNames ?? []).join(',');
      if (existing.type !== type || !sameLabels) {
        throw new ConfigError(
          KernelErrorCodes.METRIC_CONFLICT,
          `metric '${definition.name}' is already defined as a ${existing.type} with labels [${(existing.definition.labelNames ?? []).join(', ')}]`,
        );
      }
      return existing;
    }
    if (!NAME_RE.test(definition.name)) {
      throw new ConfigError(KernelErrorCodes.METRIC_INVALID_NAME, `metric name '${definition.name}' must match ${NAME_RE.source}`);
    }
    const entry = this.#newEntry(type, definition);
    this.#entries.set(definition.name, entry);
    for (const backend of this.#backends) this.#bind(entry, backend);
    return entry;
  }

  #newEntry(type: MetricType, definition: MetricDefinition): Entry {
    // A collect-on-scrape counter needs no buffer: its totals are read when a backend scrapes.
    const collect = type === 'counter' ? (definition as CounterDefinition).collect : undefined;
    const buffer = this.#buffering && collect === undefined ? new MetricsBuffer(type) : undefined;
    const sink = buffer ?? NOOP_SINK;
    switch (type) {
      case 'counter': {
        const handle = new CounterHandle(sink);
        const sinkDefinition: CounterSinkDefinition =
          collect === undefined ? definition : { ...definition, collect: collectAsIncrements(collect, () => handle) };
        return { type, definition: sinkDefinition, handle, sinks: [], buffer };
      }
      case 'gauge':
        return { type, definition, handle: new GaugeHandle(sink), sinks: [], buffer };
      case 'histogram':
        return { type, definition, handle: new HistogramHandle(sink), sinks: [], buffer };
    }
  }

  #bind(entry: Entry, backend: MetricsBackend): void {
    switch (entry.type) {
      case 'counter': {
        const sink = backend.counter(entry.definition);
        entry.buffer?.replayInto(sink);
        entry.sinks.push(sink);
        break;
      }
      case 'gauge': {
        const sink = backend.gauge(entry.definition);
        entry.buffer?.replayInto(sink);
        entry.sinks.push(sink);
        break;
      }
      case 'histogram': {
        const sink = backend.histogram(entry.definition);
        entry.buffer?.replayInto(sink);
        entry.sinks.push(sink);
        break;
      }
    }
    this.#rewire(entry);
  }

  /**
   * Points the handle at its sinks: while buffering, the buffer keeps recording beside the backends
   * (a backend attaching later in the start still gets everything); after, the backends alone.
   */
  #rewire(entry: Entry): void {
    const buffer = entry.buffer;
    switch (entry.type) {
      case 'counter':
        entry.handle.sink = entry.sinks.length === 0 ? (buffer ?? NOOP_SINK) : fanOut(buffer === undefined ? entry.sinks : [buffer, ...entry.sinks], ['inc']);
        break;
      case 'gauge':
        entry.handle.sink = entry.sinks.length === 0 ? (buffer ?? NOOP_SINK) : fanOut(buffer === undefined ? entry.sinks : [buffer, ...entry.sinks], ['set', 'inc']);
        break;
      case 'histogram':
        entry.handle.sink = entry.sinks.length === 0 ? (buffer ?? NOOP_SINK) : fanOut(buffer === undefined ? entry.sinks : [buffer, ...entry.sinks], ['observe']);
        break;
    }
  }
}
