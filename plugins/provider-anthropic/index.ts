/** A model provider for the Anthropic Messages API over HTTP. */
import { ConfigError, definePlugin, z } from '../../sdk/index.js';
import type {} from '../agents/types.js';
import { AnthropicProvider } from './AnthropicProvider.js';
import { AnthropicErrorCodes } from './errors.js';

export const AnthropicOptionsSchema = z.object({
  /** The provider name agents refer to. */
  name: z.string().min(1).default('anthropic'),
  /** The API origin; `/v1/messages` is appended. */
  baseUrl: z.url().default('https://api.anthropic.com'),
  /** The key itself (prefer `apiKeyEnv`: config files end up in repositories). */
  apiKey: z.string().min(1).optional(),
  /** The environment variable holding the key. */
  apiKeyEnv: z.string().min(1).default('ANTHROPIC_API_KEY'),
  /** Refuse to start without a key. */
  requireApiKey: z.boolean().default(false),
  /** The `anthropic-version` header. */
  apiVersion: z.string().min(1).default('2023-06-01'),
  /** `max_tokens` of each request (required by the API). */
  maxOutputTokens: z.number().int().positive().default(4096),
  temperature: z.number().min(0).max(1).optional(),
  /** Deadline of one model call, a streamed answer included. */
  timeoutMs: z.number().int().positive().default(120_000),
  headers: z.record(z.string(), z.string()).default({}),
});

export default definePlugin({
  name: 'provider-anthropic',
  version: '1.0.0',
  description: 'Model provider for the Anthropic Messages API',
  kernel: '^1.0.0',
  dependsOn: ['agents'],
  options: AnthropicOptionsSchema,
  setup(ctx) {
    const o = ctx.options;
    const apiKey = o.apiKey ?? process.env[o.apiKeyEnv];
    if (o.requireApiKey && (apiKey === undefined || apiKey === '')) {
      throw new ConfigError(AnthropicErrorCodes.ANTHROPIC_API_KEY_MISSING, `provider-anthropic needs an API key: set ${o.apiKeyEnv} or options.apiKey`);
    }
    const provider = new AnthropicProvider({
      name: o.name,
      baseUrl: o.baseUrl,
      apiKey,
      apiVersion: o.apiVersion,
      maxOutputTokens: o.maxOutputTokens,
      timeoutMs: o.timeoutMs,
      headers: o.headers,
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    });
    const unregister = ctx.resolve('agents').registerProvider(provider);
    ctx.onStop(() => unregister());
    ctx.logger.debug({ baseUrl: o.baseUrl, apiKey: apiKey ? 'set' : 'none' }, 'anthropic provider registered');
  },
});

export { AnthropicProvider } from './AnthropicProvider.js';
export type { AnthropicProviderOptions } from './AnthropicProvider.js';
export { fromToolName, toToolName } from './wire.js';
export { AnthropicErrorCodes } from './errors.js';
