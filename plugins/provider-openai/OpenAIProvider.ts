/**
 * A provider for OpenAI-compatible chat-completions APIs (OpenAI, Azure-style gateways, vLLM,
 * Ollama, LM Studio…). Tool names are dotted in Mister Smith (`math.add`) but function names may
 * not contain dots, so they are mapped (`math__add`) on the way out and back on the way in.
 */
import { AgentError, NetworkError } from '../../sdk/index.js';
import type { ChatMessage, ModelProvider, ModelRequest, ModelResponse } from '../agents/types.js';
import { withDeadline } from '../../sdk/util/index.js';

export interface OpenAIProviderOptions {
  readonly name: string;
  /** Up to and including the version segment: `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  readonly temperature?: number;
  readonly maxOutputTokens?: number;
  /** Extra headers (an organisation, a gateway key). */
  readonly headers: Readonly<Record<string, string>>;
}

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

interface WireResponse {
  choices?: Array<{ message?: { content?: string | null; tool_calls?: WireToolCall[] } }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string };
}

export const toFunctionName = (tool: string): string => tool.replace(/\./g, '__');
export const fromFunctionName = (fn: string): string => fn.replace(/__/g, '.');

function toWire(instructions: string, messages: readonly ChatMessage[]): WireMessage[] {
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

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export class OpenAIProvider implements ModelProvider {
  readonly name: string;
  readonly #options: OpenAIProviderOptions;

  constructor(options: OpenAIProviderOptions) {
    this.name = options.name;
    this.#options = options;
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const o = this.#options;
    const body = {
      model: request.model,
      messages: toWire(request.instructions, request.messages),
      ...(request.tools.length > 0
        ? { tools: request.tools.map((t) => ({ type: 'function', function: { name: toFunctionName(t.name), description: t.description, parameters: t.inputSchema } })) }
        : {}),
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(o.maxOutputTokens !== undefined ? { max_tokens: o.maxOutputTokens } : {}),
    };
    const url = `${o.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const response = await withDeadline(
      (signal) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}), ...o.headers },
          body: JSON.stringify(body),
          signal,
        }).then(async (res) => ({ res, text: await res.text() })),
      {
        timeoutMs: o.timeoutMs,
        signal: request.signal,
        timeoutError: () => new NetworkError('OPENAI_TIMEOUT', `${url} did not answer within ${o.timeoutMs} ms`, { retryable: true }),
      },
    ).catch((error: unknown) => {
      if (error instanceof NetworkError || request.signal.aborted) throw error;
      throw new NetworkError('OPENAI_UNREACHABLE', `cannot reach ${url}: ${(error as Error).message}`, { cause: error, retryable: true });
    });
    const { res, text } = response;
    let parsed: WireResponse;
    try {
      parsed = JSON.parse(text) as WireResponse;
    } catch {
      throw new NetworkError('OPENAI_BAD_RESPONSE', `${url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, { retryable: res.status >= 500 });
    }
    if (!res.ok) {
      const retryable = res.status === 429 || res.status >= 500;
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      throw new NetworkError('OPENAI_HTTP_ERROR', `${url} answered ${res.status}: ${parsed.error?.message ?? text.slice(0, 200)}`, {
        retryable,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        context: { status: res.status },
      });
    }
    const message = parsed.choices?.[0]?.message;
    if (message === undefined) throw new AgentError('OPENAI_BAD_RESPONSE', `${url} answered without choices[0].message`);
    const toolCalls = (message.tool_calls ?? []).map((c) => {
      let input: unknown;
      try {
        input = c.function.arguments === '' ? {} : JSON.parse(c.function.arguments);
      } catch {
        throw new AgentError('OPENAI_BAD_RESPONSE', `tool call ${c.id} to ${c.function.name} has arguments that are not JSON: ${c.function.arguments.slice(0, 200)}`);
      }
      return { id: c.id, name: fromFunctionName(c.function.name), input };
    });
    return {
      ...(typeof message.content === 'string' && (toolCalls.length === 0 || message.content !== '') ? { reply: message.content } : {}),
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
      usage: { inputTokens: parsed.usage?.prompt_tokens ?? 0, outputTokens: parsed.usage?.completion_tokens ?? 0 },
    };
  }
}
