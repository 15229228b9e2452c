import { z } from '../../sdk/index.js';

const CommandServer = z.strictObject({
  /** The executable of a stdio MCP server (`npx`, `node`, `uvx`). */
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Added to a minimal inherited environment (PATH, HOME…), as MCP clients do. */
  env: z.record(z.string(), z.string()).default({}),
  /** Working directory, relative to the config file. */
  cwd: z.string().optional(),
});

const UrlServer = z.strictObject({
  /** A Streamable HTTP MCP endpoint. */
  url: z.url(),
  headers: z.record(z.string(), z.string()).default({}),
});

export const McpOptionsSchema = z.strictObject({
  /** Route of the Streamable HTTP endpoint on the http plugin. */
  path: z.string().startsWith('/').default('/mcp'),
  /** Static clients: bearer token → the agent id the client acts as. */
  clients: z
    .record(z.string(), z.string().min(1))
    .default({})
    .superRefine((clients, ctx) => {
      for (const token of Object.keys(clients)) {
        // A short token is guessable. The issue names the agent, never the token (a secret in logs).
        if (token.length < 16) ctx.addIssue({ code: 'custom', message: `a client token must be at least 16 characters (the one for '${clients[token]}' has ${token.length})` });
      }
    }),
  /** External MCP servers whose tools are imported as `mcp.<name>.<tool>`. */
  servers: z
    .record(z.string(), z.union([CommandServer, UrlServer]))
    .default({})
    .superRefine((servers, ctx) => {
      for (const name of Object.keys(servers)) {
        if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `server name '${name}' must be a letter followed by letters, digits, _ or - (it becomes part of tool names mcp.<name>.<tool>)` });
      }
    }),
  /** Deadline to connect to an external server and list its tools. */
  connectTimeoutMs: z.number().int().positive().default(10_000),
  /** Deadline of a call to an imported tool (the tool bus' own deadline applies too). */
  callTimeoutMs: z.number().int().positive().default(60_000),
  /** Restarts of one external server allowed within `restartPeriodMs` before giving up. */
  maxRestarts: z.number().int().nonnegative().default(5),
  restartPeriodMs: z.number().int().positive().default(60_000),
});

export type McpOptions = z.output<typeof McpOptionsSchema>;
export type McpServerConfig = McpOptions['servers'][string];
