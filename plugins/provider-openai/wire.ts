/**
 * The chat-completions wire format and its mapping from and to the neutral conversation. Tool names
 * are dotted in Mister Smith (`math.add`) but function names may not contain dots, so they travel
 * as `math__add` and are mapped back.
 */
import type { ChatMessage } from '../agents/types.js';
import type { ToolInfo } from '../tools/types.js';

export const toFunctionName = (tool: string): string => tool.replace(/\./g, '__');
export const fromFunctionName = (fn: string): string => fn.replace(/__/g, '.');

export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** A non-streamed answer. */
export interface WireResponse {
  choices?: Array<{ message?: { content?: string | null; tool_calls?: WireToolCall[] }; finish_reason?: string | null }>;
  usage?: WireUsage | null;
  error?: { message?: string; type?: string; code?: string | number | null };
}

/** One streamed chunk (`data:` of an SSE event). */
export interface WireChunk {
  choices?: Array<{
    delta?: { content?: string | null; tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }> };
    finish_reason?: string | null;
  }>;
  usage?: WireUsage | null;
  error?: { message?: string; type?: string; code?: string | number | null };
}

export function toWireMessages(instructions: string, messages: readonly ChatMessage[]): WireMessage[] {
  const out: WireMessage[] = instructions !== '' ? [{ role: 'system', content: instructions }] : [];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'tool') out.push({ role: 'tool', tool_call_id: m.toolCallId, content: m.content });
    else {
      out.push({
        role: 'assistant',
        content: m.content ?? null,
        ...(m.toolCalls && m.toolCalls.length > 0
          ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: toFunctionName(c.name), arguments: JSON.stringify(c.input ?? {}) } })) }
          : {}),
      });
    }
  }
  return out;
}

export function toWireTools(tools: readonly ToolInfo[]): unknown[] {
  return tools.map((t) => ({ type: 'function', function: { name: toFunctionName(t.name), description: t.description, parameters: t.inputSchema } }));
}
