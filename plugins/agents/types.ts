/**
 * Public contract of the agents plugin (DESIGN §4 "agents and providers"). Providers are plugins
 * that register a `ModelProvider` with `agents.registerProvider`; agents are defined in the plugin
 * options or with `agents.define`.
 */
import type { ToolInfo } from '../tools/types.js';

/** A tool call the model asked for. */
export interface ToolCallRequest {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}

/** The conversation as providers see it (a neutral shape; each provider maps it to its API). */
export type ChatMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content?: string; readonly toolCalls?: readonly ToolCallRequest[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly name: string; readonly content: string; readonly isError: boolean };

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** One turn's request to a model. */
export interface ModelRequest {
  readonly runId: string;
  readonly agent: string;
  readonly model: string;
  readonly instructions: string;
  readonly messages: readonly ChatMessage[];
  /** The tools this agent may call, as JSON Schemas (the shape function-calling APIs take). */
  readonly tools: readonly ToolInfo[];
  /** 0 for the first model call of a run. */
  readonly turn: number;
  /** Aborted at the run's deadline or when the caller cancels. */
  readonly signal: AbortSignal;
}

/** What the model answered: a final reply, or tool calls to make before asking it again. */
export interface ModelResponse {
  readonly reply?: string;
  readonly toolCalls?: ReadonlyArray<{ readonly id?: string; readonly name: string; readonly input: unknown }>;
  readonly usage?: TokenUsage;
}

/** A model backend: a script, an OpenAI-compatible HTTP API, a CLI subprocess… */
export interface ModelProvider {
  readonly name: string;
  complete(request: ModelRequest): Promise<ModelResponse>;
}

export interface AgentBudget {
  /** Input + output tokens over the whole run. */
  readonly maxTokens?: number;
  readonly maxToolCalls?: number;
}

export interface AgentDefinition {
  readonly name: string;
  /** A registered provider's name (`scripted`, `openai`, `claude-cli`). */
  readonly provider: string;
  readonly model: string;
  readonly instructions?: string;
  /** Tool patterns granted to this agent on the tool bus (`math.*`). */
  readonly tools?: readonly string[];
  /** Model calls per run (default 8). */
  readonly maxTurns?: number;
  readonly budget?: AgentBudget;
  /** Deadline of one run (default 300 000 ms, the seed's agent timeout). */
  readonly timeoutMs?: number;
}

/** One thing that happened in a run. */
export type AgentStep =
  | { readonly type: 'model'; readonly turn: number; readonly reply?: string; readonly toolCalls: number; readonly usage: TokenUsage }
  | { readonly type: 'tool'; readonly turn: number; readonly id: string; readonly name: string; readonly input: unknown; readonly output?: unknown; readonly error?: { readonly code: string; readonly message: string } };

export interface RunUsage extends TokenUsage {
  readonly totalTokens: number;
  readonly toolCalls: number;
  readonly turns: number;
}

export interface RunResult {
  readonly runId: string;
  readonly agent: string;
  readonly output: string;
  readonly steps: readonly AgentStep[];
  readonly usage: RunUsage;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Overrides the agent's run deadline. */
  readonly timeoutMs?: number;
  /** Default: a fresh id. Reusing the id of an interrupted run resumes it under that id. */
  readonly runId?: string;
  /** Agents the run acts for (set by agent-as-tool); its tool calls are limited to what all of them may call. */
  readonly delegation?: readonly string[];
}

/** A run that started and never finished (found in the event log at start). */
export interface InterruptedRun {
  readonly runId: string;
  readonly agent: string;
  readonly input: string;
  readonly startedAt: string;
}

/** The `agents` service. */
export interface AgentService {
  /** Adds an agent; its tool patterns are granted on the tool bus. Returns a disposer. */
  define(definition: AgentDefinition): () => Promise<void>;
  /** Runs an agent on an input to its final reply. */
  run(agent: string, input: string, options?: RunOptions): Promise<RunResult>;
  registerProvider(provider: ModelProvider): () => void;
  /** Defined agents. */
  list(): AgentDefinition[];
  /**
   * Registers an agent as a tool (input `{ prompt }`, output the reply) so other agents can delegate
   * to it; the callee's tool calls are limited to the intersection of its grants and the caller's.
   */
  asTool(agent: string, options?: { readonly name?: string; readonly description?: string }): () => Promise<void>;
  /** Runs found unfinished in the event log when the plugin started. */
  interruptedRuns(): InterruptedRun[];
}

declare module '../../sdk/index.js' {
  interface Services {
    agents: AgentService;
  }
}
