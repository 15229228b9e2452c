/** The metrics-prometheus plugin: a prom-client backend for the metrics facade, and `GET /metrics`. */
import { collectDefaultMetrics } from 'prom-client';
import { definePlugin, METRIC_PREFIX } from '../../sdk/index.js';
import { PrometheusOptionsSchema } from './options.js';
import { PrometheusBackend } from './PrometheusBackend.js';

export default definePlugin({
  name: 'metrics-prometheus',
  version: '1.0.0',
  description: 'Exports every facade metric (and process metrics) in the Prometheus format on GET /metrics',
  optionalDependsOn: ['http'],
  options: PrometheusOptionsSchema,
  setup(ctx) {
    const backend = new PrometheusBackend({ maxLabelSets: ctx.options.maxLabelSets, logger: ctx.logger });
    if (ctx.options.defaultMetrics) collectDefaultMetrics({ register: backend.registry, prefix: METRIC_PREFIX });
    // The kernel's facade replays every metric defined so far into the backend, and later ones too.
    ctx.hooks.metricsBackend.call(backend);
    const removeRoute = ctx.tryResolve('http')?.route('GET', ctx.options.path, async (req) => {
      const accept = req.headers.accept;
      const format = accept !== undefined && accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
      return { status: 200, headers: { 'content-type': backend.contentType(format) }, body: await backend.metrics(format) };
    });
    ctx.provide('prometheus', backend, { dispose: () => removeRoute?.() });
  },
});

export { PROMETHEUS_ERROR_CODES } from './errors.js';
export { LabelSetLimiter, OVERFLOW_LABEL_VALUE } from './LabelSetLimiter.js';
export { PrometheusOptionsSchema } from './options.js';
export type { PrometheusOptions } from './options.js';
export { PrometheusBackend } from './PrometheusBackend.js';
export type { PrometheusBackendOptions } from './PrometheusBackend.js';
export { renderOpenMetrics } from './renderOpenMetrics.js';
export type { ExpositionFormat, PrometheusService } from './types.js';
