/**
 * The kernel's implementation of the metrics facade. A handle forwards to one sink: a no-op until a
 * backend attaches, the backend's own sink after, a fan-out with several backends. Swapping the sink
 * is how metrics defined before a backend loaded reach it.
 */
import {
  ConfigError,
  type Counter,
  type CounterSink,
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

const NOOP_SINK: CounterSink & GaugeSink & HistogramSink = {
  inc() {},
  set() {},
  observe() {},
};

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

class CounterHandle implements Counter {
  sink: CounterSink = NOOP_SINK;
  inc(labelsOrValue?: Labels | number, value?: number): void {
    // Overloads resolved inline: this runs on hot paths, so no rest args and no allocation.
    if (typeof labelsOrValue === 'object') this.sink.inc(labelsOrValue, value ?? 1);
    else this.sink.inc(undefined, labelsOrValue ?? 1);
  }
}

class GaugeHandle implements Gauge {
  sink: GaugeSink = NOOP_SINK;
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
  sink: HistogramSink = NOOP_SINK;
  observe(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.sink.observe(labelsOrValue, value!);
    else this.sink.observe(undefined, labelsOrValue);
  }
}

type Entry =
  | { type: 'counter'; definition: MetricDefinition; handle: CounterHandle; sinks: CounterSink[] }
  | { type: 'gauge'; definition: GaugeDefinition; handle: GaugeHandle; sinks: GaugeSink[] }
  | { type: 'histogram'; definition: HistogramDefinition; handle: HistogramHandle; sinks: HistogramSink[] };

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

export class MetricsFacade implements Metrics {
  readonly #entries = new Map<string, Entry>();
  readonly #backends: MetricsBackend[] = [];

  counter(definition: MetricDefinition): Counter {
    return this.#define('counter', definition).handle as Counter;
  }

  gauge(definition: GaugeDefinition): Gauge {
    return this.#define('gauge', definition).handle as Gauge;
  }

  histogram(definition: HistogramDefinition): Histogram {
    return this.#define('histogram', definition).handle as Histogram;
  }

  /** Connects a backend: it receives every metric defined so far and every one defined later. */
  attach(backend: MetricsBackend): void {
    if (this.#backends.includes(backend)) return;
    this.#backends.push(backend);
    for (const entry of this.#entries.values()) this.#bind(entry, backend);
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
          'METRIC_CONFLICT',
          `metric '${definition.name}' is already defined as a ${existing.type} with labels [${(existing.definition.labelNames ?? []).join(', ')}]`,
        );
      }
      return existing;
    }
    if (!NAME_RE.test(definition.name)) {
      throw new ConfigError('METRIC_INVALID_NAME', `metric name '${definition.name}' must match ${NAME_RE.source}`);
    }
    const entry = (
      type === 'counter'
        ? { type, definition, handle: new CounterHandle(), sinks: [] }
        : type === 'gauge'
          ? { type, definition, handle: new GaugeHandle(), sinks: [] }
          : { type, definition, handle: new HistogramHandle(), sinks: [] }
    ) as Entry;
    this.#entries.set(definition.name, entry);
    for (const backend of this.#backends) this.#bind(entry, backend);
    return entry;
  }

  #bind(entry: Entry, backend: MetricsBackend): void {
    switch (entry.type) {
      case 'counter':
        entry.sinks.push(backend.counter(entry.definition));
        entry.handle.sink = fanOut(entry.sinks, ['inc']);
        break;
      case 'gauge':
        entry.sinks.push(backend.gauge(entry.definition));
        entry.handle.sink = fanOut(entry.sinks, ['set', 'inc']);
        break;
      case 'histogram':
        entry.sinks.push(backend.histogram(entry.definition));
        entry.handle.sink = fanOut(entry.sinks, ['observe']);
        break;
    }
  }
}
