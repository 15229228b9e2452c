/**
 * Agents as supervised actors. Each defined agent is one actor (`agent:<name>`) under the actor
 * system's supervisor; a run is one message, so an agent handles its runs one at a time, in order.
 * A run's outcome (reply or typed failure) is the actor's reply, never a crash: only a bug in the
 * framework crashes an agent's actor, and the supervisor restarts it.
 */
import { randomUUID } from 'node:crypto';
import {
  AgentError,
  toError,
  z,
  type Counter,
  type Histogram,
  type Logger,
  type Metrics,
} from '../../sdk/index.js';
import type { ActorRef, ActorSystem } from '../actors/types.js';
import type { EventBus } from '../events/types.js';
import type { ToolBus } from '../tools/types.js';
import { agentError, AgentErrorCodes } from './errors.js';
import { runAgent } from './runAgent.js';
import type { AgentDefinition, AgentService as AgentServiceContract, AgentStep, InterruptedRun, ModelProvider, RunOptions, RunResult } from './types.js';
import { anySignal } from '../../sdk/util/index.js';

export const DEFAULT_RUN_TIMEOUT_MS = 300_000;

interface RunMessage {
  readonly input: string;
  readonly runId: string;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly delegation: readonly string[];
}

type RunOutcome = { readonly ok: true; readonly result: RunResult } | { readonly ok: false; readonly error: Error };

interface DefinedAgent {
  readonly definition: AgentDefinition;
  readonly ref: ActorRef<RunMessage, RunOutcome>;
}

export interface AgentServiceDeps {
  readonly actors: ActorSystem;
  readonly tools: ToolBus;
  readonly events: EventBus | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Aborted when the kernel stops: runs in flight end with AGENT_CANCELLED. */
  readonly signal: AbortSignal;
  readonly mailboxCapacity: number;
}

export class AgentService implements AgentServiceContract {
  readonly #deps: AgentServiceDeps;
  readonly #agents = new Map<string, DefinedAgent>();
  readonly #providers = new Map<string, ModelProvider>();
  readonly #interrupted: InterruptedRun[] = [];
  readonly #runs: Counter;
  readonly #spawns: Counter;
  readonly #tokens: Counter;
  readonly #duration: Histogram;

  constructor(deps: AgentServiceDeps) {
    this.#deps = deps;
    this.#spawns = deps.metrics.counter({ name: 'agent_spawns_total', help: 'Agents spawned as actors', labelNames: ['agent_type', 'spawn_method'] });
    this.#runs = deps.metrics.counter({ name: 'agent_runs_total', help: 'Agent runs by outcome', labelNames: ['agent', 'status'] });
    this.#tokens = deps.metrics.counter({ name: 'agent_tokens_total', help: 'Model tokens used by agents', labelNames: ['agent', 'kind'] });
    this.#duration = deps.metrics.histogram({ name: 'agent_duration_seconds', help: 'Duration of agent runs', labelNames: ['agent'] });
  }

  registerProvider(provider: ModelProvider): () => void {
    if (this.#providers.has(provider.name)) {
      throw new AgentError('AGENT_PROVIDER_TAKEN', `a model provider named '${provider.name}' is already registered`);
    }
    this.#providers.set(provider.name, provider);
    return () => void (this.#providers.get(provider.name) === provider && this.#providers.delete(provider.name));
  }

  /** Throws AGENT_PROVIDER_NOT_FOUND for the first defined agent whose provider is not registered. */
  checkProviders(): void {
    for (const { definition } of this.#agents.values()) this.#provider(definition);
  }

  define(definition: AgentDefinition): () => Promise<void> {
    const def = AgentDefinitionSchema.parse(definition) as AgentDefinition;
    if (this.#agents.has(def.name)) throw agentError(AgentErrorCodes.NAME_TAKEN, `an agent named '${def.name}' is already defined`, { agent: def.name });
    const ref = this.#deps.actors.spawn<RunMessage, RunOutcome>(
      { receive: (message) => this.#handle(def, message) },
      { name: `agent:${def.name}`, mailbox: { capacity: this.#deps.mailboxCapacity, overflow: 'fail' } },
    );
    if (def.tools !== undefined && def.tools.length > 0) this.#deps.tools.grant(def.name, def.tools);
    this.#agents.set(def.name, { definition: def, ref });
    this.#spawns.inc({ agent_type: def.name, spawn_method: 'define' });
    this.#deps.logger.info({ agent: def.name, provider: def.provider, model: def.model, tools: def.tools }, `agent '${def.name}' defined`);
    return async () => {
      if (this.#agents.get(def.name)?.ref !== ref) return;
      this.#agents.delete(def.name);
      if (def.tools !== undefined && def.tools.length > 0) this.#deps.tools.revoke(def.name, def.tools);
      await ref.stop();
    };
  }

  list(): AgentDefinition[] {
    return [...this.#agents.values()].map((a) => a.definition);
  }

  interruptedRuns(): InterruptedRun[] {
    return [...this.#interrupted];
  }

  async run(agent: string, input: string, options: RunOptions = {}): Promise<RunResult> {
    const defined = this.#agents.get(agent);
    if (defined === undefined) {
      throw agentError(AgentErrorCodes.UNKNOWN_AGENT, `no agent named '${agent}' (defined: ${[...this.#agents.keys()].join(', ') || 'none'})`, { agent });
    }
    if (typeof input !== 'string') throw agentError(AgentErrorCodes.PROVIDER_FAILED, `agent '${agent}': input must be a string, got ${typeof input}`, { agent });
    const timeoutMs = options.timeoutMs ?? defined.definition.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const message: RunMessage = {
      input,
      runId: options.runId ?? `run-${randomUUID()}`,
      deadline: Date.now() + timeoutMs,
      signal: options.signal,
      delegation: options.delegation ?? [],
    };
    // The run's own deadline covers the time spent queued behind other runs of the same agent; the
    // ask's timeout is only a safety net a little after it.
    const outcome = await defined.ref.ask(message, { timeoutMs: timeoutMs + 1_000, ...(options.signal ? { signal: options.signal } : {}) });
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  asTool(agent: string, options: { readonly name?: string; readonly description?: string } = {}): () => Promise<void> {
    const defined = this.#agents.get(agent);
    if (defined === undefined) throw agentError(AgentErrorCodes.UNKNOWN_AGENT, `no agent named '${agent}' to register as a tool`, { agent });
    return this.#deps.tools.register({
      name: options.name ?? `agent.${agent.replace(/[^a-zA-Z0-9_-]/g, '_')}`,
      description: options.description ?? defined.definition.instructions ?? `Delegates to the agent '${agent}'`,
      input: z.object({ prompt: z.string().min(1) }),
      output: z.string(),
      timeoutMs: defined.definition.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
      handler: async ({ prompt }, ctx) => {
        const result = await this.run(agent, prompt, { signal: ctx.signal, delegation: [...ctx.delegation, ctx.agentId] });
        return result.output;
      },
    });
  }

  /** Reads the event log for runs that started and never ended (the process died mid-run). */
  async recover(mode: 'report' | 'resume', track: (work: Promise<unknown>, label: string) => void): Promise<void> {
    const events = this.#deps.events;
    if (events === undefined) return;
    const open = new Map<string, InterruptedRun>();
    for await (const event of events.replay({ types: ['agent.run.>'] })) {
      const runId = event.correlationId;
      if (runId === undefined) continue;
      if (event.type === 'agent.run.started') {
        const data = event.data as { agent: string; input: string };
        open.set(runId, { runId, agent: data.agent, input: data.input, startedAt: event.time });
      } else {
        // completed, failed, or already reported as interrupted by an earlier start
        open.delete(runId);
      }
    }
    for (const run of open.values()) {
      this.#interrupted.push(run);
      this.#publish('agent.run.interrupted', run.runId, { agent: run.agent, input: run.input, startedAt: run.startedAt, action: mode });
      this.#deps.logger.warn({ runId: run.runId, agent: run.agent, action: mode }, `run ${run.runId} of agent '${run.agent}' was interrupted`);
      if (mode === 'resume' && this.#agents.has(run.agent)) {
        track(this.run(run.agent, run.input, { runId: run.runId }), `resume ${run.runId}`);
      }
    }
  }

  #provider(definition: AgentDefinition): ModelProvider {
    const provider = this.#providers.get(definition.provider);
    if (provider === undefined) {
      throw agentError(
        AgentErrorCodes.UNKNOWN_PROVIDER,
        `agent '${definition.name}' uses provider '${definition.provider}', which no loaded plugin registered (registered: ${[...this.#providers.keys()].join(', ') || 'none'}); add e.g. "provider-${definition.provider}" to the plugins`,
        { agent: definition.name, provider: definition.provider },
      );
    }
    return provider;
  }

  async #handle(definition: AgentDefinition, message: RunMessage): Promise<RunOutcome> {
    const { runId } = message;
    const began = performance.now();
    const remaining = message.deadline - Date.now();
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(agentError(AgentErrorCodes.TIMEOUT, `run ${runId} of agent '${definition.name}' missed its deadline`, { agent: definition.name, runId })),
      Math.max(0, remaining),
    );
    const signal = anySignal([timeout.signal, message.signal, this.#deps.signal]);
    this.#publish('agent.run.started', runId, { agent: definition.name, input: message.input, delegation: message.delegation });
    try {
      if (remaining <= 0) throw agentError(AgentErrorCodes.TIMEOUT, `run ${runId} of agent '${definition.name}' missed its deadline while queued`, { agent: definition.name, runId });
      const result = await runAgent({
        definition,
        provider: this.#provider(definition),
        tools: this.#deps.tools,
        runId,
        input: message.input,
        signal,
        delegation: message.delegation,
        onStep: (step) => this.#onStep(definition.name, runId, step),
      });
      this.#finish(definition.name, 'completed', began, result.usage);
      this.#publish('agent.run.completed', runId, { agent: definition.name, output: result.output, usage: result.usage });
      return { ok: true, result };
    } catch (error) {
      const err = toError(error);
      const code = (err as AgentError).code ?? 'UNKNOWN';
      this.#finish(definition.name, 'failed', began, ((err as AgentError).context?.usage as RunResult['usage'] | undefined) ?? undefined);
      this.#deps.logger.warn({ agent: definition.name, runId, code, err }, `run ${runId} of agent '${definition.name}' failed`);
      this.#publish('agent.run.failed', runId, { agent: definition.name, code, message: err.message });
      return { ok: false, error: err };
    } finally {
      clearTimeout(timer);
    }
  }

  #onStep(agent: string, runId: string, step: AgentStep): void {
    this.#deps.logger.debug({ agent, runId, step }, 'agent step');
    this.#publish('agent.step', runId, { agent, ...step });
  }

  #finish(agent: string, status: string, began: number, usage: RunResult['usage'] | undefined): void {
    this.#runs.inc({ agent, status });
    this.#duration.observe({ agent }, (performance.now() - began) / 1000);
    if (usage !== undefined) {
      this.#tokens.inc({ agent, kind: 'input' }, usage.inputTokens);
      this.#tokens.inc({ agent, kind: 'output' }, usage.outputTokens);
    }
  }

  #publish(type: string, correlationId: string, data: Record<string, unknown>): void {
    const events = this.#deps.events;
    if (events === undefined) return;
    events.publish({ type, source: 'agents', correlationId, data }).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error, type, runId: correlationId }, 'could not publish an agent event');
    });
  }
}

/** An agent as written in the plugin options or passed to `agents.define`. */
export const AgentDefinitionSchema = z.object({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'letters, digits, _ . - (starting with a letter or digit)'),
  provider: z.string().min(1),
  model: z.string().min(1),
  instructions: z.string().default(''),
  tools: z.array(z.string().min(1)).default([]),
  maxTurns: z.number().int().positive().default(8),
  budget: z
    .object({ maxTokens: z.number().int().positive().optional(), maxToolCalls: z.number().int().nonnegative().optional() })
    .default({}),
  timeoutMs: z.number().int().positive().default(DEFAULT_RUN_TIMEOUT_MS),
});
