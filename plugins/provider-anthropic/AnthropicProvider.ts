/**
 * A provider for the Anthropic Messages API (`POST /v1/messages`): plain JSON answers (`complete`)
 * and streamed ones (`stream`: `message_start` … `message_stop`), tool use, usage.
 */
import { AgentError, NetworkError } from '../../sdk/index.js';
import type { ModelProvider, ModelRequest, ModelResponse, ModelStreamChunk } from '../agents/types.js';
import { completeFrom, httpStatusError, openRequest, readErrorBody, readSse, streamFrom, type AnswerReader, type OpenRequest } from '../../sdk/util/index.js';
import { fromToolName, toWireMessages, toWireTools, type WireBlock, type WireMessageResponse, type WireUsage } from './wire.js';
import { AnthropicErrorCodes } from './errors.js';

export interface AnthropicProviderOptions {
  readonly name: string;
  /** The API origin: `https://api.anthropic.com` (`/v1/messages` is appended). */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** `anthropic-version` header. */
  readonly apiVersion: string;
  /** `max_tokens` of each request (the API requires it). */
  readonly maxOutputTokens: number;
  readonly temperature?: number;
  /** Deadline of one model call, a streamed answer included. */
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** Error types the API reports inside a stream or body that a retry can help with. */
const RETRYABLE_TYPES = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

type ToolCallOut = { id: string; name: string; input: unknown };

export class AnthropicProvider implements ModelProvider {
  readonly name: string;
  readonly #o: AnthropicProviderOptions;
  readonly #url: string;
  /** How this API's two answer shapes are read (`completeFrom` / `streamFrom`). */
  readonly #reader: AnswerReader<ModelResponse> = { readStream: (call) => this.#readStream(call), fromJson: (text) => this.#fromJson(text) };

  constructor(options: AnthropicProviderOptions) {
    this.name = options.name;
    this.#o = options;
    this.#url = `${options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/messages`;
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    return completeFrom(await this.#open(request, false), this.#reader);
  }

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamChunk> {
    yield* streamFrom(await this.#open(request, true), this.#reader);
  }

  async #open(request: ModelRequest, stream: boolean): Promise<OpenRequest> {
    const o = this.#o;
    const body = {
      model: request.model,
      max_tokens: o.maxOutputTokens,
      ...(request.instructions !== '' ? { system: request.instructions } : {}),
      messages: toWireMessages(request.messages),
      ...(request.tools.length > 0 ? { tools: toWireTools(request.tools) } : {}),
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(stream ? { stream: true } : {}),
    };
    const call = await openRequest({
      url: this.#url,
      headers: { 'anthropic-version': o.apiVersion, ...(o.apiKey ? { 'x-api-key': o.apiKey } : {}), ...o.headers },
      body,
      timeoutMs: o.timeoutMs,
      signal: request.signal,
      prefix: 'ANTHROPIC',
      traceparent: request.traceparent,
    });
    if (call.res.ok) return call;
    try {
      const { text, json } = await readErrorBody(call.res);
      const error = (json as WireMessageResponse | undefined)?.error;
      const type = error?.type;
      throw httpStatusError(AnthropicErrorCodes.ANTHROPIC_HTTP_ERROR, this.#url, call.res.status, call.res.headers, error?.message ?? text.slice(0, 200), type !== undefined ? { type } : {});
    } finally {
      call.dispose();
    }
  }

  #apiError(error: { type?: string; message?: string }, where: string): NetworkError {
    return new NetworkError(AnthropicErrorCodes.ANTHROPIC_API_ERROR, `${this.#url} reported ${error.type ?? 'an error'} ${where}: ${error.message ?? ''}`.trim(), {
      retryable: error.type !== undefined && RETRYABLE_TYPES.has(error.type),
      context: { type: error.type },
    });
  }

  #fromJson(text: string): ModelResponse {
    let parsed: WireMessageResponse;
    try {
      parsed = JSON.parse(text) as WireMessageResponse;
    } catch {
      throw new AgentError(AnthropicErrorCodes.ANTHROPIC_BAD_RESPONSE, `${this.#url} answered with a body that is not JSON: ${text.slice(0, 200)}`, { retryable: false });
    }
    if (parsed.type === 'error' && parsed.error !== undefined) throw this.#apiError(parsed.error, 'in its answer');
    if (!Array.isArray(parsed.content)) throw new AgentError(AnthropicErrorCodes.ANTHROPIC_BAD_RESPONSE, `${this.#url} answered without a content array`, { retryable: false });
    return this.#response(parsed.content, parsed.usage);
  }

  #response(blocks: readonly WireBlock[], usage: WireUsage | undefined): ModelResponse {
    let reply: string | undefined;
    const toolCalls: ToolCallOut[] = [];
    for (const b of blocks) {
      if (b.type === 'text' && typeof b.text === 'string') reply = (reply ?? '') + b.text;
      else if (b.type === 'tool_use') toolCalls.push({ id: String(b.id), name: fromToolName(String(b.name)), input: b.input ?? {} });
    }
    // Cached prompt tokens are input too; the API counts them apart from `input_tokens`.
    const inputTokens = (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0) + (usage?.cache_read_input_tokens ?? 0);
    return {
      ...(reply !== undefined && (toolCalls.length === 0 || reply !== '') ? { reply } : toolCalls.length === 0 ? { reply: '' } : {}),
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
      usage: { inputTokens, outputTokens: usage?.output_tokens ?? 0 },
    };
  }

  /** Reads `message_start` … `message_stop`, assembling text and `input_json_delta` pieces per block. */
  async *#readStream(call: OpenRequest): AsyncGenerator<ModelStreamChunk> {
    const blocks: Array<WireBlock & { json?: string }> = [];
    let usage: WireUsage = {};
    let stopped = false;
    try {
      for await (const event of readSse(call.res.body!)) {
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(event.data) as Record<string, unknown>;
        } catch {
          throw new AgentError(AnthropicErrorCodes.ANTHROPIC_BAD_RESPONSE, `${this.#url} streamed an event that is not JSON: ${event.data.slice(0, 200)}`, { retryable: false });
        }
        const type = (data.type as string | undefined) ?? event.event;
        if (type === 'message_start') {
          usage = { ...usage, ...((data.message as WireMessageResponse | undefined)?.usage ?? {}) };
        } else if (type === 'content_block_start') {
          const block = data.content_block as WireBlock;
          blocks[data.index as number] = block.type === 'tool_use' ? { ...block, json: '' } : { ...block };
        } else if (type === 'content_block_delta') {
          const delta = data.delta as { type: string; text?: string; partial_json?: string };
          const block = blocks[data.index as number];
          if (block === undefined) throw new AgentError(AnthropicErrorCodes.ANTHROPIC_BAD_RESPONSE, `${this.#url} streamed a delta for block ${String(data.index)} that never started`, { retryable: false });
          if (delta.type === 'text_delta' && typeof delta.text === 'string') {
            (block as { text: string }).text += delta.text;
            yield { type: 'text.delta', text: delta.text };
          } else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
            block.json = (block.json ?? '') + delta.partial_json;
          }
        } else if (type === 'message_delta') {
          usage = { ...usage, ...((data.usage as WireUsage | undefined) ?? {}) };
        } else if (type === 'message_stop') {
          stopped = true;
          break;
        } else if (type === 'error') {
          throw this.#apiError((data.error as { type?: string; message?: string }) ?? {}, 'in its stream');
        }
        // `ping` and event types added later are ignored, as the API asks.
      }
    } catch (error) {
      if (error instanceof AgentError || error instanceof NetworkError) throw error;
      throw call.failure(error);
    }
    if (!stopped) throw new NetworkError(AnthropicErrorCodes.ANTHROPIC_STREAM_INTERRUPTED, `${this.#url} ended its stream before message_stop`, { retryable: true });
    const finished = blocks.filter((b) => b !== undefined).map((b) => {
      if (b.type !== 'tool_use') return b;
      const { json, ...rest } = b;
      let input: unknown = {};
      try {
        input = json === undefined || json.trim() === '' ? (rest.input ?? {}) : JSON.parse(json);
      } catch {
        throw new AgentError(AnthropicErrorCodes.ANTHROPIC_BAD_RESPONSE, `tool use ${String(rest.id)} of ${String(rest.name)} streamed input that is not JSON: ${String(json).slice(0, 200)}`, { retryable: false });
      }
      return { ...rest, input };
    });
    yield { type: 'response', response: this.#response(finished, usage) };
  }
}

