/**
 * One MCP server session acting as one agent: `tools/list` is `tools.list(agentId)` and
 * `tools/call` is `tools.call(agentId, …)`, so grants, approval, validation and idempotency are the
 * tool bus' own. Tool failures come back as `isError` results (the model sees the code and the
 * reason); only protocol problems are JSON-RPC errors.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { classify, KERNEL_VERSION } from '../../sdk/index.js';
import { isTraceparent } from '../../sdk/util/index.js';
import type { ToolBus, ToolInfo } from '../tools/types.js';

export interface ToolServerIdentity {
  readonly agentId: string;
  readonly delegation?: readonly string[] | undefined;
  /** When set, only these tools (on top of the grants). */
  readonly only?: ReadonlySet<string> | undefined;
}

/** MCP wants object schemas; a tool whose output is not an object declares none. */
function toMcpTool(t: ToolInfo): Tool {
  const input = t.inputSchema.type === 'object' ? t.inputSchema : { type: 'object', properties: {} };
  return {
    name: t.name,
    description: t.description,
    inputSchema: input as Tool['inputSchema'],
    ...(t.outputSchema !== undefined && t.outputSchema.type === 'object' ? { outputSchema: t.outputSchema as Tool['outputSchema'] } : {}),
  };
}

function toResult(output: unknown, structured: boolean): CallToolResult {
  const text = typeof output === 'string' ? output : (JSON.stringify(output) ?? 'null');
  return {
    content: [{ type: 'text', text }],
    ...(structured && output !== null && typeof output === 'object' && !Array.isArray(output) ? { structuredContent: output as Record<string, unknown> } : {}),
  };
}

/**
 * The client's trace context: `params._meta.traceparent` (how MCP carries it inside a message, on
 * any transport), else the HTTP request's `traceparent` header. A malformed one is ignored, as W3C
 * asks of a receiver, rather than failing the call.
 */
function callerTraceparent(meta: unknown, header: string | string[] | undefined): string | undefined {
  if (isTraceparent(meta)) return meta;
  return isTraceparent(header) ? header : undefined;
}

export function createToolServer(tools: ToolBus, identity: ToolServerIdentity): Server {
  const server = new Server({ name: 'mister-smith', version: KERNEL_VERSION }, { capabilities: { tools: { listChanged: false } } });
  const { agentId, delegation, only } = identity;
  const offered = (name: string): boolean => (only === undefined || only.has(name)) && (delegation === undefined || delegation.every((d) => tools.permissions.allowed(d, name)));
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.list(agentId).filter((t) => offered(t.name)).map(toMcpTool) }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: input, _meta } = request.params;
    // A client may pass an idempotency key; the bus answers a repeated key from its cache.
    const callId = typeof _meta?.callId === 'string' ? _meta.callId : undefined;
    const traceparent = callerTraceparent(_meta?.traceparent, extra.requestInfo?.headers.traceparent);
    if (only !== undefined && !only.has(name)) {
      return { isError: true, content: [{ type: 'text', text: `TOOL_ACCESS_DENIED: '${name}' is not among the tools offered to this client (${[...only].join(', ') || 'none'})` }] };
    }
    try {
      const output = await tools.call(agentId, name, input ?? {}, {
        signal: extra.signal,
        ...(callId !== undefined ? { callId } : {}),
        ...(delegation !== undefined && delegation.length > 0 ? { delegation } : {}),
        ...(traceparent !== undefined ? { traceparent } : {}),
      });
      return toResult(output, tools.describe(name)?.outputSchema?.type === 'object');
    } catch (error) {
      const c = classify(error);
      return { isError: true, content: [{ type: 'text', text: `${c.code}: ${c.message}` }] };
    }
  });
  return server;
}
