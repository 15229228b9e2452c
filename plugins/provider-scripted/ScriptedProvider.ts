import { AgentError } from '../../sdk/index.js';
import type { ModelProvider, ModelRequest, ModelResponse } from '../agents/types.js';
import { sleep } from '../../sdk/util/index.js';

/** One scripted model turn: a reply, or tool calls; optionally late, or failing. */
export interface ScriptStep {
  readonly reply?: string;
  readonly toolCalls?: ReadonlyArray<{ readonly id?: string; readonly name: string; readonly input: unknown }>;
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
  /** Wait this long before answering (honours the run's signal). */
  readonly delayMs?: number;
  /** Fail this turn with this message. */
  readonly fail?: string;
}

/**
 * A model that plays a script: the steps of a model (the agent's `model` names the script) are
 * consumed in order within each run — turn N of any run answers with step N. Offline, deterministic,
 * and the same code path as a real provider: for examples, tests and demos.
 */
export class ScriptedProvider implements ModelProvider {
  readonly name: string;
  readonly #scripts: ReadonlyMap<string, readonly ScriptStep[]>;

  constructor(scripts: Readonly<Record<string, readonly ScriptStep[]>>, name = 'scripted') {
    this.name = name;
    this.#scripts = new Map(Object.entries(scripts));
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const script = this.#scripts.get(request.model);
    if (script === undefined) {
      throw new AgentError('SCRIPT_NOT_FOUND', `no script for model '${request.model}' (scripts: ${[...this.#scripts.keys()].join(', ') || 'none'})`);
    }
    const step = script[request.turn];
    if (step === undefined) {
      throw new AgentError('SCRIPT_EXHAUSTED', `script '${request.model}' has ${script.length} steps; the run asked for turn ${request.turn + 1}`);
    }
    if (step.delayMs !== undefined && step.delayMs > 0) await sleep(step.delayMs, request.signal);
    if (step.fail !== undefined) throw new AgentError('SCRIPT_STEP_FAILED', step.fail, { retryable: true });
    return {
      ...(step.reply !== undefined ? { reply: step.reply } : {}),
      ...(step.toolCalls !== undefined ? { toolCalls: step.toolCalls } : {}),
      ...(step.usage !== undefined ? { usage: step.usage } : {}),
    };
  }
}
