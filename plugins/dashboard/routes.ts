/**
 * The dashboard's HTTP surface on the http plugin: the page at `options.path`, its files under
 * `/dashboard/assets/`, JSON under `/dashboard/api/`, and the live feed at `/dashboard/api/stream`.
 */
import type { HttpReply, HttpRequest, HttpService } from '../http/types.js';
import type { Dashboard } from './Dashboard.js';
import type { DashboardOptions } from './options.js';
import type { StaticAssets } from './staticAssets.js';
import type { Overview } from './types.js';

const API = '/dashboard/api';
const NO_STORE = { 'cache-control': 'no-store' };

const json = (body: unknown, status = 200): HttpReply => ({ status, headers: NO_STORE, body });
const problem = (status: number, code: string, message: string): HttpReply => json({ error: { code, message } }, status);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface RouteDeps {
  readonly http: HttpService;
  readonly dashboard: Dashboard;
  readonly assets: StaticAssets;
  readonly options: DashboardOptions;
  readonly has: Overview['features'];
}

/** Registers every route; returns a function that removes them. */
export function registerRoutes({ http, dashboard, assets, options, has }: RouteDeps): () => void {
  const removers: Array<() => void> = [];
  const get = (path: string, handler: Parameters<HttpService['route']>[2]): void => void removers.push(http.route('GET', path, handler));

  get(options.path, async () => {
    const page = await assets.get('index.html');
    if (page === undefined) return problem(500, 'DASHBOARD_ASSET_MISSING', 'index.html is missing from the dashboard package');
    const html = page.body.toString('utf8').replaceAll('{{title}}', escapeHtml(options.title));
    return { headers: { 'content-type': page.type, ...NO_STORE }, body: Buffer.from(html) };
  });
  get('/dashboard/assets/*', async (req) => {
    const asset = await assets.get(req.params['*'] ?? '');
    if (asset === undefined) return problem(404, 'DASHBOARD_ASSET_NOT_FOUND', `no dashboard asset '${req.params['*'] ?? ''}'`);
    return { headers: { 'content-type': asset.type, 'cache-control': 'no-cache' }, body: asset.body };
  });

  get(`${API}/overview`, () =>
    json({
      title: options.title,
      features: { ...has, approvals: has.approvals && dashboard.canApprove() },
      links: { ...(has.health ? { healthz: '/healthz' } : {}), ...(has.metrics ? { metrics: '/metrics' } : {}) },
    } satisfies Overview),
  );
  get(`${API}/tree`, () => json(dashboard.tree()));
  get(`${API}/agents`, () => json(dashboard.agents()));
  get(`${API}/runs`, (req) => json(dashboard.runs.list({ agent: req.query.get('agent') ?? undefined, status: req.query.get('status') ?? undefined })));
  get(`${API}/runs/:id`, async (req) => {
    const detail = await dashboard.runDetail(req.params.id!);
    return detail === undefined ? problem(404, 'DASHBOARD_RUN_NOT_FOUND', `no run '${req.params.id}' on the event log`) : json(detail);
  });
  get(`${API}/approvals`, () => json(dashboard.runs.approvals()));
  get(`${API}/events`, (req) => {
    const limit = Number(req.query.get('limit') ?? options.eventBuffer);
    const after = Number(req.query.get('after') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(after) || after < 0) {
      return problem(400, 'DASHBOARD_BAD_QUERY', 'limit must be a positive integer and after a non-negative integer');
    }
    return json(dashboard.recentEvents(limit, after));
  });
  get(`${API}/health`, () => {
    const report = dashboard.health();
    return report === undefined ? problem(404, 'DASHBOARD_NO_HEALTH', 'the health plugin is not loaded') : json(report);
  });
  get(`${API}/metrics`, () => json(dashboard.metrics()));
  get(`${API}/stream`, (req: HttpRequest, res) => {
    // A reconnecting EventSource sends Last-Event-ID; a page's first connection says with `?after=`
    // which events it already fetched, so the stream starts exactly after them.
    const header = req.headers['last-event-id'];
    const given = typeof header === 'string' && header !== '' ? header : (req.query.get('after') ?? undefined);
    const last = given !== undefined && /^\d+$/.test(given) ? Number(given) : undefined;
    dashboard.hub.open(res, req.signal, dashboard.backlog(last));
    return undefined;
  });
  removers.push(
    http.route('POST', `${API}/runs/:id/approvals/:callId`, async (req) => {
      const decision = (req.body as { decision?: unknown } | undefined)?.decision;
      if (decision !== 'allow' && decision !== 'deny') return problem(400, 'DASHBOARD_BAD_DECISION', `decision must be "allow" or "deny", got ${JSON.stringify(decision)}`);
      if (!dashboard.canApprove()) return problem(501, 'DASHBOARD_APPROVALS_UNAVAILABLE', 'the loaded agents plugin has no agents.approve');
      try {
        await dashboard.approve(req.params.id!, req.params.callId!, decision);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const message = error instanceof Error ? error.message : String(error);
        const status = typeof code === 'string' && /NOT_FOUND|UNKNOWN/.test(code) ? 404 : 409;
        return problem(status, typeof code === 'string' ? code : 'DASHBOARD_APPROVAL_FAILED', message);
      }
      return json({ runId: req.params.id, callId: req.params.callId, decision }, 202);
    }),
  );
  return () => {
    for (const remove of removers.splice(0)) remove();
  };
}
