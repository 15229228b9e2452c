/** The `resilience` service: the named policies of the plugin options. */
import type { ResilienceOptions } from './options.js';
import { createPolicy } from './createPolicy.js';
import { unknownPolicyError } from './errors.js';
import type { ResiliencePolicy } from './Policy.js';
import type { PolicyObserver, ResilienceService } from './types.js';

export class PolicyRegistry implements ResilienceService {
  readonly #policies = new Map<string, ResiliencePolicy>();

  constructor(options: ResilienceOptions, observer?: PolicyObserver) {
    for (const [name, definition] of Object.entries(options.policies)) {
      this.#policies.set(name, createPolicy({ ...definition, name, ...(observer ? { observer } : {}) }));
    }
  }

  /** The policy named `name`; throws `RESILIENCE_UNKNOWN_POLICY` naming the defined ones. */
  policy(name: string): ResiliencePolicy {
    const policy = this.#policies.get(name);
    if (policy === undefined) throw unknownPolicyError(name, this.names());
    return policy;
  }

  /** Whether the options define `name`. */
  has(name: string): boolean {
    return this.#policies.has(name);
  }

  /** Every defined policy name, in config order. */
  names(): string[] {
    return [...this.#policies.keys()];
  }

  /** Every policy, for metrics and health. */
  all(): IterableIterator<ResiliencePolicy> {
    return this.#policies.values();
  }

  /** Disposes every policy (plugin stop). */
  dispose(): void {
    for (const policy of this.#policies.values()) policy.dispose();
  }
}
