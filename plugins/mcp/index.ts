/** The tool bus as an MCP server (Streamable HTTP, stdio), and external MCP servers' tools on the bus. */
import { definePlugin } from '../../sdk/index.js';
import type {} from '../health/types.js';
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
  optionalDependsOn: ['http', 'health'],
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
    // A server being restarted makes its tools fail for a while: degraded, not down (the bus works).
    const health = ctx.tryResolve('health');
    if (health !== undefined && Object.keys(ctx.options.servers).length > 0) {
      const unregister = health.register('mcp-servers', () => {
        const down = external.status().filter((s) => s.state !== 'connected');
        return down.length === 0
          ? { status: 'healthy' }
          : { status: 'degraded', message: `MCP servers not connected: ${down.map((s) => `${s.name} (${s.state})`).join(', ')}`, details: { down: down.map((s) => s.name) } };
      }, { kind: 'ready', critical: false });
      ctx.onStop(() => unregister());
    }
  },
});

export { McpErrorCodes } from './errors.js';
export { mcpCommand } from './mcpCommand.js';
export { McpOptionsSchema } from './options.js';
export type { McpOptions } from './options.js';
export type { IssueTokenOptions, McpClientToken, McpServerStatus, McpService } from './types.js';
