/**
 * Remote tools. A node serving tools (`exposeTools`) answers:
 * - `ms.v1.<system>.tool.<name>` (queue group `ms-tools`, one subscription per served tool, so a
 *   call only reaches nodes that have it): the v1 tool envelope `{ agent, delegation, input, callId,
 *   t }` becomes `tools.call(agent, name, input, { delegation, callId, timeoutMs })` here, so this
 *   node's grants, approval, validation and idempotency all apply to the calling agent and to every
 *   agent of its delegation chain;
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

  constructor(connection: NatsConnection, subjects: Subjects, tools: ToolBus, options: { timeoutMs: number; stallMs: number }, logger: Logger) {
    this.#connection = connection;
    this.#subjects = subjects;
    this.#tools = tools;
    this.#timeoutMs = options.timeoutMs;
    this.#stallMs = options.stallMs;
    this.#logger = logger;
  }

  /** Serves the registered tools matching `patterns` (proxies of remote tools excluded). */
  async expose(patterns: string | readonly string[]): Promise<Disposer> {
    const list = toolPatterns(patterns);
    const client = await this.#connection.ready();
    const names = this.#tools
      .stats()
      .map((s) => s.tool)
      .filter((n) => matchesTool(list, n) && !this.#imported.has(n) && !this.#served.has(n));
    for (const name of names) {
      const subject = this.#subjects.tool(name);
      this.#served.set(name, client.subscribe(subject, { queue: QUEUE, callback: (err, msg) => (err === null ? this.#serve(name, subject, msg) : undefined) }));
    }
    this.#directory ??= client.subscribe(this.#subjects.toolDirectory, { callback: (err, msg) => (err === null ? this.#list(msg) : undefined) });
    await client.flush();
    this.#logger.info({ tools: names }, `serving ${names.length} tool(s) to other nodes`);
    return async () => {
      for (const name of names) {
        const sub = this.#served.get(name);
        this.#served.delete(name);
        if (sub !== undefined && !sub.isClosed()) sub.unsubscribe();
      }
    };
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
    this.#tools
      .call(req.agent, name, req.input, {
        delegation,
        ...(typeof req.callId === 'string' ? { callId: req.callId } : {}),
        ...(typeof req.t === 'number' && req.t > 0 ? { timeoutMs: req.t } : {}),
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
      this.#imported.set(info.name, this.#tools.register(this.#proxy(client, info)));
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
        const bytes = encode(subject, { v: 1, agent: ctx.agentId, delegation: ctx.delegation, input, callId: ctx.callId, t: timeoutMs }, 'the tool input');
        this.#connection.checkPayload(subject, bytes.length);
        let msg: Msg;
        try {
          msg = await client.request(subject, bytes, { timeout: timeoutMs + networkMargin(timeoutMs) });
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
    for (const sub of this.#served.values()) if (!sub.isClosed()) sub.unsubscribe();
    this.#served.clear();
    if (this.#directory !== undefined && !this.#directory.isClosed()) this.#directory.unsubscribe();
    this.#directory = undefined;
    // Imported proxies stay registered: this runs at kernel stop, when the tool bus goes too, and
    // a call that still comes fails with NATS_CLOSED.
    this.#imported.clear();
  }
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
