/**
 * One model call with retries: through a resilience policy when one is named and the resilience
 * plugin is loaded, else a bounded built-in retry of retryable errors that honours the server's
 * `retryAfterMs`. Streams when the provider can and someone listens. A final failure is
 * `AGENT_PROVIDER_FAILED` keeping the cause's `retryable`.
 */
import { classify, MisterSmithError } from '../../sdk/index.js';
import { anySignal, backoffDelay, DEFAULT_BACKOFF, sleep } from '../../sdk/util/index.js';
import type { ResilienceService } from '../resilience/types.js';
import { agentError, AgentErrorCodes } from './errors.js';
import type { ModelProvider, ModelRequest, ModelResponse } from './types.js';

export interface ProviderCallOptions {
  readonly provider: ModelProvider;
  readonly request: ModelRequest;
  /** Text deltas go here when the provider streams; undefined: do not stream. */
  readonly onDelta: ((text: string) => void) | undefined;
  readonly resilience: ResilienceService | undefined;
  readonly policy: string | undefined;
  readonly retries: number;
  readonly maxDelayMs: number;
}

async function attempt(provider: ModelProvider, request: ModelRequest, onDelta: ((text: string) => void) | undefined): Promise<ModelResponse> {
  if (onDelta === undefined || provider.stream === undefined) return provider.complete(request);
  let response: ModelResponse | undefined;
  for await (const chunk of provider.stream(request)) {
    if (chunk.type === 'text.delta') onDelta(chunk.text);
    else response = chunk.response;
  }
  if (response === undefined) {
    throw agentError(AgentErrorCodes.AGENT_PROVIDER_FAILED, `provider '${provider.name}' ended its stream without a response`, { provider: provider.name }, undefined, true);
  }
  return response;
}

/** The provider's own error behind a resilience wrapper (retries exhausted, …). */
function rootCause(error: unknown): unknown {
  if (error instanceof MisterSmithError && error.kind === 'resilience' && error.cause !== undefined) return error.cause;
  return error;
}

export async function callProvider(options: ProviderCallOptions): Promise<ModelResponse> {
  const { provider, request, onDelta } = options;
  const signal = request.signal;
  try {
    if (options.policy !== undefined && options.resilience !== undefined) {
      return await options.resilience
        .policy(options.policy)
        .execute((ctx) => attempt(provider, { ...request, signal: anySignal([ctx.signal, signal]) }, onDelta), { signal });
    }
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(provider, request, onDelta);
      } catch (error) {
        const c = classify(error);
        if (signal.aborted || !c.retryable || retry >= options.retries) throw error;
        const delay = Math.min(c.retryAfterMs ?? backoffDelay(DEFAULT_BACKOFF, retry + 1), options.maxDelayMs);
        await sleep(delay, signal);
      }
    }
  } catch (error) {
    if (signal.aborted) throw error;
    const cause = rootCause(error);
    const c = classify(cause);
    throw agentError(
      AgentErrorCodes.AGENT_PROVIDER_FAILED,
      `agent '${request.agent}': provider '${provider.name}' failed on turn ${request.turn}: ${c.message}`,
      { agent: request.agent, runId: request.runId, provider: provider.name, turn: request.turn, causeCode: c.code },
      cause,
      c.retryable,
    );
  }
}
