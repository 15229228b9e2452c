/** Options of the dashboard plugin; `{}` validates and serves the page at `/`. */
import { z } from '../../sdk/index.js';

export const DashboardOptionsSchema = z.strictObject({
  /** Shown in the page header and the browser tab. */
  title: z.string().min(1).max(120).default('Mister Smith'),
  /**
   * Where the page itself is served. The API and assets always live under `/dashboard/`, so a
   * page moved to `/ops/` still finds them.
   */
  path: z
    .string()
    .regex(/^\/([A-Za-z0-9._~-]+\/)*$/, 'an absolute path ending in "/" (e.g. "/" or "/ops/")')
    .default('/'),
  /** Recent events kept in memory for the event stream panel and for SSE clients that reconnect. */
  eventBuffer: z.number().int().min(10).max(100_000).default(500),
  /** Runs kept in the run index; the oldest finished runs are forgotten past it. */
  maxRuns: z.number().int().min(10).max(100_000).default(2_000),
  /**
   * How long one SSE response stays open before the server ends it and the browser reconnects
   * (with `Last-Event-ID`, so nothing is missed). Keep it under the http plugin's `requestTimeoutMs`.
   */
  streamMaxMs: z.number().int().min(1_000).max(3_600_000).default(20_000),
  /** Interval of the SSE keep-alive comment and of the tree/health snapshot pushed to clients. */
  snapshotIntervalMs: z.number().int().min(100).max(60_000).default(1_000),
});

export type DashboardOptions = z.output<typeof DashboardOptionsSchema>;
