/**
 * The dashboard plugin: a plain web page at `/` (on the http plugin) showing the supervision tree,
 * agents and runs with their step trees, pending approvals, the live event stream, health and key
 * metrics. Everything it shows comes from the services and the event log; it changes nothing but
 * approvals.
 */
import { definePlugin } from '../../sdk/index.js';
import type {} from '../agents/types.js';
import type {} from '../events/types.js';
import type {} from '../health/types.js';
import type {} from '../http/types.js';
import type {} from '../metrics-prometheus/types.js';
import type {} from '../supervision/types.js';
import { Dashboard, type AgentsPort } from './Dashboard.js';
import { DashboardOptionsSchema } from './options.js';
import { registerRoutes } from './routes.js';
import { StaticAssets } from './staticAssets.js';

export default definePlugin({
  name: 'dashboard',
  version: '1.0.0',
  description: 'A web page with the supervision tree, agent runs and their steps, approvals, live events, health and key metrics',
  kernel: '^1.0.0',
  dependsOn: ['http'],
  optionalDependsOn: ['agents', 'supervision', 'events', 'health', 'tools', 'metrics-prometheus'],
  options: DashboardOptionsSchema,
  setup(ctx) {
    const http = ctx.resolve('http');
    const events = ctx.tryResolve('events');
    const agents = ctx.tryResolve('agents') as AgentsPort | undefined;
    const supervision = ctx.tryResolve('supervision');
    const health = ctx.tryResolve('health');
    const prometheus = ctx.tryResolve('prometheus');
    const dashboard = new Dashboard({ options: ctx.options, logger: ctx.logger, events, agents, supervision, health, prometheus });
    const removeRoutes = registerRoutes({
      http,
      dashboard,
      assets: new StaticAssets(),
      options: ctx.options,
      has: {
        events: events !== undefined,
        agents: agents !== undefined,
        approvals: agents !== undefined,
        supervision: supervision !== undefined,
        health: health !== undefined,
        metrics: prometheus !== undefined,
      },
    });
    ctx.onStart(async (signal) => {
      await dashboard.start(signal);
      ctx.logger.info({ url: `${http.url}${ctx.options.path}` }, `dashboard at ${http.url}${ctx.options.path}`);
    });
    ctx.onStop(async () => {
      await dashboard.stop();
      removeRoutes();
    });
  },
});

export { Dashboard } from './Dashboard.js';
export type { AgentsPort, DashboardDeps, Update } from './Dashboard.js';
export { DashboardOptionsSchema } from './options.js';
export type { DashboardOptions } from './options.js';
export type * from './types.js';
