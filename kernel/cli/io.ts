/** Where the CLI writes, and how it prints errors. The CLI is the only part that prints directly. */
import { MisterSmithError } from '../../sdk/index.js';

/** Exit codes of `mister-smith`: 0 clean stop, 1 failure, 2 bad usage or bad config. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}

/** Prints an error with its code and causes; a non-framework error keeps its stack. */
export function printError(io: Io, error: unknown): void {
  if (error instanceof MisterSmithError) {
    println(io.stderr, `error ${error.code}: ${error.message}`);
    let cause = error.cause;
    while (cause instanceof Error) {
      println(io.stderr, `  caused by: ${cause.message}`);
      cause = cause.cause;
    }
  } else {
    println(io.stderr, `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
