/**
 * Public contract of the mcp plugin: the tool bus as an MCP server, and external MCP servers'
 * tools on the bus. Other plugins (provider-claude-cli) use these names through `import type`.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Disposer } from '../../sdk/index.js';

/** A bearer token that makes an MCP client act as one agent, issued at run time. */
export interface McpClientToken {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** The Streamable HTTP endpoint (`http://127.0.0.1:PORT/mcp`). */
  readonly url: string;
  readonly agentId: string;
  /** Revokes the token; requests with it are refused afterwards. */
  readonly dispose: Disposer;
}

/** Options of an issued token. */
export interface IssueTokenOptions {
  /**
   * Agents the client acts on behalf of, outermost first: its calls are allowed only when every
   * one of them may call the tool too (as for a delegated run).
   */
  readonly delegation?: readonly string[];
  /**
   * Only these tool names, on top of the grants: what one model request was offered (a provider
   * passes its request's tools, so the client can reach exactly those and nothing the agent gained
   * or the request left out).
   */
  readonly tools?: readonly string[];
}

/** How an imported external MCP server is doing. */
export interface McpServerStatus {
  readonly name: string;
  /** `command` (a supervised subprocess over stdio) or `url` (Streamable HTTP). */
  readonly kind: 'command' | 'url';
  /**
   * `down` while its supervisor restarts it; `failed` once the supervisor gave up (more than
   * `maxRestarts` crashes within `restartPeriodMs`): its tools fail for good until the system restarts.
   */
  readonly state: 'connecting' | 'connected' | 'down' | 'failed' | 'stopped';
  /** The subprocess' pid while connected over stdio. */
  readonly pid: number | undefined;
  /** Times the connection was re-established after a crash. */
  readonly restarts: number;
  /** The Mister Smith names of its tools (`mcp.<server>.<tool>`). */
  readonly tools: readonly string[];
}

/** The `mcp` service. */
export interface McpService {
  /** The Streamable HTTP endpoint once the http plugin is started; undefined without it. */
  readonly url: string | undefined;
  /**
   * Issues an ephemeral bearer token for `agentId` on the HTTP endpoint (a provider that runs an
   * MCP client subprocess for one agent uses it). Throws `MCP_HTTP_UNAVAILABLE` without http.
   */
  issueToken(agentId: string, options?: IssueTokenOptions): McpClientToken;
  /**
   * Serves the tool bus as `agentId` over any MCP transport (stdio, in-memory). The disposer
   * closes the connection; so does the transport closing.
   */
  connect(transport: Transport, agentId: string, options?: IssueTokenOptions): Promise<Disposer>;
  /** The imported external servers. */
  servers(): McpServerStatus[];
}

declare module '../../sdk/index.js' {
  interface Services {
    mcp: McpService;
  }
}
