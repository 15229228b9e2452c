/** The handler context of one resilience-policy attempt: the call's, with the attempt's signal. */
import type { ToolCall } from './ToolCall.js';
import type { NestedCallOptions, ToolContext } from './types.js';

export class AttemptContext implements ToolContext {
  readonly #call: ToolCall;
  readonly signal: AbortSignal;

  constructor(call: ToolCall, signal: AbortSignal) {
    this.#call = call;
    this.signal = signal;
  }

  get agentId(): string {
    return this.#call.agentId;
  }

  get callId(): string {
    return this.#call.callId;
  }

  get delegation(): readonly string[] {
    return this.#call.delegation;
  }

  get correlationId(): string {
    return this.#call.correlationId;
  }

  get traceparent(): string | undefined {
    return this.#call.traceparent;
  }

  call<T = unknown>(name: string, input: unknown, options?: NestedCallOptions): Promise<T> {
    return this.#call.call<T>(name, input, options);
  }
}
