/** A model provider that runs the Claude Code CLI as a subprocess per model call. */
import path from 'node:path';
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../agents/types.js';
import { ClaudeCliProvider } from './ClaudeCliProvider.js';

export const ClaudeCliOptionsSchema = z.object({
  name: z.string().min(1).default('claude-cli'),
  command: z.string().min(1).default('claude'),
  args: z.array(z.string()).default([]),
  allowedTools: z.array(z.string()).default([]),
  maxTurns: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().default(300_000),
  killGraceMs: z.number().int().nonnegative().default(10_000),
  maxOutputBytes: z.number().int().positive().default(10 * 1024 * 1024),
  /** Working directory of the subprocess, relative to the config file. */
  cwd: z.string().default('.'),
  env: z.record(z.string(), z.string()).default({}),
});

export default definePlugin({
  name: 'provider-claude-cli',
  version: '1.0.0',
  description: 'Model provider running the Claude Code CLI as a subprocess',
  kernel: '^1.0.0',
  dependsOn: ['agents'],
  options: ClaudeCliOptionsSchema,
  setup(ctx) {
    const o = ctx.options;
    const provider = new ClaudeCliProvider({ ...o, maxTurns: o.maxTurns, cwd: path.resolve(ctx.configDir, o.cwd) });
    const unregister = ctx.resolve('agents').registerProvider(provider);
    ctx.onStop(() => unregister());
  },
});

export { ClaudeCliProvider, renderPrompt } from './ClaudeCliProvider.js';
export type { ClaudeCliProviderOptions } from './ClaudeCliProvider.js';
