/** The tool bus as an MCP server (Streamable HTTP, stdio), and external MCP servers' tools on the bus. */
import { definePlugin } from '../../sdk/index.js';
import type {} from '../http/types.js';
import type {} from '../supervision/types.js';
import type {} from '../tools/types.js';
import { ExternalServers } from './ExternalServers.js';
import { HttpEndpoint } from './HttpEndpoint.js';
import { mcpCommand } from './mcpCommand.js';
import { McpServer } from './McpServer.js';
import { McpOptionsSchema } from './options.js';

export default definePlugin({
  name: 'mcp',
  version: '1.0.0',
  description: 'The tool bus as an MCP server over HTTP and stdio; external MCP servers\' tools on the bus',
  kernel: '^1.0.0',
  dependsOn: ['tools', 'supervision'],
  optionalDependsOn: ['http'],
  options: McpOptionsSchema,
  commands: { mcp: mcpCommand },
  setup(ctx) {
    const tools = ctx.resolve('tools');
    const http = ctx.tryResolve('http');
    const endpoint = http === undefined ? undefined : new HttpEndpoint(tools, http, ctx.options.path, ctx.options.clients, ctx.logger);
    const external = new ExternalServers(ctx.options, tools, ctx.resolve('supervision'), ctx.configDir, ctx.logger);
    ctx.provide('mcp', new McpServer(tools, endpoint, external));
    if (endpoint !== undefined) {
      const unmount = endpoint.mount();
      ctx.onStop(async () => unmount());
    }
    ctx.onStart(async () => {
      await external.start();
      if (endpoint !== undefined) ctx.logger.info({ url: endpoint.url, clients: Object.keys(ctx.options.clients).length }, 'mcp endpoint ready');
    });
    ctx.onStop(() => external.stop());
  },
});

export { McpErrorCodes } from './errors.js';
export { mcpCommand } from './mcpCommand.js';
export { McpOptionsSchema } from './options.js';
export type { McpOptions } from './options.js';
export type { IssueTokenOptions, McpClientToken, McpServerStatus, McpService } from './types.js';
