/**
 * The provider contract this plugin implements, as the agents plugin defines it, plus the fields
 * of its newer revision (sessions, cost, streaming) until those land in the agents plugin's types.
 */
import type { ModelProvider, ModelRequest, ModelResponse } from '../agents/types.js';

/** A model request with the session fields of the current contract. */
export type ProviderRequest = ModelRequest & { readonly sessionId?: string; readonly providerSessionId?: string };

/** A model response with the cost and provider-session fields of the current contract. */
export type ProviderResponse = ModelResponse & { readonly costUsd?: number; readonly providerSessionId?: string };

/** What `stream` yields: text as it arrives, and last, always, the whole response. */
export type ProviderStreamChunk = { readonly type: 'text.delta'; readonly text: string } | { readonly type: 'response'; readonly response: ProviderResponse };

/** A provider that can also stream. */
export interface StreamingProvider extends ModelProvider {
  complete(request: ProviderRequest): Promise<ProviderResponse>;
  stream(request: ProviderRequest): AsyncIterable<ProviderStreamChunk>;
}
