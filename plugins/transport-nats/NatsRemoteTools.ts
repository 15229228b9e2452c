/**
 * Remote tools. A node serving tools (`exposeTools`) answers:
 * - `ms.v1.<system>.tool.<name>` (queue group `ms-tools`, one subscription per served tool, so a
 *   call only reaches nodes that have it): the v1 tool envelope `{ agent, delegation, input, callId,
 *   t, traceparent }` becomes `tools.call(agent, name, input, { delegation, callId, timeoutMs,
 *   traceparent })` here, so this node's grants, approval, validation and idempotency all apply to
 *   the calling agent and to every agent of its delegation chain, and the handler's span joins the
 *   caller's trace. A traced call also carries the `traceparent` header (see traceContext.ts);
 * - `ms.v1.<system>.tools.list`: the descriptions (JSON Schemas) of the tools it serves.
 * A node importing tools (`importTools`) asks the directory and registers each remote tool on its
 * own tool bus as a proxy whose handler makes the request above; its agents see it like any tool,
 * under its own grants too.
 */
import type { Msg, NatsConnection as Client, Subscription } from '@nats-io/transport-node';
import { NoRespondersError, RequestError } from '@nats-io/transport-node';
import { z, type Disposer, type Logger } from '../../sdk/index.js';
import type { JsonSchema, ToolBus, ToolContext } from '../tools/types.js';
import { decode, encode, errorReply, okReply, remoteError, type Reply } from './envelope.js';
import { toolUnreachable } from './errors.js';
import type { NatsConnection } from './NatsConnection.js';
import { networkMargin } from './NatsRemoteActors.js';
import type { Subjects } from './subjects.js';
import { MalformedTraceparents, traceHeaders } from './traceContext.js';
import { matchesTool, toolPatterns } from './toolPatterns.js';

const QUEUE = 'ms-tools';

/** What a node says about one tool it serves. */
export interface RemoteToolInfo {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: JsonSchema;
  readonly outputSchema?: JsonSchema;
}

interface ToolRequest {
  readonly v: 1;
  readonly agent: string;
  readonly delegation?: readonly string[];
  readonly input: unknown;
  readonly callId?: string;
  readonly t?: number;
  /** The caller's W3C trace context (also the `traceparent` header). */
  readonly traceparent?: string;
}

/** `tools.describe` (added by the durable-runs work), used when the tool bus has it. */
type Describe = (name: string) => { description: string; inputSchema: JsonSchema; outputSchema?: JsonSchema } | undefined;

export class NatsRemoteTools {
  readonly #connection: NatsConnection;
  readonly #subjects: Subjects;
  readonly #tools: ToolBus;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #stallMs: number;
  /** Served tool name → its subscription. */
  readonly #served = new Map<string, Subscription>();
  #directory: Subscription | undefined;
  /** Proxies registered here, by name → their disposer. */
  readonly #imported = new Map<string, Disposer>();
  /** Proxies being registered right now: the registration hook must not serve them back. */
  readonly #importing = new Set<string>();
  /** Live `expose` calls: their patterns and the tools served under each. */
  readonly #exposures = new Set<Exposure>();
  readonly #badTraceparents: MalformedTraceparents;
  #closed = false;

  constructor(connection: NatsConnection, subjects: Subjects, tools: ToolBus, options: { timeoutMs: number; stallMs: number }, logger: Logger) {
    this.#connection = connection;
    this.#subjects = subjects;
    this.#tools = tools;
    this.#timeoutMs = options.timeoutMs;
    this.#stallMs = options.stallMs;
    this.#logger = logger;
    this.#badTraceparents = new MalformedTraceparents(logger);
    // Exposed patterns are live: a tool registered later is served too, one unregistered no longer.
    tools.hooks.registered.tap('nats', (name) => this.#registered(name));
    tools.hooks.unregistered.tap('nats', (name) => this.#unregistered(name));
  }

  /**
   * Serves the tools matching `patterns` (proxies of remote tools excluded): those registered now,
   * and those registered later while the exposure lasts. The disposer stops serving them.
   */
  async expose(patterns: string | readonly string[]): Promise<Disposer> {
    const list = toolPatterns(patterns);
    const client = await this.#connection.ready();
    const exposure: Exposure = { patterns: list, names: new Set() };
    this.#exposures.add(exposure);
    for (const { tool } of this.#tools.stats()) if (this.#servable(tool) && matchesTool(list, tool)) this.#serveTool(client, exposure, tool);
    this.#directory ??= client.subscribe(this.#subjects.toolDirectory, { callback: (err, msg) => (err === null ? this.#list(msg) : undefined) });
    await client.flush();
    this.#logger.info({ tools: [...exposure.names], patterns: list }, `serving ${exposure.names.size} tool(s) to other nodes`);
    return async () => {
      this.#exposures.delete(exposure);
      for (const name of exposure.names) this.#stopServing(name);
    };
  }

  #servable(name: string): boolean {
    return !this.#closed && !this.#imported.has(name) && !this.#importing.has(name) && !this.#served.has(name);
  }

  #serveTool(client: Client, exposure: Exposure, name: string): void {
    const subject = this.#subjects.tool(name);
    this.#served.set(name, client.subscribe(subject, { queue: QUEUE, callback: (err, msg) => (err === null ? this.#serve(name, subject, msg) : undefined) }));
    exposure.names.add(name);
  }

  #stopServing(name: string): void {
    const sub = this.#served.get(name);
    this.#served.delete(name);
    for (const exposure of this.#exposures) exposure.names.delete(name);
    if (sub !== undefined && !sub.isClosed()) sub.unsubscribe();
  }

  #registered(name: string): void {
    if (!this.#servable(name)) return;
    for (const exposure of this.#exposures) {
      if (!matchesTool(exposure.patterns, name)) continue;
      let client: Client;
      try {
        client = this.#connection.client;
      } catch {
        return; // closed: nothing is served any more
      }
      this.#serveTool(client, exposure, name);
      this.#logger.info({ tool: name }, `serving ${name} to other nodes`);
      return;
    }
  }

  #unregistered(name: string): void {
    // A proxy removed here (its disposer ran) is simply forgotten; a served tool stops being offered.
    this.#imported.delete(name);
    if (this.#served.has(name)) this.#stopServing(name);
  }

  #serve(name: string, subject: string, msg: Msg): void {
    let req: ToolRequest;
    try {
      req = decode<ToolRequest>(subject, msg.data);
      if (typeof req.agent !== 'string' || req.agent === '') throw new Error('the envelope names no calling agent');
    } catch (error) {
      if (msg.reply) msg.respond(errorReply(error));
      return;
    }
    const delegation = Array.isArray(req.delegation) ? req.delegation.filter((d): d is string => typeof d === 'string') : [];
    // A malformed one would fail the whole call (TOOL_INVALID_OPTIONS): it is left off instead.
    const traceparent = this.#badTraceparents.read(req.traceparent, msg.headers, () => `the remote call of ${name}`);
    this.#tools
      .call(req.agent, name, req.input, {
        delegation,
        ...(typeof req.callId === 'string' ? { callId: req.callId } : {}),
        ...(typeof req.t === 'number' && req.t > 0 ? { timeoutMs: req.t } : {}),
        ...(traceparent !== undefined ? { traceparent } : {}),
      })
      .then(
        (result) => {
          let bytes: Uint8Array;
          try {
            bytes = okReply(subject, result);
            this.#connection.checkPayload(`the reply of ${subject}`, bytes.length);
          } catch (error) {
            bytes = errorReply(error);
          }
          if (msg.reply) msg.respond(bytes);
        },
        (error: unknown) => {
          if (msg.reply) msg.respond(errorReply(error));
        },
      );
  }

  #list(msg: Msg): void {
    if (!msg.reply || this.#served.size === 0) return;
    const describe = (this.#tools as ToolBus & { describe?: Describe }).describe?.bind(this.#tools);
    const tools: RemoteToolInfo[] = [];
    for (const name of this.#served.keys()) {
      const d = describe?.(name);
      tools.push({
        name,
        description: d?.description ?? `remote tool ${name}`,
        inputSchema: d?.inputSchema ?? {},
        ...(d?.outputSchema !== undefined ? { outputSchema: d.outputSchema } : {}),
      });
    }
    msg.respond(okReply(msg.subject, tools));
  }

  /** Asks every serving node for its tools and registers those matching `patterns` as proxies here. */
  async import(patterns?: string | readonly string[]): Promise<readonly string[]> {
    const list = toolPatterns(patterns);
    const client = await this.#connection.ready();
    const found = new Map<string, RemoteToolInfo>();
    try {
      const replies = await client.requestMany(this.#subjects.toolDirectory, encode(this.#subjects.toolDirectory, { v: 1 }, 'the request'), {
        strategy: 'stall',
        stall: this.#stallMs,
        maxWait: Math.max(this.#stallMs * 8, 2_000),
      });
      for await (const msg of replies) this.#collect(msg, found);
    } catch (error) {
      // No node serves tools (yet): nothing to import.
      if (!isNoResponders(error)) throw error;
    }
    const added: string[] = [];
    for (const info of found.values()) {
      if (!matchesTool(list, info.name) || this.#tools.has(info.name)) continue;
      this.#importing.add(info.name);
      try {
        this.#imported.set(info.name, this.#tools.register(this.#proxy(client, info)));
      } finally {
        this.#importing.delete(info.name);
      }
      added.push(info.name);
    }
    this.#logger.info({ tools: added }, `imported ${added.length} remote tool(s)`);
    return added;
  }

  #collect(msg: Msg, found: Map<string, RemoteToolInfo>): void {
    try {
      const reply = decode<Reply>(msg.subject, msg.data);
      if (reply.ok && Array.isArray(reply.r)) for (const t of reply.r as RemoteToolInfo[]) if (typeof t?.name === 'string') found.set(t.name, t);
    } catch (error) {
      this.#logger.warn({ err: error }, 'bad tool directory reply; ignored');
    }
  }

  #proxy(client: Client, info: RemoteToolInfo) {
    const subject = this.#subjects.tool(info.name);
    const timeoutMs = this.#timeoutMs;
    return {
      name: info.name,
      description: info.description,
      input: schemaOf(info.inputSchema),
      timeoutMs: timeoutMs + networkMargin(timeoutMs),
      handler: async (input: unknown, ctx: ToolContext): Promise<unknown> => {
        const traceparent = ctx.traceparent;
        const request: ToolRequest = { v: 1, agent: ctx.agentId, delegation: ctx.delegation, input, callId: ctx.callId, t: timeoutMs, ...(traceparent !== undefined ? { traceparent } : {}) };
        const bytes = encode(subject, request, 'the tool input');
        this.#connection.checkPayload(subject, bytes.length);
        const timeout = timeoutMs + networkMargin(timeoutMs);
        let msg: Msg;
        try {
          msg = await client.request(subject, bytes, traceparent === undefined ? { timeout } : { timeout, headers: traceHeaders(traceparent) });
        } catch (error) {
          const why = isNoResponders(error) ? new Error('no node serves it any more') : error;
          throw toolUnreachable(info.name, why);
        }
        const reply = decode<Reply>(subject, msg.data);
        if (reply.ok) return reply.r;
        throw remoteError(reply.e, { tool: info.name, subject });
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#exposures.clear();
    for (const sub of this.#served.values()) if (!sub.isClosed()) sub.unsubscribe();
    this.#served.clear();
    if (this.#directory !== undefined && !this.#directory.isClosed()) this.#directory.unsubscribe();
    this.#directory = undefined;
    // Imported proxies stay registered: this runs at kernel stop, when the tool bus goes too, and
    // a call that still comes fails with NATS_CLOSED.
    this.#imported.clear();
  }
}

/** One `expose` call: its patterns, and the tools served under it. */
interface Exposure {
  readonly patterns: readonly string[];
  readonly names: Set<string>;
}

function isNoResponders(error: unknown): boolean {
  return (error instanceof RequestError && error.isNoResponders()) || error instanceof NoRespondersError;
}

/**
 * The proxy's input schema: the owner's JSON Schema as zod (so `tools.list` shows it and bad input
 * fails here, before the network), or anything when it cannot be converted — the owning node
 * validates again either way.
 */
function schemaOf(json: JsonSchema): z.ZodType {
  if (Object.keys(json).length === 0) return z.unknown();
  try {
    return z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return z.unknown();
  }
}
