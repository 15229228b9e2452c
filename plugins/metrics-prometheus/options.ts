import { z } from '../../sdk/index.js';

/** Options of the metrics-prometheus plugin; `{}` validates. */
export const PrometheusOptionsSchema = z.object({
  /** Where the http plugin serves the scrape endpoint. */
  path: z.string().startsWith('/').default('/metrics'),
  /** prom-client's process metrics (CPU, memory, event loop lag, GC, handles), prefixed `mister_smith_`. */
  defaultMetrics: z.boolean().default(true),
  /**
   * Distinct label sets one metric may have. A label value from unbounded input (ids, paths) would
   * otherwise grow memory and the scrape without limit; the excess is folded into `other`.
   */
  maxLabelSets: z.number().int().positive().default(1_000),
});

export type PrometheusOptions = z.output<typeof PrometheusOptionsSchema>;
