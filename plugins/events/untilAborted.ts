/** The bounded wait the bus uses while stopping. */

/** Without a stop signal, stop waits at most this long for handlers in flight. */
const DEFAULT_STOP_WAIT_MS = 5_000;

/** Waits for `work`, or until `signal` aborts (or, with no signal, 5 s pass); never rejects. */
export async function untilAborted(work: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return;
  let onAbort: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => {
      if (signal === undefined) {
        timer = setTimeout(resolve, DEFAULT_STOP_WAIT_MS);
      } else {
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      }
    }),
  ]);
  if (timer !== undefined) clearTimeout(timer);
  if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
}
