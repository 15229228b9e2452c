/**
 * Codes of the metrics-prometheus plugin. A metrics problem never throws into the code that counts:
 * these codes appear in the (one-per-metric) log lines instead.
 */
export const PROMETHEUS_ERROR_CODES = Object.freeze({
  /** prom-client refused a facade metric (name taken by a default metric, reserved label…); it is not exported. */
  PROMETHEUS_METRIC_REJECTED: 'PROMETHEUS_METRIC_REJECTED',
  /** A metric reached `maxLabelSets` distinct label sets; further new sets are folded into `other`. */
  PROMETHEUS_LABEL_CAP_REACHED: 'PROMETHEUS_LABEL_CAP_REACHED',
  /** An update used labels prom-client rejects (a name not declared in `labelNames`, a bad value); it was dropped. */
  PROMETHEUS_INVALID_LABELS: 'PROMETHEUS_INVALID_LABELS',
  /** A gauge's `collect` threw during a scrape; the gauge keeps its last value. */
  PROMETHEUS_COLLECT_FAILED: 'PROMETHEUS_COLLECT_FAILED',
});
