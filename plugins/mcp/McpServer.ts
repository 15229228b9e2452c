/** The `mcp` service: the HTTP endpoint's tokens, connections over any transport, imported servers. */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ConfigError, type Disposer } from '../../sdk/index.js';
import type { ToolBus } from '../tools/types.js';
import { createToolServer } from './createToolServer.js';
import { McpErrorCodes } from './errors.js';
import type { ExternalServers } from './ExternalServers.js';
import type { HttpEndpoint } from './HttpEndpoint.js';
import type { IssueTokenOptions, McpClientToken, McpServerStatus, McpService } from './types.js';

export class McpServer implements McpService {
  readonly #tools: ToolBus;
  readonly #endpoint: HttpEndpoint | undefined;
  readonly #external: ExternalServers;

  constructor(tools: ToolBus, endpoint: HttpEndpoint | undefined, external: ExternalServers) {
    this.#tools = tools;
    this.#endpoint = endpoint;
    this.#external = external;
  }

  get url(): string | undefined {
    return this.#endpoint?.url;
  }

  issueToken(agentId: string, options: IssueTokenOptions = {}): McpClientToken {
    const url = this.#endpoint?.url;
    if (this.#endpoint === undefined || url === undefined) {
      throw new ConfigError(McpErrorCodes.MCP_HTTP_UNAVAILABLE, `mcp cannot issue a token for '${agentId}': the http plugin is not ${this.#endpoint === undefined ? 'loaded (add "http" to the config)' : 'started'}`);
    }
    const { token, revoke } = this.#endpoint.issue({ agentId, delegation: options.delegation, only: options.tools === undefined ? undefined : new Set(options.tools) });
    return { token, url, agentId, dispose: async () => revoke() };
  }

  async connect(transport: Transport, agentId: string, options: IssueTokenOptions = {}): Promise<Disposer> {
    const server = createToolServer(this.#tools, { agentId, delegation: options.delegation, only: options.tools === undefined ? undefined : new Set(options.tools) });
    await server.connect(transport);
    return () => server.close();
  }

  servers(): McpServerStatus[] {
    return this.#external.status();
  }
}
