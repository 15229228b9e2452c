/**
 * What the CLI does for the kernels it runs that a library cannot do for itself: signals, faults
 * nobody caught, and a plugin calling `process.exit()`.
 */
import { KernelError, MisterSmithError } from '../../sdk/index.js';
import type { Kernel } from '../Kernel.js';
import { EXIT, printError, type Io } from './io.js';
import { KernelErrorCodes } from '../errors.js';

const PROCESS_EXIT = KernelErrorCodes.KERNEL_PROCESS_EXIT;

/**
 * Installed for the length of one CLI command.
 * - First SIGINT/SIGTERM: aborts `signal` and stops every attached kernel gracefully; a second one
 *   forces exit 1.
 * - An unhandled rejection or uncaught exception becomes a fault of the newest attached kernel.
 * - `process.exit()` called while the guard is installed (a plugin, or a library it uses) does not
 *   kill the process on the spot, which would skip every stop handler and lose unflushed work: it
 *   throws `KERNEL_PROCESS_EXIT` at the caller (so the code after the call does not run either),
 *   reports a critical fault (the kernel stops gracefully, in reverse order) and the CLI exits with
 *   the code asked for, or 1 if that was 0: an exit from inside a running system is a failure.
 */
export class ProcessGuard {
  readonly #io: Io;
  readonly #kernels: Kernel[] = [];
  readonly #abort = new AbortController();
  readonly #realExit = process.exit;
  #signals = 0;
  #exitRequested: number | undefined;
  #installed = false;

  constructor(io: Io) {
    this.#io = io;
  }

  /** Aborted on the first SIGINT/SIGTERM. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The exit code a `process.exit()` call asked for (0 made 1), or undefined if none was made. */
  get exitRequested(): number | undefined {
    return this.#exitRequested === undefined ? undefined : this.#exitRequested === 0 ? EXIT.failure : this.#exitRequested;
  }

  install(): void {
    if (this.#installed) return;
    this.#installed = true;
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
    process.on('unhandledRejection', this.#onRejection);
    process.on('uncaughtException', this.#onException);
    process.on('exit', this.#onExit);
    process.exit = this.#interceptExit;
  }

  dispose(): void {
    if (!this.#installed) return;
    this.#installed = false;
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
    process.off('unhandledRejection', this.#onRejection);
    process.off('uncaughtException', this.#onException);
    process.off('exit', this.#onExit);
    if (process.exit === this.#interceptExit) process.exit = this.#realExit;
  }

  /** Routes signals and faults to `kernel` until it is detached. */
  attach(kernel: Kernel): void {
    this.#kernels.push(kernel);
  }

  detach(kernel: Kernel): void {
    const i = this.#kernels.indexOf(kernel);
    if (i !== -1) this.#kernels.splice(i, 1);
  }

  /** Exits now, bypassing the interception (the CLI's own forced exit). */
  exitNow(code: number): never {
    return this.#realExit.call(process, code);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#signals++;
    if (this.#signals > 1) {
      for (const kernel of this.#kernels) {
        kernel.logger.fatal({ signal }, 'second signal: forcing exit');
        kernel.logger.flush();
      }
      if (this.#kernels.length === 0) this.#io.stderr.write('second signal: forcing exit\n');
      this.exitNow(EXIT.failure);
    }
    this.#abort.abort(new KernelError(KernelErrorCodes.KERNEL_STOPPING, `signal ${signal}`));
    for (const kernel of this.#kernels) {
      kernel.logger.info({ signal }, 'signal received: stopping gracefully (send it again to force exit)');
      void kernel.stop(`signal ${signal}`);
    }
  };

  readonly #onRejection = (reason: unknown): void => {
    this.#fault(reason, 'unhandledRejection', 'medium');
  };

  readonly #onException = (error: Error): void => {
    this.#fault(error, 'uncaughtException', 'critical');
  };

  #fault(error: unknown, event: string, severity: 'medium' | 'critical'): void {
    // The error our own process.exit interception threw, surfacing again from a callback: it was
    // reported when it was thrown.
    if (error instanceof MisterSmithError && error.code === PROCESS_EXIT) return;
    const kernel = this.#kernels.at(-1);
    if (kernel === undefined) {
      printError(this.#io, error);
      if (severity === 'critical') this.exitNow(EXIT.failure);
      return;
    }
    void kernel.reportFault({ error, source: 'process', severity, context: { event } });
  }

  readonly #interceptExit = (code?: number | string | null): never => {
    const requested = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
    this.#exitRequested ??= Number.isInteger(requested) ? requested : EXIT.failure;
    const error = new KernelError(
      PROCESS_EXIT,
      `process.exit(${code ?? ''}) was called inside a running Mister Smith system; the kernel stops gracefully instead (a plugin should throw, or call ctx.reportFault)`,
      { severity: 'critical', context: { code: code ?? null } },
    );
    const kernel = this.#kernels.at(-1);
    if (kernel === undefined) {
      this.#io.stderr.write(`${error.message}\n${error.stack ?? ''}\n`);
    } else {
      void kernel.reportFault({ error, source: 'process', severity: 'critical', context: { event: 'process.exit', code: code ?? null } });
    }
    throw error;
  };

  readonly #onExit = (code: number): void => {
    // Something bypassed the interception (process.reallyExit, a native abort): say so, since the
    // stop handlers of whatever was running did not run.
    for (const kernel of this.#kernels) {
      if (kernel.state === 'running' || kernel.state === 'starting' || kernel.state === 'stopping') {
        this.#io.stderr.write(`process exiting with code ${code} while the kernel is ${kernel.state}: stop handlers did not all run\n`);
      }
    }
  };
}
