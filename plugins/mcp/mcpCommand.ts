/**
 * `mister-smith mcp [--config f] --agent <id>`: serves the tool bus over stdio as one agent, for an
 * MCP client that runs Mister Smith as a subprocess. stdout carries the protocol, so the kernel
 * logs to stderr. It ends when the client closes stdin, or on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { PluginCommand } from '../../sdk/index.js';
import type { McpOptions } from './options.js';
import type {} from './types.js';

/** The `mcp` command. `stdin` is the process' own (a test may pass another through `run`'s extra argument). */
export const mcpCommand: PluginCommand<McpOptions> & { run(ctx: Parameters<PluginCommand<McpOptions>['run']>[0], stdin?: NodeJS.ReadableStream): Promise<number> } = {
  summary: 'serve the tool bus over MCP stdio as one agent',
  usage: 'mcp [--config <file>] --agent <agentId>',
  async run(ctx, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
    let agent: string | undefined;
    try {
      const { values } = parseArgs({ args: [...ctx.argv], options: { agent: { type: 'string' } }, strict: true });
      agent = values.agent;
    } catch (error) {
      ctx.stderr.write(`mcp: ${(error as Error).message}\nusage: mister-smith ${mcpCommand.usage}\n`);
      return 2;
    }
    if (agent === undefined || agent === '') {
      ctx.stderr.write(`mcp: --agent <agentId> is required (the agent whose grants the client gets)\nusage: mister-smith ${mcpCommand.usage}\n`);
      return 2;
    }
    const kernel = await ctx.startKernel({ logTo: 'stderr' });
    try {
      const transport = new StdioServerTransport(stdin as NodeJS.ReadStream, ctx.stdout as NodeJS.WriteStream);
      const closed = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        stdin.once('end', () => resolve());
        stdin.once('close', () => resolve());
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        kernel.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const disconnect = await kernel.resolve('mcp').connect(transport, agent);
      await closed;
      await disconnect();
      return 0;
    } finally {
      await kernel.stop('mcp client disconnected');
    }
  },
};
