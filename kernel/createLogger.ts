import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config.js';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable output; default: when stdout is a TTY. */
  readonly pretty?: boolean | undefined;
  readonly name: string;
}

/**
 * The kernel's root logger: JSON lines for machines, pretty lines on a terminal. pino-pretty runs
 * in-process (not as a worker transport) so that a kernel leaves no thread behind when it stops.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { system: options.name }, timestamp: pino.stdTimeFunctions.isoTime };
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  if (usePretty) {
    return pino(base, pretty({ sync: true, colorize: process.stdout.isTTY === true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }));
  }
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
