/**
 * `http.fetch`: HTTP(S) requests to an allow-list of hosts. The host check happens before any
 * connection (no DNS lookup for a refused host); redirects are followed only to the same host
 * (at most 5); the body is capped at `maxBytes` while it streams in; the deadline is the tool's.
 * The agent's `Host`, hop-by-hop and framing headers are dropped (see {@link forwardableHeaders}).
 * A traced call sends its trace context as the `traceparent` header (see {@link withTraceContext}).
 *
 * Built on node:http with `agent: false`: one connection per request, closed after it, so a
 * stopped kernel keeps no idle keep-alive sockets (the global fetch's pool would).
 */
import http from 'node:http';
import https from 'node:https';
import { z } from '../../sdk/index.js';
import { replaceTraceContext } from '../../sdk/util/index.js';
import type { ToolDefinition } from '../tools/types.js';
import { BuiltinToolErrorCodes, builtinError } from './errors.js';

export interface HttpToolOptions {
  /** `host` or `host:port` entries, compared exactly (case-insensitively) with the URL's host. */
  readonly allowHosts: readonly string[];
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** Redirect hops followed at most (same host only). */
export const MAX_REDIRECTS = 5;

const input = z.object({
  url: z.string().min(1).describe('Absolute http(s) URL; its host must be allowed'),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
});
const output = z.object({
  url: z.string(),
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
});

type Output = z.output<typeof output>;

function refuse(url: string, why: string): Error {
  return builtinError(BuiltinToolErrorCodes.HOST_NOT_ALLOWED, `http.fetch refused ${url}: ${why}`, { url });
}

/** The URL if its scheme is http(s) and its host is allowed; throws TOOL_HOST_NOT_ALLOWED otherwise. */
export function checkUrl(raw: string, allowHosts: ReadonlySet<string>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(raw, 'not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(raw, `scheme '${url.protocol}' is not http or https`);
  if (!allowHosts.has(url.host.toLowerCase())) {
    throw refuse(raw, `host '${url.host}' is not in http.allowHosts (${[...allowHosts].join(', ') || 'empty'})`);
  }
  return url;
}

/**
 * Request headers an agent may not set: `host` (the URL names the host; a forged one reaches
 * virtual hosts the allow-list never named), the hop-by-hop and connection-level headers of RFC 9110
 * §7.6.1 (and those the agent's `Connection` names), framing (`content-length` and
 * `transfer-encoding` are computed from the body; a false length desynchronises the connection),
 * `expect` (a `100-continue` would hold the body back), and proxy credentials.
 */
const DROPPED = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'expect']);

/** The agent's headers without those {@link DROPPED}, `proxy-*`, or named by its `Connection` header. */
export function forwardableHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const named = new Set<string>();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'connection') for (const token of v.split(',')) named.add(token.trim().toLowerCase());
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (DROPPED.has(name) || name.startsWith('proxy-') || named.has(name)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The request headers of a call traced with `traceparent`: the call's trace context replaces any
 * `traceparent` (and `tracestate`) the input carried, whatever their case. The trace is the
 * caller's span, not something the model chooses: a model-written value would attach the request
 * to a trace of the model's making (or to another run's, if it copied one from a page it read).
 * Without a trace context the input's headers go as they are.
 */
export function withTraceContext(headers: Record<string, string>, traceparent: string | undefined): Record<string, string> {
  return traceparent === undefined ? headers : replaceTraceContext(headers, traceparent);
}

function headersOf(res: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function once(url: URL, method: string, headers: Record<string, string>, body: string | undefined, maxBytes: number, signal: AbortSignal): Promise<Output & { location?: string }> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method, headers, agent: false, signal }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        res.resume();
        resolve({ url: url.href, status, headers: headersOf(res), body: '', location });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        req.destroy();
        reject(builtinError(BuiltinToolErrorCodes.TOO_LARGE, `response of ${url.href} is ${declared} bytes, over the limit of ${maxBytes}`, { url: url.href, maxBytes }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          reject(builtinError(BuiltinToolErrorCodes.TOO_LARGE, `response of ${url.href} exceeds the limit of ${maxBytes} bytes`, { url: url.href, maxBytes }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ url: url.href, status, headers: headersOf(res), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined && method !== 'GET' && method !== 'HEAD') req.end(body);
    else req.end();
  });
}

/** The `http.fetch` tool for these options. */
export function httpFetchTool(options: HttpToolOptions): ToolDefinition<typeof input, typeof output> {
  const allowHosts = new Set(options.allowHosts.map((h) => h.toLowerCase()));
  return {
    name: 'http.fetch',
    description: `Makes an HTTP request to an allowed host (${[...allowHosts].join(', ') || 'none configured'}) and returns status, headers and body (at most ${options.maxBytes} bytes).`,
    input,
    output,
    timeoutMs: options.timeoutMs,
    async handler(req, ctx) {
      let url = checkUrl(req.url, allowHosts);
      let method: string = req.method;
      let body = req.body;
      const headers = withTraceContext(forwardableHeaders(req.headers), ctx.traceparent);
      for (let hop = 0; ; hop++) {
        const res = await once(url, method, headers, body, options.maxBytes, ctx.signal);
        if (res.location === undefined) return { url: res.url, status: res.status, headers: res.headers, body: res.body };
        if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${req.url}`);
        const next = new URL(res.location, url);
        if (next.host.toLowerCase() !== url.host.toLowerCase()) throw refuse(next.href, `redirect from '${url.host}' to another host is not followed`);
        url = checkUrl(next.href, allowHosts);
        // 303, and 301/302 after a POST, turn into a GET as browsers do.
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
      }
    },
  };
}
