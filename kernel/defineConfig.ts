/**
 * `defineConfig()` for `.ts` configs: the config as written, typed — each built-in plugin's options
 * by its `use` name, so an editor completes them and `tsc` rejects a mistyped key or a wrong type.
 *
 * The map below is types only (`import type`, erased at run time): the kernel still loads plugins
 * only through the loader, and this file is the one place that names them all.
 */
import type { z } from 'zod';
import type { Plugin } from '../sdk/index.js';
import type { KernelConfigInput } from './config.js';
import type actors from '../plugins/actors/index.js';
import type agents from '../plugins/agents/index.js';
import type builtinTools from '../plugins/builtin-tools/index.js';
import type dashboard from '../plugins/dashboard/index.js';
import type events from '../plugins/events/index.js';
import type health from '../plugins/health/index.js';
import type http from '../plugins/http/index.js';
import type mcp from '../plugins/mcp/index.js';
import type metricsPrometheus from '../plugins/metrics-prometheus/index.js';
import type otel from '../plugins/otel/index.js';
import type providerAnthropic from '../plugins/provider-anthropic/index.js';
import type providerClaudeCli from '../plugins/provider-claude-cli/index.js';
import type providerOpenai from '../plugins/provider-openai/index.js';
import type providerScripted from '../plugins/provider-scripted/index.js';
import type resilience from '../plugins/resilience/index.js';
import type routing from '../plugins/routing/index.js';
import type supervision from '../plugins/supervision/index.js';
import type tasks from '../plugins/tasks/index.js';
import type tools from '../plugins/tools/index.js';
import type transportNats from '../plugins/transport-nats/index.js';

/** The options a plugin definition accepts in a config (its schema's input type). */
export type PluginOptionsInput<P> = P extends Plugin<infer S> ? z.input<S> : Record<string, unknown>;

/** Each built-in plugin's options, by the short name a config's `use` gives it. */
export interface BuiltinPluginOptions {
  actors: PluginOptionsInput<typeof actors>;
  agents: PluginOptionsInput<typeof agents>;
  'builtin-tools': PluginOptionsInput<typeof builtinTools>;
  dashboard: PluginOptionsInput<typeof dashboard>;
  events: PluginOptionsInput<typeof events>;
  health: PluginOptionsInput<typeof health>;
  http: PluginOptionsInput<typeof http>;
  mcp: PluginOptionsInput<typeof mcp>;
  'metrics-prometheus': PluginOptionsInput<typeof metricsPrometheus>;
  otel: PluginOptionsInput<typeof otel>;
  'provider-anthropic': PluginOptionsInput<typeof providerAnthropic>;
  'provider-claude-cli': PluginOptionsInput<typeof providerClaudeCli>;
  'provider-openai': PluginOptionsInput<typeof providerOpenai>;
  'provider-scripted': PluginOptionsInput<typeof providerScripted>;
  resilience: PluginOptionsInput<typeof resilience>;
  routing: PluginOptionsInput<typeof routing>;
  supervision: PluginOptionsInput<typeof supervision>;
  tasks: PluginOptionsInput<typeof tasks>;
  tools: PluginOptionsInput<typeof tools>;
  'transport-nats': PluginOptionsInput<typeof transportNats>;
}

export type BuiltinPluginName = keyof BuiltinPluginOptions;

interface EntryCommon {
  /** Overrides the plugin's own name (to load one plugin twice under two names). */
  readonly name?: string;
  readonly enabled?: boolean;
  /** When true, a failure to start this plugin (or its absence) is reported and the kernel runs on. */
  readonly optional?: boolean;
}

/** What one `plugins` entry may be, given what was written for it. */
export type ConfigEntry<E> = E extends string | Plugin
  ? E
  : E extends { readonly use: infer U }
    ? U extends BuiltinPluginName
      ? EntryCommon & { readonly use: U; readonly options?: BuiltinPluginOptions[U] }
      : U extends Plugin<infer S>
        ? EntryCommon & { readonly use: U; readonly options?: z.input<S> }
        : EntryCommon & { readonly use: string; readonly options?: Readonly<Record<string, unknown>> }
    : { readonly use: string | Plugin } & EntryCommon;

/** A config whose `plugins` are checked entry by entry (see `ConfigEntry`). */
export type TypedConfig<P extends readonly unknown[]> = Omit<KernelConfigInput, 'plugins'> & {
  readonly plugins?: { readonly [I in keyof P]: ConfigEntry<P[I]> };
};

/**
 * Returns `config` unchanged; its type checks every built-in plugin's options by `use` name (and an
 * inline plugin's by its schema).
 *
 * ```ts
 * import { defineConfig } from 'mister-smith';
 * export default defineConfig({
 *   name: 'my-system',
 *   plugins: ['supervision', { use: 'actors', options: { mailbox: { capacity: 1000 } } }],
 * });
 * ```
 */
export function defineConfig<const P extends readonly unknown[] = []>(config: TypedConfig<P>): KernelConfigInput {
  return config as KernelConfigInput;
}
