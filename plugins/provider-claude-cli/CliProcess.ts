/**
 * One supervised run of the CLI: stdout split into lines as they arrive, a deadline and the
 * caller's signal that end it with SIGTERM and then SIGKILL after a grace period, an output cap.
 * The process leads its own process group and the whole group is signalled, so nothing the CLI
 * started outlives it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { AgentError } from '../../sdk/index.js';
import { abortReason } from '../../sdk/util/index.js';
import { ClaudeCliErrorCodes } from './errors.js';

export interface CliProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: string;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly maxOutputBytes: number;
  readonly signal: AbortSignal;
  /** Each complete stdout line, as it arrives. */
  readonly onLine: (line: string) => void;
}

/** How the process ended. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last part of stderr, for error messages. */
  readonly stderr: string;
  /** Set when the provider ended it (deadline, abort, output cap, stop) or could not start it. */
  readonly failure: Error | undefined;
}

export class CliProcess {
  readonly #o: CliProcessOptions;
  readonly #child: ChildProcess;
  readonly exited: Promise<CliExit>;
  #failure: Error | undefined;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(options: CliProcessOptions) {
    this.#o = options;
    const o = options;
    this.#child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    let bytes = 0;
    let pending = '';
    const deadline = setTimeout(
      () => this.terminate(new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_TIMEOUT, `${o.command} did not finish within ${o.timeoutMs} ms; it was stopped (SIGTERM, then SIGKILL after ${o.killGraceMs} ms)`, { retryable: true, context: { timeoutMs: o.timeoutMs } })),
      o.timeoutMs,
    );
    const onAbort = (): void => this.terminate(abortReason(o.signal));
    o.signal.addEventListener('abort', onAbort, { once: true });

    this.#child.stdout!.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > o.maxOutputBytes) {
        this.terminate(new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_OUTPUT_TOO_LARGE, `${o.command} wrote more than ${o.maxOutputBytes} bytes; it was stopped`));
        return;
      }
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line !== '') o.onLine(line);
      }
    });
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    this.#child.stdin!.on('error', () => {
      // The child may exit before reading stdin; its exit tells what happened.
    });
    this.exited = new Promise<CliExit>((resolve) => {
      this.#child.on('error', (error: NodeJS.ErrnoException) => {
        this.#failure ??=
          error.code === 'ENOENT'
            ? new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_NOT_FOUND, `'${o.command}' was not found; install Claude Code (npm i @anthropic-ai/claude-code) or set the provider's command option`, { cause: error })
            : new AgentError(ClaudeCliErrorCodes.CLAUDE_CLI_CRASHED, `cannot run ${o.command}: ${error.message}`, { cause: error });
      });
      this.#child.on('close', (code, signal) => {
        clearTimeout(deadline);
        clearTimeout(this.#killTimer);
        o.signal.removeEventListener('abort', onAbort);
        // Anything the CLI started in its group goes with it.
        if (this.#child.pid !== undefined) {
          try {
            process.kill(-this.#child.pid, 'SIGKILL');
          } catch {
            // the group is empty: the usual case
          }
        }
        const rest = pending.trim();
        pending = '';
        if (rest !== '') o.onLine(rest);
        resolve({ code, signal, stderr: stderr.trim(), failure: this.#failure });
      });
    });
    this.#child.stdin!.end(o.stdin);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Ends the process (group): SIGTERM now, SIGKILL after the grace period. The first reason wins. */
  terminate(reason: Error): void {
    this.#failure ??= reason;
    if (this.#child.exitCode !== null || this.#child.signalCode !== null || this.#killTimer !== undefined) return;
    this.#signal('SIGTERM');
    this.#killTimer = setTimeout(() => this.#signal('SIGKILL'), this.#o.killGraceMs);
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already; signal the child itself in case it left its group.
      try {
        this.#child.kill(signal);
      } catch {
        // gone
      }
    }
  }
}
