import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config.js';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable output; default: when the destination is a TTY. */
  readonly pretty?: boolean | undefined;
  readonly name: string;
  /** File descriptor to write to: 1 (stdout, the default) or 2 (stderr). */
  readonly destination?: 1 | 2;
}

/**
 * The kernel's root logger: JSON lines for machines, one compact line per event on a terminal.
 * pino-pretty runs in-process (not as a worker transport) so that a kernel leaves no thread behind
 * when it stops.
 */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.destination ?? 1;
  const base = { level: options.level, base: { system: options.name }, timestamp: pino.stdTimeFunctions.isoTime };
  const stream = fd === 1 ? process.stdout : process.stderr;
  const tty = stream.isTTY === true;
  if (options.pretty ?? tty) {
    return pino(
      base,
      pretty({
        sync: true,
        destination: fd,
        colorize: tty,
        // One line per event: the fields a person reads go on that line, the rest stays in the
        // JSON form (not a TTY) where tools read it.
        singleLine: true,
        ignore: 'pid,hostname,system,plugin,timeline,err',
        // An error's message (and code) joins the line; its stack stays in the JSON form.
        messageFormat: (log: Record<string, unknown>, messageKey: string) => {
          const plugin = typeof log.plugin === 'string' ? `[${log.plugin}] ` : '';
          const err = log.err as { message?: string; code?: string } | undefined;
          const cause = err?.message !== undefined && !String(log[messageKey] ?? '').includes(err.message) ? ` — ${err.message}${err.code ? ` [${err.code}]` : ''}` : '';
          return `${plugin}${String(log[messageKey] ?? '')}${cause}`;
        },
        translateTime: 'HH:MM:ss.l',
        hideObject: false,
      }),
    );
  }
  return pino(base, pino.destination({ dest: fd, sync: true }));
}
