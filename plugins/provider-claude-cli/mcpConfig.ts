/**
 * The agent's grants decide the CLI's tools. Its Mister Smith tools reach it through the mcp
 * plugin's HTTP endpoint with a bearer token that maps to the agent, written to a private MCP
 * config file; `--strict-mcp-config` ignores every other MCP server, `--tools` names the only
 * built-ins it may use, and `--allowedTools` lists exactly the granted tools so print mode can
 * call them without a permission prompt.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ToolInfo } from '../tools/types.js';

/** The MCP server name the CLI sees; its tools are `mcp__ms__<tool>`. */
export const MCP_SERVER_NAME = 'ms';

/** How Claude Code names an MCP tool: `mcp__<server>__<tool>` with other characters as `_`. */
export const cliToolName = (tool: string): string => `mcp__${MCP_SERVER_NAME}__${tool.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** A written config and the flags that use it; `dispose` removes the file. */
export interface ToolFlags {
  readonly args: string[];
  dispose(): Promise<void>;
}

/**
 * Flags for one call. `endpoint` is the mcp plugin's URL and a token for the agent (undefined when
 * the agent has no Mister Smith tools); `builtins` the Claude Code tools the agent is granted.
 */
export async function toolFlags(tools: readonly ToolInfo[], builtins: readonly string[], endpoint: { url: string; token: string } | undefined): Promise<ToolFlags> {
  const allowed = [...builtins];
  const args: string[] = ['--strict-mcp-config', '--tools', builtins.join(',')];
  let dir: string | undefined;
  if (endpoint !== undefined && tools.length > 0) {
    dir = await mkdtemp(path.join(tmpdir(), 'ms-claude-mcp-'));
    const file = path.join(dir, 'mcp.json');
    const config = { mcpServers: { [MCP_SERVER_NAME]: { type: 'http', url: endpoint.url, headers: { Authorization: `Bearer ${endpoint.token}` } } } };
    // The file holds a bearer token: only this user may read it, and it is removed after the call.
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    args.push('--mcp-config', file);
    allowed.push(...tools.map((t) => cliToolName(t.name)));
  }
  if (allowed.length > 0) args.push('--allowedTools', allowed.join(','));
  return {
    args,
    dispose: async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
