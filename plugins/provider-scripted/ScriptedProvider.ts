import { AgentError } from '../../sdk/index.js';
import { sleep } from '../../sdk/util/index.js';
import { ScriptedErrorCodes } from './errors.js';
import type { ModelProvider, ModelRequest, ModelResponse, ModelStreamChunk } from '../agents/types.js';

/** How a scripted turn fails: a message, or a provider-like error (retryable, with a retry hint). */
export type ScriptFailure =
  | string
  | {
      readonly message: string;
      readonly code?: string;
      readonly retryable?: boolean;
      readonly retryAfterMs?: number;
      /** Fail only the first `times` attempts of this turn in a run (then answer normally). */
      readonly times?: number;
    };

/** One scripted model turn: a reply, or tool calls; optionally late, costly, or failing. */
export interface ScriptStep {
  readonly reply?: string;
  readonly toolCalls?: ReadonlyArray<{ readonly id?: string; readonly name: string; readonly input: unknown }>;
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
  /** What this turn cost, as a provider would report it. */
  readonly costUsd?: number;
  /** Wait this long before answering (honours the run's signal). */
  readonly delayMs?: number;
  readonly fail?: ScriptFailure;
  /**
   * Picks this alternative when the last message matches: `/regex/flags`, else a substring. An
   * alternative without `match` is the default.
   */
  readonly match?: string;
  /** Reported back as `providerSessionId`. */
  readonly providerSessionId?: string;
}

/** Turn N of a script: one step, or alternatives picked by `match`. */
export type ScriptTurn = ScriptStep | readonly ScriptStep[];

function matcher(pattern: string): (text: string) => boolean {
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (regex !== null) {
    const re = new RegExp(regex[1]!, regex[2]);
    return (text) => re.test(text);
  }
  return (text) => text.includes(pattern);
}

function lastMessageText(request: ModelRequest): string {
  const last = request.messages[request.messages.length - 1];
  if (last === undefined) return '';
  if (last.role === 'assistant') return last.content ?? '';
  return last.content;
}

/**
 * A model that plays a script: the agent's `model` names the script, and turn N of any run answers
 * with step N (so a run resumed from its journal gets the step it would have had). Offline,
 * deterministic, and the same code path as a real provider: for examples, tests and demos.
 */
export class ScriptedProvider implements ModelProvider {
  readonly name: string;
  readonly #scripts: ReadonlyMap<string, readonly ScriptTurn[]>;
  readonly #matchers = new Map<string, (text: string) => boolean>();
  /** Failed attempts per run and turn, for `fail.times`. */
  readonly #attempts = new Map<string, number>();

  constructor(scripts: Readonly<Record<string, readonly ScriptTurn[]>>, name = 'scripted') {
    this.name = name;
    this.#scripts = new Map(Object.entries(scripts));
  }

  #step(request: ModelRequest): ScriptStep {
    const script = this.#scripts.get(request.model);
    if (script === undefined) {
      throw new AgentError(ScriptedErrorCodes.SCRIPT_NOT_FOUND, `no script for model '${request.model}' (scripts: ${[...this.#scripts.keys()].join(', ') || 'none'})`, { retryable: false });
    }
    const turn = script[request.turn];
    if (turn === undefined) {
      throw new AgentError(ScriptedErrorCodes.SCRIPT_EXHAUSTED, `script '${request.model}' has ${script.length} steps; the run asked for turn ${request.turn + 1}`, { retryable: false });
    }
    if (!Array.isArray(turn)) return turn as ScriptStep;
    const text = lastMessageText(request);
    for (const alternative of turn as readonly ScriptStep[]) {
      if (alternative.match === undefined) return alternative;
      let test = this.#matchers.get(alternative.match);
      if (test === undefined) this.#matchers.set(alternative.match, (test = matcher(alternative.match)));
      if (test(text)) return alternative;
    }
    throw new AgentError(ScriptedErrorCodes.SCRIPT_NO_MATCH, `script '${request.model}' turn ${request.turn}: no alternative matches the last message ${JSON.stringify(text.slice(0, 80))}`, { retryable: false });
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const step = this.#step(request);
    if (step.delayMs !== undefined && step.delayMs > 0) await sleep(step.delayMs, request.signal);
    if (step.fail !== undefined) this.#fail(step.fail, request);
    return {
      ...(step.reply !== undefined ? { reply: step.reply } : {}),
      ...(step.toolCalls !== undefined ? { toolCalls: step.toolCalls } : {}),
      usage: step.usage ?? { inputTokens: 0, outputTokens: 0 },
      ...(step.costUsd !== undefined ? { costUsd: step.costUsd } : {}),
      ...(step.providerSessionId !== undefined ? { providerSessionId: step.providerSessionId } : {}),
    };
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamChunk> {
    const response = await this.complete(request);
    if (response.reply !== undefined) {
      for (const piece of response.reply.match(/\S+\s*/g) ?? []) yield { type: 'text.delta', text: piece };
    }
    yield { type: 'response', response };
  }

  #fail(fail: ScriptFailure, request: ModelRequest): void {
    const spec = typeof fail === 'string' ? { message: fail } : fail;
    if (spec.times !== undefined) {
      const key = `${request.runId}:${request.turn}`;
      const n = this.#attempts.get(key) ?? 0;
      if (n >= spec.times) {
        this.#attempts.delete(key);
        return;
      }
      this.#attempts.set(key, n + 1);
    }
    throw new AgentError(spec.code ?? ScriptedErrorCodes.SCRIPT_STEP_FAILED, spec.message, {
      retryable: spec.retryable ?? false,
      ...(spec.retryAfterMs !== undefined ? { retryAfterMs: spec.retryAfterMs } : {}),
    });
  }
}
