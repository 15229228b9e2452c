import { AsyncSeriesBailHook, AsyncSeriesHook, SyncHook, type Tap } from 'tapable';
import { KernelError, toError, type KernelHooks } from '../sdk/index.js';
import { KernelErrorCodes } from './errors.js';

/** The error a failing tap turns into: it names the hook and the tap (tapable requires a name). */
export function tapFailure(hook: string, tap: string, error: unknown): KernelError {
  const cause = toError(error);
  return new KernelError(KernelErrorCodes.KERNEL_HOOK_TAP_FAILED, `hook '${hook}': tap '${tap}' failed: ${cause.message}`, {
    cause,
    context: { hook, tap },
  });
}

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Wraps every tap so that what it throws (sync, callback or promise style) carries the tap's name.
 * Done with an interceptor once per hook, so taps pay nothing extra on the success path but a closure.
 */
function attributeTapErrors(
  hookName: string,
  hook: { intercept(i: object): void; isUsed(): boolean; taps: readonly unknown[]; interceptors: readonly unknown[] },
): void {
  const interceptor = {
    register(tap: Tap & { type?: string; fn?: AnyFn }) {
      const fn = tap.fn!;
      const name = tap.name;
      if (tap.type === 'promise') {
        tap.fn = (...args: unknown[]) => {
          let result: unknown;
          try {
            result = fn(...args);
          } catch (error) {
            return Promise.reject(tapFailure(hookName, name, error));
          }
          return Promise.resolve(result).catch((error: unknown) => {
            throw tapFailure(hookName, name, error);
          });
        };
      } else if (tap.type === 'async') {
        tap.fn = (...args: unknown[]) => {
          const callback = args.pop() as (error?: unknown, result?: unknown) => void;
          try {
            fn(...args, (error?: unknown, result?: unknown) =>
              callback(error ? tapFailure(hookName, name, error) : error, result),
            );
          } catch (error) {
            callback(tapFailure(hookName, name, error));
          }
        };
      } else {
        tap.fn = (...args: unknown[]) => {
          try {
            return fn(...args);
          } catch (error) {
            throw tapFailure(hookName, name, error);
          }
        };
      }
      return tap;
    },
  };
  hook.intercept(interceptor);
  // tapable counts interceptors as use, which would make `isUsed()` true on every kernel hook even
  // with no taps; ours only wraps taps, so it does not count (tapable stores a copy of it, hence
  // the comparison by its `register` function).
  const ours = interceptor.register;
  hook.isUsed = () => hook.taps.length > 0 || hook.interceptors.some((i) => (i as { register?: unknown }).register !== ours);
}

/** A fresh set of kernel hooks; every kernel has its own. */
export function createKernelHooks(): KernelHooks {
  const hooks: KernelHooks = {
    loaded: new SyncHook(['plugins']),
    beforeStart: new AsyncSeriesHook([]),
    started: new AsyncSeriesHook([]),
    beforeStop: new AsyncSeriesHook(['info']),
    stopped: new AsyncSeriesHook(['info']),
    fault: new AsyncSeriesBailHook(['fault']),
    metricsBackend: new SyncHook(['backend']),
  };
  for (const [name, hook] of Object.entries(hooks)) attributeTapErrors(name, hook as never);
  return hooks;
}
