import type { Io } from '../io.js';
import type { ProcessGuard } from '../ProcessGuard.js';

/** An option of a built-in command, as `node:util.parseArgs` takes it. */
export interface CliOption {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: readonly string[];
}

/** A built-in `mister-smith` command. `--help` and `--config <file>` are added to every one. */
export interface CliCommand {
  readonly name: string;
  /** One line for `mister-smith help`. */
  readonly summary: string;
  /** Its arguments: `start [config] [--once]`. */
  readonly usage: string;
  /** More lines for `mister-smith <command> --help`. */
  readonly details?: readonly string[];
  readonly options: Readonly<Record<string, CliOption>>;
  readonly maxPositionals: number;
  run(args: ParsedArgs, io: Io, guard: ProcessGuard): Promise<number>;
}
