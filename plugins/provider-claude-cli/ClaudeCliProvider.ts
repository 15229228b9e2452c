/**
 * A provider that runs the Claude Code CLI as a subprocess per model call, as the original system
 * did: `claude --print --output-format json`, the prompt on stdin, one JSON result on stdout.
 * Claude Code runs its own tools inside the subprocess (granted by name with `--allowedTools`), so
 * to Mister Smith each call is a final reply with its usage.
 */
import { spawn } from 'node:child_process';
import { AgentError } from '../../sdk/index.js';
import type { ChatMessage, ModelProvider, ModelRequest, ModelResponse } from '../agents/types.js';
import { abortReason } from '../../sdk/util/index.js';

export interface ClaudeCliProviderOptions {
  readonly name: string;
  /** The executable (`claude`), looked up on PATH. */
  readonly command: string;
  /** Arguments before the ones this provider adds. */
  readonly args: readonly string[];
  /** Claude Code's own tools to allow (`--allowedTools`). */
  readonly allowedTools: readonly string[];
  readonly maxTurns: number | undefined;
  /** Deadline of one call (the seed's 300 s). */
  readonly timeoutMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  readonly killGraceMs: number;
  /** Largest stdout accepted. */
  readonly maxOutputBytes: number;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

interface CliResult {
  type?: string;
  subtype?: string;
  is_error?: boolean;
  result?: string;
  session_id?: string;
  total_cost_usd?: number;
  usage?: { input_tokens?: number; output_tokens?: number };
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

export class ClaudeCliProvider implements ModelProvider {
  readonly name: string;
  readonly #o: ClaudeCliProviderOptions;

  constructor(options: ClaudeCliProviderOptions) {
    this.name = options.name;
    this.#o = options;
  }

  complete(request: ModelRequest): Promise<ModelResponse> {
    const o = this.#o;
    const args = [...o.args, '--print', '--output-format', 'json', '--model', request.model];
    if (request.instructions !== '') args.push('--append-system-prompt', request.instructions);
    if (o.allowedTools.length > 0) args.push('--allowedTools', o.allowedTools.join(','));
    if (o.maxTurns !== undefined) args.push('--max-turns', String(o.maxTurns));
    if (request.signal.aborted) return Promise.reject(abortReason(request.signal));

    return new Promise<ModelResponse>((resolve, reject) => {
      const child = spawn(o.command, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = '';
      let failure: Error | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (error: Error): void => {
        failure ??= error;
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), o.killGraceMs);
      };
      const deadline = setTimeout(
        () => stop(new AgentError('CLAUDE_CLI_TIMEOUT', `${o.command} did not answer within ${o.timeoutMs} ms; it was stopped`, { retryable: true })),
        o.timeoutMs,
      );
      const onAbort = (): void => stop(abortReason(request.signal));
      request.signal.addEventListener('abort', onAbort, { once: true });

      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes > o.maxOutputBytes) stop(new AgentError('CLAUDE_CLI_OUTPUT_TOO_LARGE', `${o.command} wrote more than ${o.maxOutputBytes} bytes`));
        else stdout.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString();
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        failure ??=
          error.code === 'ENOENT'
            ? new AgentError('CLAUDE_CLI_NOT_FOUND', `'${o.command}' was not found on PATH; install Claude Code or set options.command`, { cause: error })
            : new AgentError('CLAUDE_CLI_FAILED', `cannot run ${o.command}: ${error.message}`, { cause: error });
      });
      child.stdin.on('error', () => {
        // The child may exit before reading stdin; its exit status tells what happened.
      });
      child.on('close', (code, signal) => {
        clearTimeout(deadline);
        clearTimeout(killTimer);
        request.signal.removeEventListener('abort', onAbort);
        if (failure !== undefined) return reject(failure);
        const text = Buffer.concat(stdout).toString('utf8').trim();
        if (code !== 0) {
          return reject(new AgentError('CLAUDE_CLI_FAILED', `${o.command} exited with ${signal ?? code}: ${(stderr || text).trim().slice(0, 500)}`, { retryable: true, context: { code, signal } }));
        }
        let result: CliResult;
        try {
          result = JSON.parse(text.slice(text.lastIndexOf('\n{') + 1)) as CliResult;
        } catch {
          return reject(new AgentError('CLAUDE_CLI_BAD_OUTPUT', `${o.command} printed something that is not its JSON result: ${text.slice(0, 200)}`));
        }
        if (result.is_error === true || typeof result.result !== 'string') {
          return reject(new AgentError('CLAUDE_CLI_FAILED', `${o.command} reported an error (${result.subtype ?? 'unknown'}): ${result.result ?? ''}`.trim(), { retryable: true }));
        }
        resolve({ reply: result.result, usage: { inputTokens: result.usage?.input_tokens ?? 0, outputTokens: result.usage?.output_tokens ?? 0 } });
      });
      child.stdin.end(renderPrompt(request.messages));
    });
  }
}
