/**
 * The research team on a real model, chosen by one environment variable:
 *
 *   RESEARCH_TEAM_PROVIDER=claude-cli npx mister-smith start examples/research-team/live.config.ts --once
 *   RESEARCH_TEAM_PROVIDER=openai     OPENAI_API_KEY=… [OPENAI_BASE_URL=http://127.0.0.1:8000/v1] npx mister-smith start examples/research-team/live.config.ts
 *   RESEARCH_TEAM_PROVIDER=anthropic  ANTHROPIC_API_KEY=… npx mister-smith start examples/research-team/live.config.ts
 *
 * It is the offline config (mister-smith.config.json) with the three agents moved to that provider
 * (model: RESEARCH_TEAM_MODEL, else a default per provider) and provider-scripted replaced by it.
 * The tools, the crash, the flaky catalogue, the approval and the event log stay as they are.
 */
import { readFileSync } from 'node:fs';

type Entry = string | { use: string; options?: Record<string, unknown> };
interface Config {
  plugins: Entry[];
  [key: string]: unknown;
}

const PROVIDERS: Record<string, { plugin: string; model: string; options: () => Record<string, unknown> }> = {
  'claude-cli': { plugin: 'provider-claude-cli', model: 'sonnet', options: () => ({}) },
  openai: {
    plugin: 'provider-openai',
    model: 'gpt-4o-mini',
    options: () => ({ ...(process.env.OPENAI_BASE_URL ? { baseUrl: process.env.OPENAI_BASE_URL } : {}) }),
  },
  anthropic: { plugin: 'provider-anthropic', model: 'claude-sonnet-4-5', options: () => ({}) },
};

const chosen = process.env.RESEARCH_TEAM_PROVIDER ?? 'claude-cli';
const provider = PROVIDERS[chosen];
if (provider === undefined) {
  throw new Error(`RESEARCH_TEAM_PROVIDER=${chosen}: expected one of ${Object.keys(PROVIDERS).join(', ')}`);
}
const model = process.env.RESEARCH_TEAM_MODEL ?? provider.model;

const base = JSON.parse(readFileSync(new URL('./mister-smith.config.json', import.meta.url), 'utf8')) as Config;
const plugins = base.plugins.flatMap((entry): Entry[] => {
  if (typeof entry === 'string') return [entry];
  if (entry.use === 'provider-scripted') return [{ use: provider.plugin, options: provider.options() }];
  if (entry.use === 'agents') {
    const options = entry.options as { agents: Array<Record<string, unknown>> };
    return [{ ...entry, options: { ...options, agents: options.agents.map((a) => ({ ...a, provider: chosen, model })) } }];
  }
  return [entry];
});

export default { ...base, name: `research-team-${chosen}`, plugins };
