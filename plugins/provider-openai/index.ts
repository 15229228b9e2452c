/** A model provider for OpenAI-compatible chat-completions HTTP APIs. */
import { ConfigError, definePlugin, z } from '../../sdk/index.js';
import type {} from '../agents/types.js';
import { OpenAIProvider } from './OpenAIProvider.js';
import { OpenAIErrorCodes } from './errors.js';

export const OpenAIOptionsSchema = z.object({
  /** The provider name agents refer to. */
  name: z.string().min(1).default('openai'),
  baseUrl: z.url().default('https://api.openai.com/v1'),
  /** The key itself (prefer `apiKeyEnv`: config files end up in repositories). */
  apiKey: z.string().min(1).optional(),
  /** The environment variable holding the key. */
  apiKeyEnv: z.string().min(1).default('OPENAI_API_KEY'),
  /** Deadline of one model call, a streamed answer included. */
  timeoutMs: z.number().int().positive().default(60_000),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  headers: z.record(z.string(), z.string()).default({}),
  /** Refuse to start without a key (a local server such as Ollama needs none). */
  requireApiKey: z.boolean().default(false),
});

export default definePlugin({
  name: 'provider-openai',
  version: '1.0.0',
  description: 'Model provider for OpenAI-compatible chat-completions APIs',
  kernel: '^1.0.0',
  dependsOn: ['agents'],
  options: OpenAIOptionsSchema,
  setup(ctx) {
    const o = ctx.options;
    const apiKey = o.apiKey ?? process.env[o.apiKeyEnv];
    if (o.requireApiKey && (apiKey === undefined || apiKey === '')) {
      throw new ConfigError(OpenAIErrorCodes.OPENAI_API_KEY_MISSING, `provider-openai needs an API key: set ${o.apiKeyEnv} or options.apiKey`);
    }
    const provider = new OpenAIProvider({
      name: o.name,
      baseUrl: o.baseUrl,
      apiKey,
      timeoutMs: o.timeoutMs,
      headers: o.headers,
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(o.maxOutputTokens !== undefined ? { maxOutputTokens: o.maxOutputTokens } : {}),
    });
    const unregister = ctx.resolve('agents').registerProvider(provider);
    ctx.onStop(() => unregister());
    ctx.logger.debug({ baseUrl: o.baseUrl, apiKey: apiKey ? 'set' : 'none' }, 'openai provider registered');
  },
});

export { OpenAIProvider } from './OpenAIProvider.js';
export { fromFunctionName, toFunctionName } from './wire.js';
export type { OpenAIProviderOptions } from './OpenAIProvider.js';
export { OpenAIErrorCodes } from './errors.js';
