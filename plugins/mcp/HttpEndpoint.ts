/**
 * The Streamable HTTP endpoint on the http plugin. Stateless: every POST gets its own server
 * session bound to the agent its bearer token maps to, so no session state can leak between
 * clients and a restarted kernel accepts the same clients at once. Answers are plain JSON (tool
 * calls are request/response; nothing needs a server-initiated stream).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Logger } from '../../sdk/index.js';
import type { HttpRequest, HttpReply, HttpService } from '../http/types.js';
import type { ToolBus } from '../tools/types.js';
import { createToolServer, type ToolServerIdentity } from './createToolServer.js';

const jsonRpcError = (status: number, code: number, message: string): HttpReply => ({
  status,
  headers: status === 401 ? { 'www-authenticate': 'Bearer realm="mister-smith-mcp"' } : {},
  body: { jsonrpc: '2.0', error: { code, message }, id: null },
});

export class HttpEndpoint {
  readonly #tools: ToolBus;
  readonly #http: HttpService;
  readonly #path: string;
  readonly #logger: Logger;
  /** Bearer token → identity: the configured clients and the issued ones. */
  readonly #clients = new Map<string, ToolServerIdentity>();

  constructor(tools: ToolBus, http: HttpService, path: string, clients: Readonly<Record<string, string>>, logger: Logger) {
    this.#tools = tools;
    this.#http = http;
    this.#path = path;
    this.#logger = logger;
    for (const [token, agentId] of Object.entries(clients)) this.#clients.set(token, { agentId });
  }

  get url(): string | undefined {
    const base = this.#http.url;
    return base === undefined ? undefined : `${base.replace(/\/+$/, '')}${this.#path}`;
  }

  /** Adds the routes; the returned function removes them. */
  mount(): () => void {
    // The endpoint checks its own bearer tokens (each maps to an agent), so the http plugin's
    // single shared token does not apply here.
    const post = this.#http.route('POST', this.#path, (req, res) => this.#post(req, res), { auth: false });
    const refuse = (): HttpReply => ({ status: 405, headers: { allow: 'POST' }, body: { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this endpoint is stateless; use POST' }, id: null } });
    const get = this.#http.route('GET', this.#path, refuse, { auth: false });
    const del = this.#http.route('DELETE', this.#path, refuse, { auth: false });
    return () => {
      post();
      get();
      del();
    };
  }

  /** A random token for one agent, valid until disposed. */
  issue(identity: ToolServerIdentity): { token: string; revoke: () => void } {
    const token = `mst_${randomBytes(24).toString('base64url')}`;
    this.#clients.set(token, identity);
    return { token, revoke: () => void this.#clients.delete(token) };
  }

  async #post(req: HttpRequest, res: ServerResponse): Promise<HttpReply | undefined> {
    const header = req.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const identity = token === undefined ? undefined : this.#clients.get(token);
    if (identity === undefined) {
      this.#logger.debug({ path: this.#path }, 'mcp request without a known bearer token refused');
      return jsonRpcError(401, -32001, token === undefined ? 'Unauthorized: send Authorization: Bearer <token> (see the mcp plugin option clients)' : 'Unauthorized: unknown or revoked token');
    }
    const server = createToolServer(this.#tools, identity);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    try {
      await server.connect(transport);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const request = new Request(`http://mcp.local${this.#path}`, { method: 'POST', headers, body: JSON.stringify(req.body ?? null), signal: req.signal });
      const response = await transport.handleRequest(request, { parsedBody: req.body });
      const body = Buffer.from(await response.arrayBuffer());
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      res.writeHead(response.status, out);
      res.end(body);
      return undefined;
    } finally {
      await transport.close().catch(() => undefined);
      await server.close().catch(() => undefined);
    }
  }
}
