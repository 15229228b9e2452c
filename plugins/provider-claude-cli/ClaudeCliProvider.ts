/**
 * A provider that runs the Claude Code CLI (`claude -p`) as a supervised subprocess per model call.
 * The CLI runs its own agent loop; the tools it may call are the agent's Mister Smith tools,
 * reached over MCP through the mcp plugin under the agent's identity (so every call goes through
 * the tool bus: grants, approval, validation, events). To the agents plugin each call is a final
 * reply with usage, cost and the CLI's session id (continued with `--resume`).
 */
import type { McpService } from '../mcp/types.js';
import type { ToolBus } from '../tools/types.js';
import { LRUCache } from 'lru-cache';
import { AgentError } from '../../sdk/index.js';
import { isTraceparent, replaceTraceContext } from '../../sdk/util/index.js';
import { CliProcess, type CliExit } from './CliProcess.js';
import { isResult, parseLine, toResponse, type CliResult } from './cliResult.js';
import type { ChatMessage, ModelProvider, ModelRequest, ModelResponse, ModelStreamChunk } from '../agents/types.js';
import { ClaudeCliErrorCodes } from './errors.js';
import { toolFlags } from './mcpConfig.js';

export interface ClaudeCliProviderOptions {
  readonly name: string;
  /** The executable (`claude`), looked up on PATH. */
  readonly command: string;
  /** Arguments before the ones this provider adds. */
  readonly args: readonly string[];
  /**
   * Claude Code built-in tools (`Read`, `Bash`) this provider may offer; each only to an agent
   * granted `claude.<Tool>` on the tool bus.
   */
  readonly builtinTools: readonly string[];
  readonly maxTurns: number | undefined;
  /** `CLAUDE_CODE_MAX_RETRIES` for the subprocess: 0 leaves retries to Mister Smith's policies. */
  readonly maxRetries: number;
  /** Deadline of one call. */
  readonly timeoutMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  readonly killGraceMs: number;
  /** Largest stdout accepted. */
  readonly maxOutputBytes: number;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** The tool bus (for built-in tool grants); the mcp service when loaded. */
  readonly tools: ToolBus | undefined;
  readonly mcp: McpService | undefined;
}

/** The conversation as one prompt: Claude Code's print mode takes text, not a message list. */
export function renderPrompt(messages: readonly ChatMessage[]): string {
  if (messages.length === 1 && messages[0]!.role === 'user') return messages[0]!.content;
  return messages
    .map((m) => {
      if (m.role === 'user') return `User: ${m.content}`;
      if (m.role === 'tool') return `Tool ${m.name} ${m.isError ? 'failed' : 'returned'}: ${m.content}`;
      return `Assistant: ${m.content ?? ''}`;
    })
    .join('\n\n');
}

/** With `--resume` the CLI holds the conversation: only what came after the last answer is new. */
function newMessages(messages: readonly ChatMessage[]): readonly ChatMessage[] {
  let i = messages.length;
  while (i > 0 && messages[i - 1]!.role !== 'assistant') i--;
  return messages.slice(i);
}

/**
 * The subprocess' environment: this process', the configured `env`, the retry setting, and the
 * call's trace context as `TRACEPARENT` (OpenTelemetry's carrier for environment variables). Trace
 * variables are the call's alone: a `TRACEPARENT` or `TRACESTATE` inherited from this process (set
 * by whatever started it) or configured once would make every model call a child of one unrelated
 * span, so they are dropped and only the request's (when valid) is set. A malformed one is not
 * passed: tracing never fails the model call.
 */
function cliEnv(configured: Readonly<Record<string, string>>, maxRetries: number, traceparent: string | undefined): NodeJS.ProcessEnv {
  // Names compared case-insensitively (on Windows the environment is).
  return replaceTraceContext({ ...process.env, ...configured, CLAUDE_CODE_MAX_RETRIES: String(maxRetries) }, isTraceparent(traceparent) ? traceparent : undefined, 'TRACEPARENT');
}

/** A queue between the process' stdout and an async generator. */
class LineQueue {
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  push(line: string): void {
    this.#lines.push(line);
    this.#wake?.();
  }
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        yield line;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

export class ClaudeCliProvider implements ModelProvider {
  readonly name: string;
  readonly #o: ClaudeCliProviderOptions;
  readonly #live = new Set<CliProcess>();
  /** Last cumulative cost per CLI session: a resumed session reports its total, a response carries its own part. */
  readonly #sessionCost = new LRUCache<string, number>({ max: 10_000 });
  /**
   * Mister Smith session → the CLI session that last answered in it, for a request that names its
   * session but carries no `providerSessionId` (the journal's is preferred: it survives restarts).
   */
  readonly #cliSessions = new LRUCache<string, string>({ max: 10_000 });
  #stopped = false;

  constructor(options: ClaudeCliProviderOptions) {
    this.name = options.name;
    this.#o = options;
  }

  /** Processes running now (their pids), for health and tests. */
  running(): number[] {
    return [...this.#live].map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Refuses new calls and ends every running process (SIGTERM, SIGKILL after the grace period). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const live = [...this.#live];
    for (const p of live) p.terminate(new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_STOPPED, 'the claude-cli provider is stopping', { retryable: true }));
    await Promise.all(live.map((p) => p.exited));
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    let response: ModelResponse | undefined;
    for await (const chunk of this.#run(request, false)) if (chunk.type === 'response') response = chunk.response;
    return response!;
  }

  stream(request: ModelRequest): AsyncGenerator<ModelStreamChunk> {
    return this.#run(request, true);
  }

  async *#run(request: ModelRequest, streaming: boolean): AsyncGenerator<ModelStreamChunk> {
    const o = this.#o;
    if (this.#stopped) throw new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_STOPPED, 'the claude-cli provider is stopped', { retryable: true });
    request.signal.throwIfAborted();
    const builtins = o.tools === undefined ? [] : o.builtinTools.filter((t) => o.tools!.permissions.allowed(request.agent, `claude.${t}`));
    if (request.tools.length > 0 && o.mcp?.url === undefined) {
      throw new AgentError(
        ClaudeCliErrorCodes.CLAUDE_CLI_NO_MCP,
        `agent '${request.agent}' is granted Mister Smith tools (${request.tools.map((t) => t.name).join(', ')}) but Claude Code can only reach them through the mcp plugin over HTTP: load "http" and "mcp"`,
        { retryable: false },
      );
    }
    // The token reaches exactly the tools of this request (the agent's grants, as the agents plugin
    // computed them for the run, delegation included) and nothing else, whatever the CLI tries.
    const token = request.tools.length > 0 ? o.mcp!.issueToken(request.agent, { tools: request.tools.map((t) => t.name) }) : undefined;
    const flags = await toolFlags(request.tools, builtins, token).catch(async (error: unknown) => {
      await token?.dispose();
      throw error;
    });
    try {
      const known = request.providerSessionId ?? (request.sessionId !== undefined ? this.#cliSessions.get(request.sessionId) : undefined);
      let resume = known;
      let outcome = yield* this.#attempt(request, streaming, flags.args, resume);
      if (resume !== undefined && outcome.result === undefined && outcome.exit.failure === undefined && /No conversation found|requires a valid session/i.test(outcome.exit.stderr)) {
        // The CLI's session store does not have it (another machine, another HOME): start afresh
        // with the whole conversation, which the journal holds.
        resume = undefined;
        outcome = yield* this.#attempt(request, streaming, flags.args, undefined);
      }
      const response = this.#response(outcome.exit, outcome.result, outcome.firstLine, resume);
      if (request.sessionId !== undefined && response.providerSessionId !== undefined) this.#cliSessions.set(request.sessionId, response.providerSessionId);
      yield { type: 'response', response };
    } finally {
      await flags.dispose();
      await token?.dispose();
    }
  }

  /** One process: yields its text deltas (when streaming) and returns how it ended. */
  async *#attempt(request: ModelRequest, streaming: boolean, toolArgs: readonly string[], resume: string | undefined): AsyncGenerator<ModelStreamChunk, { exit: CliExit; result: CliResult | undefined; firstLine: string | undefined }> {
    const o = this.#o;
    // Checked here, with no wait before the spawn below: stop() cannot miss a process.
    if (this.#stopped) throw new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_STOPPED, 'the claude-cli provider is stopped', { retryable: true });
    const args = [...o.args, '--print', '--output-format', streaming ? 'stream-json' : 'json', ...(streaming ? ['--verbose', '--include-partial-messages'] : []), '--model', request.model, ...toolArgs];
    if (request.instructions !== '') args.push('--append-system-prompt', request.instructions);
    if (o.maxTurns !== undefined) args.push('--max-turns', String(o.maxTurns));
    if (resume !== undefined) args.push('--resume', resume);
    const prompt = renderPrompt(resume !== undefined ? newMessages(request.messages) : request.messages);

    const lines = new LineQueue();
    const child = new CliProcess({
      command: o.command,
      args,
      cwd: o.cwd,
      env: cliEnv(o.env, o.maxRetries, request.traceparent),
      stdin: prompt,
      timeoutMs: o.timeoutMs,
      killGraceMs: o.killGraceMs,
      maxOutputBytes: o.maxOutputBytes,
      signal: request.signal,
      onLine: (line) => lines.push(line),
    });
    this.#live.add(child);
    const exited = child.exited.finally(() => {
      this.#live.delete(child);
      lines.close();
    });
    let result: CliResult | undefined;
    let firstLine: string | undefined;
    let finished = false;
    try {
      for await (const line of lines) {
        firstLine ??= line;
        const value = parseLine(line);
        if (isResult(value)) result = value;
        else if (streaming && value?.type === 'stream_event') {
          const event = value.event as { type?: string; delta?: { type?: string; text?: string } } | undefined;
          // Text of the top-level conversation only (not of a sub-agent the CLI runs).
          if (event?.type === 'content_block_delta' && event.delta?.type === 'text_delta' && typeof event.delta.text === 'string' && value.parent_tool_use_id == null) {
            yield { type: 'text.delta', text: event.delta.text };
          }
        }
      }
      const exit = await exited;
      finished = true;
      return { exit, result, firstLine };
    } finally {
      if (!finished) {
        // The consumer stopped early (or a line handler threw): the process goes too.
        child.terminate(new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_STOPPED, 'the caller stopped reading the stream', { retryable: false }));
        await exited;
      }
    }
  }

  #response(exit: CliExit, result: CliResult | undefined, firstLine: string | undefined, resumed: string | undefined): ModelResponse {
    const o = this.#o;
    // Our own reasons first (deadline, abort, stop, output cap, not found): they explain the exit.
    if (exit.failure !== undefined) throw exit.failure;
    if (result !== undefined) {
      const before = resumed !== undefined ? this.#sessionCost.get(resumed) : undefined;
      const response = toResponse(o.command, result, before);
      if (result.session_id !== undefined && typeof result.total_cost_usd === 'number') this.#sessionCost.set(result.session_id, result.total_cost_usd);
      return response;
    }
    const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
    if (exit.code === 0 && firstLine !== undefined) {
      throw new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_BAD_OUTPUT, `${o.command} printed something that is not its JSON result: ${firstLine.slice(0, 200)}`, { retryable: false });
    }
    throw new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_CRASHED, `${o.command} ${how} without a result: ${(exit.stderr || firstLine || '').slice(0, 500)}`.trim(), {
      retryable: false,
      context: { code: exit.code, signal: exit.signal },
    });
  }
}
