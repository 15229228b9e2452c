/**
 * External MCP servers whose tools join the bus as `mcp.<server>.<tool>` (deny by default like any
 * tool: an agent needs a grant). Each server is a child of a supervisor: a stdio server whose
 * process dies is restarted with backoff, and its tools answer `MCP_SERVER_UNAVAILABLE`
 * (retryable) until it is back. Stopping the plugin stops every process.
 */
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { KERNEL_VERSION, ToolError, z, type Disposer, type Logger } from '../../sdk/index.js';
import { withDeadline } from '../../sdk/util/index.js';
import type { ChildHandle, SupervisionService, Supervisor } from '../supervision/types.js';
import type { ToolBus } from '../tools/types.js';
import { McpErrorCodes } from './errors.js';
import type { McpOptions, McpServerConfig } from './options.js';
import type { McpServerStatus } from './types.js';

/** A tool-name segment as the bus accepts it: `[A-Za-z][A-Za-z0-9_-]*`. */
export function toSegment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z]/.test(s) ? s : `t${s}`;
}

/** The external tool's JSON Schema as zod, so the bus validates input before the round trip. */
function inputSchemaOf(tool: Tool): z.ZodType {
  try {
    return z.fromJSONSchema(tool.inputSchema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    // A schema zod cannot express: the external server validates.
    return z.record(z.string(), z.unknown());
  }
}

interface ServerState {
  readonly name: string;
  readonly config: McpServerConfig;
  state: McpServerStatus['state'];
  client: Client | undefined;
  transport: Transport | undefined;
  restarts: number;
  starts: number;
  /** Mister Smith name → external tool name. */
  readonly tools: Map<string, { readonly remote: string; readonly dispose: Disposer }>;
}

export class ExternalServers {
  readonly #options: McpOptions;
  readonly #tools: ToolBus;
  readonly #supervision: SupervisionService;
  readonly #logger: Logger;
  readonly #configDir: string;
  readonly #servers = new Map<string, ServerState>();
  readonly #supervisors = new Map<ServerState, Supervisor>();

  constructor(options: McpOptions, tools: ToolBus, supervision: SupervisionService, configDir: string, logger: Logger) {
    this.#options = options;
    this.#tools = tools;
    this.#supervision = supervision;
    this.#configDir = configDir;
    this.#logger = logger;
    for (const [name, config] of Object.entries(options.servers)) {
      this.#servers.set(name, { name, config, state: 'connecting', client: undefined, transport: undefined, restarts: 0, starts: 0, tools: new Map() });
    }
  }

  /**
   * Connects every server, each under a supervisor of its own (so `maxRestarts` counts one server's
   * crashes, and one flapping server never takes the others down with it); rejects, naming the
   * server, if one cannot start.
   */
  async start(): Promise<void> {
    const started = await Promise.allSettled([...this.#servers.values()].map((s) => this.#supervise(s)));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      await this.stop();
      throw failure.reason;
    }
  }

  async #supervise(s: ServerState): Promise<void> {
    const supervisor = await this.#supervision.start({
      id: `mcp-server:${s.name}`,
      strategy: 'one-for-one',
      intensity: this.#options.maxRestarts,
      periodMs: this.#options.restartPeriodMs,
      children: [{ id: 'connection', restart: 'permanent', shutdown: 5_000, startTimeoutMs: this.#options.connectTimeoutMs + 1_000, start: () => this.#connect(s) }],
    });
    this.#supervisors.set(s, supervisor);
    // A supervisor that stops on its own gave up (a stop of ours forgets it first): no one restarts
    // this server any more, and its tools must stop saying "try again".
    void supervisor.stopped.then(() => {
      if (this.#supervisors.get(s) === supervisor) s.state = 'failed';
    });
  }

  async stop(): Promise<void> {
    const supervisors = [...this.#supervisors.values()];
    this.#supervisors.clear();
    await Promise.all(supervisors.map((supervisor) => supervisor.stop()));
    for (const s of this.#servers.values()) {
      s.state = 'stopped';
      await s.client?.close().catch(() => undefined);
      s.client = undefined;
      for (const t of s.tools.values()) await t.dispose();
      s.tools.clear();
    }
  }

  status(): McpServerStatus[] {
    return [...this.#servers.values()].map((s) => ({
      name: s.name,
      kind: 'command' in s.config ? 'command' : 'url',
      state: s.state,
      pid: s.state === 'connected' && s.transport instanceof StdioClientTransport ? (s.transport.pid ?? undefined) : undefined,
      restarts: s.restarts,
      tools: [...s.tools.keys()],
    }));
  }

  #transport(s: ServerState): Transport {
    const c = s.config;
    if ('command' in c) {
      return new StdioClientTransport({
        command: c.command,
        args: c.args,
        env: { ...getDefaultEnvironment(), ...c.env },
        cwd: path.resolve(this.#configDir, c.cwd ?? '.'),
        stderr: 'pipe',
      });
    }
    return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers } });
  }

  /** One incarnation of a server connection: the supervisor's child. */
  async #connect(s: ServerState): Promise<ChildHandle> {
    if (s.starts++ > 0) s.restarts++;
    s.state = 'connecting';
    const transport = this.#transport(s);
    const client = new Client({ name: 'mister-smith', version: KERNEL_VERSION });
    let stopping = false;
    let crash!: (error: Error) => void;
    let end!: () => void;
    const exited = new Promise<void>((resolve, reject) => {
      end = resolve;
      crash = reject;
    });
    exited.catch(() => undefined);
    client.onclose = () => {
      s.state = stopping ? 'stopped' : 'down';
      if (s.client === client) s.client = undefined;
      if (stopping) end();
      else crash(new ToolError(McpErrorCodes.MCP_SERVER_UNAVAILABLE, `MCP server '${s.name}' closed its connection`, { retryable: true }));
    };
    if (transport instanceof StdioClientTransport) {
      transport.stderr?.on('data', (chunk: Buffer) => this.#logger.debug({ server: s.name, stderr: chunk.toString().trimEnd() }, 'mcp server stderr'));
    }
    try {
      await withDeadline(async () => {
        await client.connect(transport);
        await this.#sync(s, client);
      }, { timeoutMs: this.#options.connectTimeoutMs });
    } catch (error) {
      stopping = true;
      await client.close().catch(() => undefined);
      s.state = 'down';
      throw new ToolError(McpErrorCodes.MCP_SERVER_START_FAILED, `MCP server '${s.name}' could not be started and listed: ${(error as Error).message}`, { cause: error, retryable: true, context: { server: s.name } });
    }
    s.client = client;
    s.transport = transport;
    s.state = 'connected';
    this.#logger.info({ server: s.name, tools: [...s.tools.keys()], restarts: s.restarts, pid: transport instanceof StdioClientTransport ? transport.pid : undefined }, 'mcp server connected');
    return {
      exited,
      stop: async () => {
        stopping = true;
        await client.close().catch(() => undefined);
        end();
      },
    };
  }

  /** Registers the server's tools (new ones added, vanished ones removed on a reconnect). */
  async #sync(s: ServerState, client: Client): Promise<void> {
    const listed: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor !== undefined ? { cursor } : undefined);
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const seen = new Set<string>();
    for (const tool of listed) {
      const name = `mcp.${s.name}.${toSegment(tool.name)}`.slice(0, 64);
      seen.add(name);
      if (s.tools.has(name)) continue;
      const dispose = this.#tools.register({
        name,
        description: tool.description ?? `${tool.name} from the MCP server '${s.name}'`,
        input: inputSchemaOf(tool),
        timeoutMs: this.#options.callTimeoutMs,
        handler: (input, ctx) => this.#call(s, tool.name, input, ctx.signal),
      });
      s.tools.set(name, { remote: tool.name, dispose });
    }
    for (const [name, t] of s.tools) {
      if (!seen.has(name)) {
        await t.dispose();
        s.tools.delete(name);
      }
    }
  }

  async #call(s: ServerState, tool: string, input: unknown, signal: AbortSignal): Promise<unknown> {
    const client = s.client;
    if (client === undefined) throw unavailable(s, this.#options);
    let result;
    try {
      result = await client.callTool({ name: tool, arguments: (input ?? {}) as Record<string, unknown> }, undefined, { signal, timeout: this.#options.callTimeoutMs });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new ToolError(McpErrorCodes.MCP_CALL_FAILED, `calling ${tool} on MCP server '${s.name}' failed: ${(error as Error).message}`, { cause: error, retryable: true, context: { server: s.name } });
    }
    const content = Array.isArray(result.content) ? (result.content as Array<{ type: string; text?: string }>) : [];
    const text = content.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('\n');
    if (result.isError === true) throw new ToolError(McpErrorCodes.MCP_TOOL_FAILED, `${tool} on MCP server '${s.name}' failed: ${text}`, { context: { server: s.name } });
    if (result.structuredContent !== undefined) return result.structuredContent;
    return text;
  }
}

/** Why a server's tool cannot be called now, and whether waiting can help. */
function unavailable(s: ServerState, options: McpOptions): ToolError {
  const context = { server: s.name, state: s.state };
  if (s.state === 'failed') {
    return new ToolError(
      McpErrorCodes.MCP_SERVER_UNAVAILABLE,
      `MCP server '${s.name}' kept crashing and its supervisor gave up (more than ${options.maxRestarts} restarts within ${options.restartPeriodMs} ms); its tools are unavailable until the system restarts`,
      { retryable: false, context },
    );
  }
  if (s.state === 'stopped') return new ToolError(McpErrorCodes.MCP_SERVER_UNAVAILABLE, `MCP server '${s.name}' is stopped`, { retryable: false, context });
  return new ToolError(McpErrorCodes.MCP_SERVER_UNAVAILABLE, `MCP server '${s.name}' is down (its supervisor is restarting it); try again`, { retryable: true, context });
}
