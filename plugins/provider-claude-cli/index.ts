/** A model provider that runs the Claude Code CLI as a supervised subprocess per model call. */
import path from 'node:path';
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../agents/types.js';
import type {} from '../mcp/types.js';
import type {} from '../tools/types.js';
import { ClaudeCliProvider } from './ClaudeCliProvider.js';

export const ClaudeCliOptionsSchema = z.object({
  /** The provider name agents refer to. */
  name: z.string().min(1).default('claude-cli'),
  /** The executable, looked up on PATH (`node_modules/.bin/claude` when installed locally). */
  command: z.string().min(1).default('claude'),
  /** Arguments before the ones the provider adds. */
  args: z.array(z.string()).default([]),
  /** Claude Code built-in tools (`Read`, `Grep`, `Bash`…) that may be offered; each only to an agent granted `claude.<Tool>`. */
  builtinTools: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/)).default([]),
  /** `--max-turns` of the CLI's own agent loop. */
  maxTurns: z.number().int().positive().optional(),
  /** `CLAUDE_CODE_MAX_RETRIES`: 0 leaves retries to the agents plugin's policy. */
  maxRetries: z.number().int().nonnegative().default(0),
  /** Deadline of one call (the original system's 300 s). */
  timeoutMs: z.number().int().positive().default(300_000),
  /** After SIGTERM at the deadline or on stop, how long before SIGKILL. */
  killGraceMs: z.number().int().nonnegative().default(5_000),
  maxOutputBytes: z.number().int().positive().default(10 * 1024 * 1024),
  /** Working directory of the subprocess, relative to the config file. */
  cwd: z.string().default('.'),
  /** Extra environment variables for the subprocess. */
  env: z.record(z.string(), z.string()).default({}),
});

export default definePlugin({
  name: 'provider-claude-cli',
  version: '2.0.0',
  description: 'Model provider running the Claude Code CLI as a supervised subprocess; its tools are the agent\'s, over MCP',
  kernel: '^1.0.0',
  dependsOn: ['agents', 'tools'],
  optionalDependsOn: ['mcp'],
  options: ClaudeCliOptionsSchema,
  setup(ctx) {
    const o = ctx.options;
    const provider = new ClaudeCliProvider({
      ...o,
      // A path (not a bare name looked up on PATH) is relative to the config file, like every path option.
      command: o.command.includes('/') || o.command.includes('\\') ? path.resolve(ctx.configDir, o.command) : o.command,
      maxTurns: o.maxTurns,
      cwd: path.resolve(ctx.configDir, o.cwd),
      tools: ctx.resolve('tools'),
      mcp: ctx.tryResolve('mcp'),
    });
    const unregister = ctx.resolve('agents').registerProvider(provider);
    ctx.onStop(async () => {
      await unregister();
      await provider.stop();
    });
  },
});

export { ClaudeCliProvider, renderPrompt } from './ClaudeCliProvider.js';
export type { ClaudeCliProviderOptions } from './ClaudeCliProvider.js';
export { ClaudeCliErrorCodes } from './errors.js';
export { cliToolName, MCP_SERVER_NAME } from './mcpConfig.js';
