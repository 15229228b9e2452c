/**
 * The delegation chain carried through asynchronous work. When agent A's call reaches agent B
 * through `agentAsTool`, the `ask` runs inside a scope `{ callee: B, chain: [...A's chain, A] }`;
 * a tool call made *as B* from inside that scope is checked against every agent of the chain as
 * well as B. The scope applies only to calls made as the callee, because an actor system that
 * batches deliveries may run other actors' work in the same async context.
 *
 * This is the safety net. The reliable channel is explicit: the message carries the chain, and
 * the actor passes it as `{ delegation: message.delegation }` (see README, "Delegation").
 *
 * The AsyncLocalStorage is created on first use: on Node 20 an active AsyncLocalStorage makes every
 * promise in the process a little slower, so systems without agent-as-tool do not pay for it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Scope {
  readonly callee: string;
  readonly chain: readonly string[];
}

let storage: AsyncLocalStorage<Scope> | undefined;

/** The chain of the scope we run in, if `agentId` is the agent it was opened for. */
export function currentDelegation(agentId: string): readonly string[] | undefined {
  const scope = storage?.getStore();
  return scope !== undefined && scope.callee === agentId ? scope.chain : undefined;
}

/** Runs `fn` with `chain` as the delegation of calls made as `callee`. */
export function runDelegated<T>(callee: string, chain: readonly string[], fn: () => T): T {
  storage ??= new AsyncLocalStorage();
  return storage.run({ callee, chain }, fn);
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
