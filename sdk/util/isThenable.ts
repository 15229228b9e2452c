/**
 * Whether `value` is a thenable: a native promise (the cheap check, which every `async` function's
 * result answers) or any object or function with a `then` method, as the Promises/A+ spec defines it.
 */
export function isThenable<T = unknown>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  if (value instanceof Promise) return true;
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<T>).then === 'function';
}
