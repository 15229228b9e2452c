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
 * Cost: on Node 20 an enabled AsyncLocalStorage installs promise hooks that make *every* promise in
 * the process ~2.5× slower (52 → 142 ns per await, measured). So the storage is enabled only while
 * an agent-as-tool call is in flight and disabled when the last one settles (an enable/disable
 * cycle costs ~8 µs, nothing next to an agent's work); systems without agent-as-tool never pay.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Scope {
  readonly callee: string;
  readonly chain: readonly string[];
}

let storage: AsyncLocalStorage<Scope> | undefined;
/** Delegated scopes in flight; the storage is disabled when this drops to 0. */
let active = 0;

function release(): void {
  if (--active === 0) storage?.disable();
}

/** The chain of the scope we run in, if `agentId` is the agent it was opened for. */
export function currentDelegation(agentId: string): readonly string[] | undefined {
  const scope = storage?.getStore();
  return scope !== undefined && scope.callee === agentId ? scope.chain : undefined;
}

/** Runs `fn` with `chain` as the delegation of calls made as `callee`, until its promise settles. */
export function runDelegated<T>(callee: string, chain: readonly string[], fn: () => Promise<T>): Promise<T> {
  storage ??= new AsyncLocalStorage();
  active++;
  let result: Promise<T>;
  try {
    result = storage.run({ callee, chain }, fn);
  } catch (error) {
    release();
    throw error;
  }
  return result.finally(release);
}

/** Whether a delegated scope is open (the storage's promise hooks are on). */
export function delegationActive(): boolean {
  return active > 0;
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
