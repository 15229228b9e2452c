/**
 * A small key-value bucket on a JetStream stream, laid out exactly as NATS KV lays it out
 * (`KV_<bucket>` stream, subjects `$KV.<bucket>.<key>`, one message kept per key), so the `nats kv`
 * tool can read it. Only what this plugin needs: get, put, compare-and-set by revision, delete,
 * list. Revisions are stream sequences, so a CAS update fails when anyone wrote the key since.
 */
import { headers, type NatsConnection as Client } from '@nats-io/transport-node';
import { DiscardPolicy, jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { jetStreamFailed } from './errors.js';

export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** The stream sequence of this write; pass it to `update` to write only if nobody wrote since. */
  readonly revision: number;
  /** A delete marker (the key existed and was deleted at `revision`). */
  readonly deleted: boolean;
}

/** JetStream API error code: "wrong last sequence" (a CAS that lost). */
const WRONG_LAST_SEQUENCE = 10071;
const OPERATION = 'KV-Operation';

export class KvBucket {
  readonly name: string;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;

  private constructor(name: string, js: JetStreamClient, jsm: JetStreamManager) {
    this.name = name;
    this.#stream = `KV_${name}`;
    this.#prefix = `$KV.${name}.`;
    this.#js = js;
    this.#jsm = jsm;
  }

  /** Opens the bucket, creating its stream when missing. */
  static async open(client: Client, name: string, options: { maxAgeMs?: number } = {}): Promise<KvBucket> {
    const jsm = await jetstreamManager(client);
    const stream = `KV_${name}`;
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== 10059) throw jetStreamFailed(`open bucket ${name}`, error);
      try {
        await jsm.streams.add({
          name: stream,
          subjects: [`$KV.${name}.>`],
          max_msgs_per_subject: 1,
          discard: DiscardPolicy.New,
          allow_rollup_hdrs: true,
          deny_delete: true,
          allow_direct: true,
          ...(options.maxAgeMs ? { max_age: options.maxAgeMs * 1_000_000 } : {}),
        });
      } catch (addError) {
        // Another node created it between our info and add: fine.
        if (!(addError instanceof JetStreamApiError) || addError.code !== 10058) throw jetStreamFailed(`create bucket ${name}`, addError);
      }
    }
    return new KvBucket(name, jetstream(client), jsm);
  }

  async get(key: string): Promise<KvEntry | undefined> {
    let msg;
    try {
      msg = await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: this.#prefix + key });
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === 10037) return undefined;
      throw jetStreamFailed(`read ${this.name}/${key}`, error);
    }
    if (msg === null) return undefined;
    const op = msg.header?.get(OPERATION);
    return { key, value: msg.data, revision: msg.seq, deleted: op === 'DEL' || op === 'PURGE' };
  }

  /** Writes unconditionally; resolves to the new revision. */
  async put(key: string, value: Uint8Array | string): Promise<number> {
    const ack = await this.#js.publish(this.#prefix + key, value);
    return ack.seq;
  }

  /**
   * Writes only if the key's last revision is `revision` (0: the key was never written). Resolves
   * to the new revision, or `undefined` when someone else wrote first.
   */
  async update(key: string, value: Uint8Array | string, revision: number): Promise<number | undefined> {
    try {
      const ack = await this.#js.publish(this.#prefix + key, value, { expect: { lastSubjectSequence: revision } });
      return ack.seq;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE) return undefined;
      throw error;
    }
  }

  /** Marks the key deleted (if its revision is still `revision`, when given). */
  async delete(key: string, revision?: number): Promise<boolean> {
    const h = headers();
    h.set(OPERATION, 'DEL');
    try {
      await this.#js.publish(this.#prefix + key, undefined, { headers: h, ...(revision !== undefined ? { expect: { lastSubjectSequence: revision } } : {}) });
      return true;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE) return false;
      throw error;
    }
  }

  /** Every live key (not deleted). */
  async keys(): Promise<string[]> {
    const info = await this.#jsm.streams.info(this.#stream, { subjects_filter: '>' });
    const subjects = Object.keys(info.state.subjects ?? {});
    const out: string[] = [];
    for (const s of subjects) {
      const key = s.slice(this.#prefix.length);
      const entry = await this.get(key);
      if (entry !== undefined && !entry.deleted) out.push(key);
    }
    return out;
  }
}
