/**
 * The Messages API wire format and its mapping from and to the neutral conversation. Tool names
 * must match `^[a-zA-Z0-9_-]{1,64}$`, so dotted names (`math.add`) travel as `math__add`.
 */
import type { ChatMessage } from '../agents/types.js';
import type { ToolInfo } from '../tools/types.js';

export const toToolName = (tool: string): string => tool.replace(/\./g, '__');
export const fromToolName = (name: string): string => name.replace(/__/g, '.');

export type WireBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean }
  | { type: string; [key: string]: unknown };

export interface WireMessage {
  role: 'user' | 'assistant';
  content: string | WireBlock[];
}

export interface WireUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A non-streamed answer, and the `message` of `message_start`. */
export interface WireMessageResponse {
  type?: string;
  id?: string;
  content?: WireBlock[];
  stop_reason?: string | null;
  usage?: WireUsage;
  error?: { type?: string; message?: string };
}

/**
 * Maps the conversation. Tool results become `tool_result` blocks of a user message; consecutive
 * results (one turn's parallel calls) share one user message, as the API requires.
 */
export function toWireMessages(messages: readonly ChatMessage[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'tool') {
      const block: WireBlock = { type: 'tool_result', tool_use_id: m.toolCallId, content: m.content, ...(m.isError ? { is_error: true } : {}) };
      const last = out.at(-1);
      if (last !== undefined && last.role === 'user' && Array.isArray(last.content) && last.content.every((b) => b.type === 'tool_result')) last.content.push(block);
      else out.push({ role: 'user', content: [block] });
    } else {
      const blocks: WireBlock[] = [];
      if (m.content !== undefined && m.content !== '') blocks.push({ type: 'text', text: m.content });
      for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: toToolName(c.name), input: c.input ?? {} });
      out.push({ role: 'assistant', content: blocks.length > 0 ? blocks : '' });
    }
  }
  return out;
}

export function toWireTools(tools: readonly ToolInfo[]): unknown[] {
  return tools.map((t) => ({ name: toToolName(t.name), description: t.description, input_schema: t.inputSchema }));
}
