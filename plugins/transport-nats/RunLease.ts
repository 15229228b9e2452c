/**
 * A node's hold on one distributed run: a KV entry `<runId>` → `{ node, expiresAt }`, taken with
 * compare-and-set and renewed (CAS on the revision it last wrote) while the run goes on. Whoever
 * finds the entry expired may take it over; a holder whose renewal loses the CAS has been taken
 * over and must stop at once (the fence that keeps one run on one node).
 */
import type { KvBucket } from './KvBucket.js';

export interface LeaseValue {
  readonly node: string;
  /** Epoch ms after which another node may take the run. */
  readonly expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type Acquired = { readonly held: true; readonly lease: RunLease } | { readonly held: false; readonly holder: string; readonly retryInMs: number };

export class RunLease {
  readonly runId: string;
  readonly #bucket: KvBucket;
  readonly #node: string;
  readonly #ttlMs: number;
  #revision: number;

  private constructor(bucket: KvBucket, runId: string, node: string, ttlMs: number, revision: number) {
    this.#bucket = bucket;
    this.runId = runId;
    this.#node = node;
    this.#ttlMs = ttlMs;
    this.#revision = revision;
  }

  /** Takes the lease if nobody holds it, or if its holder let it expire. */
  static async acquire(bucket: KvBucket, runId: string, node: string, ttlMs: number, now = Date.now()): Promise<Acquired> {
    const key = keyOf(runId);
    const current = await bucket.get(key);
    let expected = 0;
    if (current !== undefined) {
      expected = current.revision;
      if (!current.deleted) {
        const value = parse(current.value);
        if (value !== undefined && value.node !== node && value.expiresAt > now) {
          return { held: false, holder: value.node, retryInMs: value.expiresAt - now };
        }
      }
    }
    const revision = await bucket.update(key, encode({ node, expiresAt: now + ttlMs }), expected);
    if (revision === undefined) {
      // Someone else wrote between our read and write: they hold it now.
      const now2 = await bucket.get(key);
      const v = now2 === undefined ? undefined : parse(now2.value);
      return { held: false, holder: v?.node ?? 'unknown', retryInMs: Math.max(1, (v?.expiresAt ?? now + ttlMs) - Date.now()) };
    }
    return { held: true, lease: new RunLease(bucket, runId, node, ttlMs, revision) };
  }

  /** Extends the lease; false when another node took it over (the caller must stop the run). */
  async renew(): Promise<boolean> {
    const revision = await this.#bucket.update(keyOf(this.runId), encode({ node: this.#node, expiresAt: Date.now() + this.#ttlMs }), this.#revision);
    if (revision === undefined) return false;
    this.#revision = revision;
    return true;
  }

  /** Gives the lease up (only if still ours). */
  async release(): Promise<void> {
    await this.#bucket.delete(keyOf(this.runId), this.#revision);
  }
}

/** Run ids are free text; KV keys are not: escape what a key may not hold. */
function keyOf(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_-]/g, (c) => `=${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function encode(v: LeaseValue): Uint8Array {
  return encoder.encode(JSON.stringify(v));
}

function parse(data: Uint8Array): LeaseValue | undefined {
  try {
    const v = JSON.parse(decoder.decode(data)) as LeaseValue;
    return typeof v.node === 'string' && typeof v.expiresAt === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
