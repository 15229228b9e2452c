/**
 * `mister-smith mcp [--config f] --agent <id>`: serves the tool bus over stdio as one agent, for an
 * MCP client that runs Mister Smith as a subprocess. stdout carries the protocol, so the kernel
 * logs to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { parseArgs } from 'node:util';
import type { McpService } from './types.js';

/** What the command needs of the kernel it starts. */
export interface McpCommandKernel {
  resolve(name: 'mcp'): McpService;
  stop(reason?: string): Promise<unknown>;
}

/** What the CLI hands a plugin command (the kernel's plugin-command contract). */
export interface McpCommandContext {
  readonly argv: readonly string[];
  readonly stdin?: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly signal: AbortSignal;
  startKernel(opts?: { only?: readonly string[]; options?: Record<string, unknown>; logTo?: 'stdout' | 'stderr' | 'silent' }): Promise<McpCommandKernel>;
}

export const mcpCommand = {
  summary: 'serve the tool bus over MCP stdio as one agent',
  usage: 'mcp [--config <file>] --agent <agentId>',
  async run(ctx: McpCommandContext): Promise<number> {
    let agent: string | undefined;
    try {
      const { values } = parseArgs({ args: [...ctx.argv], options: { agent: { type: 'string' }, config: { type: 'string' } }, allowPositionals: true, strict: true });
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
      const stdin = (ctx.stdin ?? process.stdin) as NodeJS.ReadStream;
      const transport = new StdioServerTransport(stdin, ctx.stdout as NodeJS.WriteStream);
      const closed = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        stdin.once('end', () => resolve());
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
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
