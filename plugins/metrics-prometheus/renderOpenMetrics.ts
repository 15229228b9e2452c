/**
 * OpenMetrics text for a registry, without switching the registry's content type: prom-client's
 * own OpenMetrics path renames counters in place (strips `_total` from `metric.name`), which would
 * corrupt every later Prometheus-format scrape of the same registry. Counters are rendered through
 * a wrapper carrying the OpenMetrics name instead.
 */
import { Registry, type Metric, type OpenMetricsContentType } from 'prom-client';

interface Renderable {
  readonly name: string;
  readonly type: string;
  get(): Promise<unknown>;
}

export async function renderOpenMetrics(source: Registry): Promise<string> {
  // prom-client's typings omit the constructor's content-type argument; setContentType is typed.
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of source.getMetricsAsArray() as unknown as Array<Metric & Renderable>) {
    if (metric.type === 'counter') {
      const name = metric.name.endsWith('_total') ? metric.name.slice(0, -'_total'.length) : metric.name;
      const wrapper: Renderable = {
        name,
        type: 'counter',
        get: async () => ({ ...((await metric.get()) as object), name }),
      };
      view.registerMetric(wrapper as unknown as Metric);
    } else {
      view.registerMetric(metric as Metric);
    }
  }
  return view.metrics();
}
