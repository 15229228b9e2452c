/**
 * A signal that aborts when any of `sources` does, with the first one's reason — what
 * `AbortSignal.any` gives, at a fraction of its cost on the per-run path: Node keeps a weak
 * reference per dependant on a long-lived source (the plugin's stop signal) and each call pays for
 * them (measured 17–32 µs a call, against 4–8 µs for a listener pair). The caller must call
 * `dispose` once the signal is no longer needed, which removes the listeners from the sources.
 */
export function linkSignals(sources: readonly AbortSignal[], controller: AbortController = new AbortController()): { signal: AbortSignal; dispose(): void } {
  for (const s of sources) {
    if (s.aborted) {
      controller.abort(s.reason);
      return { signal: controller.signal, dispose: noop };
    }
  }
  const forward = (event: Event): void => {
    dispose();
    controller.abort((event.target as AbortSignal).reason);
  };
  const dispose = (): void => {
    for (const s of sources) s.removeEventListener('abort', forward);
  };
  for (const s of sources) s.addEventListener('abort', forward);
  return { signal: controller.signal, dispose };
}

function noop(): void {}
