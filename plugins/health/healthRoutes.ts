/**
 * The probe endpoints. Kubernetes (and most orchestrators) read only the status code, so the code
 * carries the verdict and the JSON body is for humans.
 */
import type { Disposer } from '../../sdk/index.js';
import type { HttpService } from '../http/types.js';
import type { HealthReport, HealthService } from './types.js';

function failing(report: HealthReport, kind: 'live' | 'ready'): string[] {
  return Object.values(report.checks)
    .filter((c) => c.kind === kind && c.critical && c.status === 'unhealthy')
    .map((c) => c.name);
}

/** Adds `GET /livez`, `/readyz` and `/healthz`; returns a function that removes them. */
export function registerHealthRoutes(http: HttpService, health: HealthService, publicProbes: boolean): Disposer {
  const probeAuth = { auth: !publicProbes };
  const removers = [
    http.route(
      'GET',
      '/livez',
      () => {
        const report = health.report();
        return report.live
          ? { status: 200, body: { status: 'alive' } }
          : { status: 503, body: { status: 'not-alive', failing: failing(report, 'live') } };
      },
      probeAuth,
    ),
    http.route(
      'GET',
      '/readyz',
      () => {
        const report = health.report();
        if (report.ready) return { status: 200, body: { status: 'ready', kernel: report.kernel } };
        const checks = failing(report, 'ready');
        const reason = report.kernel !== 'running' ? `kernel is ${report.kernel}` : `critical check(s) unhealthy: ${checks.join(', ')}`;
        return { status: 503, body: { status: 'not-ready', kernel: report.kernel, reason, failing: checks } };
      },
      probeAuth,
    ),
    http.route('GET', '/healthz', () => {
      const report = health.report();
      return { status: report.status === 'unhealthy' ? 503 : 200, headers: { 'cache-control': 'no-store' }, body: report };
    }),
  ];
  return async () => {
    await Promise.all(removers.map((remove) => remove()));
  };
}
