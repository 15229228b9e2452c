/** Public contract of the metrics-prometheus plugin. */
import type { Registry } from 'prom-client';

/** The exposition formats `/metrics` speaks. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** The `prometheus` service. */
export interface PrometheusService {
  /** This kernel's own prom-client registry (never the global one); register extra prom-client metrics here. */
  readonly registry: Registry;
  /** Every metric in the exposition format (default Prometheus text 0.0.4). Runs gauges' `collect` first. */
  metrics(format?: ExpositionFormat): Promise<string>;
  /** The `Content-Type` of that format. */
  contentType(format?: ExpositionFormat): string;
}

declare module '../../sdk/index.js' {
  interface Services {
    prometheus: PrometheusService;
  }
}
