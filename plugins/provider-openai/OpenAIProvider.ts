/**
 * A provider for OpenAI-compatible chat-completions APIs (OpenAI, gateways, vLLM, Ollama,
 * llama.cpp, LM Studio). `complete` asks for one JSON answer (and still understands a server that
 * streams anyway); `stream` asks for Server-Sent Events and assembles text and tool-call deltas.
 */
import { AgentError, NetworkError } from '../../sdk/index.js';
import type { ModelProvider, ModelRequest, ModelResponse, ModelStreamChunk } from '../agents/types.js';
import { completeFrom, httpStatusError, openRequest, readErrorBody, readSse, streamFrom, type AnswerReader, type OpenRequest } from '../../sdk/util/index.js';
import { fromFunctionName, toWireMessages, toWireTools, type WireChunk, type WireResponse } from './wire.js';
import { OpenAIErrorCodes } from './errors.js';

export interface OpenAIProviderOptions {
  readonly name: string;
  /** Up to and including the version segment: `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** Deadline of one model call, a streamed answer included. */
  readonly timeoutMs: number;
  readonly temperature?: number;
  readonly maxOutputTokens?: number;
  /** Extra headers (an organisation, a gateway key). */
  readonly headers: Readonly<Record<string, string>>;
}

type ToolCallOut = { id: string; name: string; input: unknown };

function parseArguments(id: string, name: string, args: string): unknown {
  try {
    return args.trim() === '' ? {} : JSON.parse(args);
  } catch {
    throw new AgentError(OpenAIErrorCodes.OPENAI_BAD_RESPONSE, `tool call ${id} to ${name} has arguments that are not JSON: ${args.slice(0, 200)}`, { retryable: false });
  }
}

/** An error reported inside a 200 answer: retryable only when it says the server was overloaded or failed. */
const isRetryableErrorType = (type: string | undefined): boolean => type !== undefined && /server_error|overloaded|rate_limit|timeout/.test(type);

export class OpenAIProvider implements ModelProvider {
  readonly name: string;
  readonly #o: OpenAIProviderOptions;
  readonly #url: string;
  /** How this API's two answer shapes are read (`completeFrom` / `streamFrom`). */
  readonly #reader: AnswerReader<ModelResponse> = { readStream: (call) => this.#readStream(call), fromJson: (text) => this.#fromJson(text) };

  constructor(options: OpenAIProviderOptions) {
    this.name = options.name;
    this.#o = options;
    this.#url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
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
      messages: toWireMessages(request.instructions, request.messages),
      ...(request.tools.length > 0 ? { tools: toWireTools(request.tools) } : {}),
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(o.maxOutputTokens !== undefined ? { max_tokens: o.maxOutputTokens } : {}),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    const call = await openRequest({
      url: this.#url,
      headers: { ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}), ...o.headers },
      body,
      timeoutMs: o.timeoutMs,
      signal: request.signal,
      prefix: 'OPENAI',
      traceparent: request.traceparent,
    });
    if (call.res.ok) return call;
    try {
      const { text, json } = await readErrorBody(call.res);
      throw httpStatusError(OpenAIErrorCodes.OPENAI_HTTP_ERROR, this.#url, call.res.status, call.res.headers, (json as WireResponse | undefined)?.error?.message ?? text.slice(0, 200));
    } finally {
      call.dispose();
    }
  }

  #fromJson(text: string): ModelResponse {
    let parsed: WireResponse;
    try {
      parsed = JSON.parse(text) as WireResponse;
    } catch {
      throw new AgentError(OpenAIErrorCodes.OPENAI_BAD_RESPONSE, `${this.#url} answered with a body that is not JSON: ${text.slice(0, 200)}`, { retryable: false });
    }
    if (parsed.error !== undefined && parsed.error !== null) {
      throw new NetworkError(OpenAIErrorCodes.OPENAI_API_ERROR, `${this.#url} answered with an error: ${parsed.error.message ?? JSON.stringify(parsed.error)}`, {
        retryable: isRetryableErrorType(parsed.error.type),
        context: { type: parsed.error.type },
      });
    }
    const message = parsed.choices?.[0]?.message;
    if (message === undefined) throw new AgentError(OpenAIErrorCodes.OPENAI_BAD_RESPONSE, `${this.#url} answered without choices[0].message`, { retryable: false });
    const toolCalls = (message.tool_calls ?? []).map((c) => ({ id: c.id, name: fromFunctionName(c.function.name), input: parseArguments(c.id, c.function.name, c.function.arguments) }));
    return this.#response(typeof message.content === 'string' ? message.content : undefined, toolCalls, parsed.usage);
  }

  #response(content: string | undefined, toolCalls: ToolCallOut[], usage: WireResponse['usage']): ModelResponse {
    return {
      ...(content !== undefined && (toolCalls.length === 0 || content !== '') ? { reply: content } : {}),
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
      usage: { inputTokens: usage?.prompt_tokens ?? 0, outputTokens: usage?.completion_tokens ?? 0 },
    };
  }

  /** Assembles a chat-completions SSE stream: text deltas pass through, tool-call deltas join by index. */
  async *#readStream(call: OpenRequest): AsyncGenerator<ModelStreamChunk> {
    let text: string | undefined;
    const calls = new Map<number, { id: string; name: string; args: string }>();
    let usage: WireResponse['usage'];
    let finished = false;
    let done = false;
    try {
      for await (const event of readSse(call.res.body!)) {
        if (event.data.trim() === '[DONE]') {
          done = true;
          break;
        }
        let chunk: WireChunk;
        try {
          chunk = JSON.parse(event.data) as WireChunk;
        } catch {
          throw new AgentError(OpenAIErrorCodes.OPENAI_BAD_RESPONSE, `${this.#url} streamed an event that is not JSON: ${event.data.slice(0, 200)}`, { retryable: false });
        }
        if (chunk.error !== undefined && chunk.error !== null) {
          throw new NetworkError(OpenAIErrorCodes.OPENAI_API_ERROR, `${this.#url} reported an error in its stream: ${chunk.error.message ?? JSON.stringify(chunk.error)}`, {
            retryable: isRetryableErrorType(chunk.error.type),
            context: { type: chunk.error.type },
          });
        }
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice === undefined) continue;
        const delta = choice.delta;
        if (typeof delta?.content === 'string' && delta.content !== '') {
          text = (text ?? '') + delta.content;
          yield { type: 'text.delta', text: delta.content };
        }
        for (const d of delta?.tool_calls ?? []) {
          const index = d.index ?? calls.size;
          const entry = calls.get(index) ?? { id: '', name: '', args: '' };
          if (d.id) entry.id = d.id;
          if (d.function?.name) entry.name += d.function.name;
          if (d.function?.arguments) entry.args += d.function.arguments;
          calls.set(index, entry);
        }
        if (choice.finish_reason) finished = true;
      }
    } catch (error) {
      if (error instanceof AgentError || error instanceof NetworkError) throw error;
      throw call.failure(error);
    }
    // Some servers end with `[DONE]`, some just close after the last chunk with a finish reason;
    // a body that ends with neither was cut off.
    if (!done && !finished) {
      throw new NetworkError(OpenAIErrorCodes.OPENAI_STREAM_INTERRUPTED, `${this.#url} ended its stream before the answer was complete`, { retryable: true });
    }
    const toolCalls = [...calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => {
        const id = c.id || `call_${index}`;
        return { id, name: fromFunctionName(c.name), input: parseArguments(id, c.name, c.args) };
      });
    yield { type: 'response', response: this.#response(text ?? (toolCalls.length === 0 ? '' : undefined), toolCalls, usage) };
  }
}
