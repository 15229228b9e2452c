/**
 * A run's chunks as an async iterable: `begin` registers a listener (and says how to stop it); the
 * iterable ends after a terminal record, on `end()`, or when the consumer returns early.
 */
import { toError } from '../../sdk/index.js';
import type { RunStreamChunk } from './types.js';

/** Record types that end a run. */
export const TERMINAL = new Set<string>(['agent.run.completed', 'agent.run.failed', 'agent.run.cancelled']);

export function chunkStream(begin: (listener: (chunk: RunStreamChunk) => void, end: () => void) => Promise<(() => void) | undefined>): AsyncIterable<RunStreamChunk> {
  return {
    [Symbol.asyncIterator]: () => {
      const queue: RunStreamChunk[] = [];
      let ended = false;
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      let stop: (() => void) | undefined;
      const poke = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const listener = (chunk: RunStreamChunk): void => {
        if (ended) return;
        queue.push(chunk);
        if (TERMINAL.has(chunk.type)) ended = true;
        poke();
      };
      const end = (): void => {
        ended = true;
        poke();
      };
      const started = begin(listener, end).then(
        (s) => (stop = s),
        (error: unknown) => {
          failure = toError(error);
          poke();
        },
      );
      return {
        next: async (): Promise<IteratorResult<RunStreamChunk>> => {
          await started;
          for (;;) {
            const chunk = queue.shift();
            if (chunk !== undefined) return { value: chunk, done: false };
            if (failure !== undefined) throw failure;
            if (ended) {
              stop?.();
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        return: async (): Promise<IteratorResult<RunStreamChunk>> => {
          ended = true;
          stop?.();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
