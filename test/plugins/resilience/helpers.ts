/** Small helpers shared by the resilience tests. */
import { setImmediate as immediate } from 'node:timers/promises';

/** Lets pending promise callbacks run (setImmediate is not faked by the tests' mock timers). */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await immediate();
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Records the outcome of a promise without letting a rejection go unhandled. */
export function settle<T>(promise: Promise<T>): { readonly done: boolean; readonly value?: T; readonly error?: unknown } {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}
