/**
 * The delegation chain carried through asynchronous work. When agent A's call reaches agent B
 * through `agentAsTool`, the `ask` runs inside a scope holding `[...A's chain, A]`; any tool call B
 * makes from there (if the actor system runs B's `receive` in the sender's async context) is
 * checked against every agent of that chain as well as B.
 *
 * The AsyncLocalStorage is created on first use: on Node 20 an active AsyncLocalStorage makes every
 * promise in the process a little slower, so systems without agent-as-tool do not pay for it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

let storage: AsyncLocalStorage<readonly string[]> | undefined;

/** The chain of the scope we run in, if any. */
export function currentDelegation(): readonly string[] | undefined {
  return storage?.getStore();
}

/** Runs `fn` with `chain` as the ambient delegation chain. */
export function runDelegated<T>(chain: readonly string[], fn: () => T): T {
  storage ??= new AsyncLocalStorage();
  return storage.run(chain, fn);
}

/**
 * Combines the ambient chain with an explicit one. Both usually name the same agents (the explicit
 * one is the message's copy of the ambient one); otherwise every agent of both is kept, because a
 * longer chain can only restrict.
 */
export function mergeChains(ambient: readonly string[], explicit: readonly string[] | undefined): readonly string[] {
  if (explicit === undefined || explicit === ambient) return ambient;
  const [longer, shorter] = explicit.length >= ambient.length ? [explicit, ambient] : [ambient, explicit];
  let extra: string[] | undefined;
  for (const agent of shorter) {
    if (!longer.includes(agent)) (extra ??= []).push(agent);
  }
  return extra === undefined ? longer : [...longer, ...extra];
}
