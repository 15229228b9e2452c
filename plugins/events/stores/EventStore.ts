/**
 * What the bus needs from a place that keeps events. Two ship with the plugin (`MemoryStore`,
 * `FileStore`); anything implementing this can be handed to `new EventBus({ store })`.
 */
import type { StoredEvent } from '../types.js';

/**
 * An event on its way into a store. The bus builds it once and the store fills in `id` and
 * `sequence` on this very object, so the object the publisher gets back is the object subscribers
 * see (no copies on the hot path). A local store fills them synchronously inside `append`; a store
 * whose log acknowledges remotely may fill them only when the append's promise resolves (see
 * `EventStore.append`).
 */
export interface PendingEvent {
  id: string;
  sequence: number;
  readonly type: string;
  readonly source: string;
  readonly time: string;
  readonly data: unknown;
  readonly subject?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly traceparent?: string;
}

/**
 * Called for each committed event, in sequence order, before the append's promise resolves. Never
 * called concurrently, never twice for one sequence; with `id` and `sequence` filled in.
 */
export type CommitListener = (event: StoredEvent) => void;

/** What opening a store found and fixed. */
export interface OpenReport {
  readonly firstSequence: number;
  readonly lastSequence: number;
  /** Torn or corrupt records cut off the tail, with where and why. */
  readonly repairs: readonly RepairRecord[];
}

export interface RepairRecord {
  readonly file: string;
  /** Byte offset where the log was cut. */
  readonly offset: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

/** A sequence range to read, with an optional page size. */
export interface ReadRange {
  /** First sequence, inclusive. */
  readonly from: number;
  /** Last sequence, inclusive (default: the last committed). */
  readonly to?: number;
  /** Events per yielded page (default 1024). */
  readonly pageSize?: number;
}

export interface EventStore {
  /** `memory`, `file`, or a custom store's name. */
  readonly kind: string;
  /** The oldest sequence still held (lastSequence + 1 when empty). */
  readonly firstSequence: number;
  /** The last committed sequence (0 when nothing was ever stored). */
  readonly lastSequence: number;
  /** Bytes the store occupies (payload bytes for memory, file bytes for file). */
  readonly bytes: number;

  /** Opens (recovering the tail if needed) and registers the commit listener. */
  open(onCommit: CommitListener): Promise<OpenReport>;
  /**
   * Stores the event. Returns undefined when it was committed synchronously (sequence and id are
   * set and the commit listener has already run), or a promise that resolves once it is durable
   * per the store's policy and rejects (with nothing delivered) when it is not.
   *
   * When `sequence` and `id` are assigned is the store's choice: synchronously inside `append`
   * (memory, file), or — for a store whose log acknowledges asynchronously, e.g. a remote stream —
   * only by the time the promise resolves; until then they hold `0` and `''` and the bus reads
   * neither. Either way the store assigns them on the object it was given, calls the commit
   * listener in sequence order, and keeps `lastSequence` at the highest sequence it has committed.
   * A refusal that is the caller's fault is an `EventError` with its own code (`EVENT_TOO_LARGE`,
   * `EVENT_STORE_READ_ONLY`) and reaches the publisher as is; any other failure becomes
   * `EVENT_STORE_FAILED` and makes the bus unhealthy until an append succeeds.
   */
  append(event: PendingEvent): Promise<void> | undefined;
  /** Pages of committed events in `[from, to]`, in order, reading lazily. */
  read(range: ReadRange): AsyncIterable<readonly StoredEvent[]>;
  /** The event with this id, if still held. */
  get(id: string): Promise<StoredEvent | undefined>;
  /** A durable subscription's acknowledged position (0 when unknown). */
  loadPosition(name: string): number;
  /** Records a durable subscription's position; persisted lazily, and at `close`. */
  savePosition(name: string, sequence: number): void;
  /**
   * Optional: catches up with events another process appended since open (a read-only store over a
   * log that a running writer keeps growing). The bus calls it before each replay.
   */
  refresh?(): Promise<void>;
  /** Checks that the store can take writes; throws when it cannot. */
  checkWritable(): Promise<void>;
  /** Flushes, syncs and releases everything. Idempotent. */
  close(): Promise<void>;
}

/** Options of the `jetstream` store type, as the events plugin validated them. */
export interface JetStreamStoreConfig {
  readonly type: 'jetstream';
  /** Stream name (default `MISTER_SMITH_EVENTS`). */
  readonly stream: string;
  /** Subject prefix (default `ms.events`): events go to `<subjectPrefix>.<type>`. */
  readonly subjectPrefix: string;
  /** Anything else the config gave (storage, retention, timeouts): the factory validates it. */
  readonly [option: string]: unknown;
}

/**
 * What the events plugin needs from the service that builds a remote store: the `nats` plugin's
 * service implements it. Declared here so that the events plugin imports nothing of that plugin.
 */
export interface EventStoreFactory {
  createEventStore(options: JetStreamStoreConfig): EventStore;
}

/** Parses the sequence out of a store-assigned id (`<prefix>-<sequence>`), or NaN. */
export function sequenceOfId(id: string): number {
  const dash = id.lastIndexOf('-');
  if (dash < 0) return Number.NaN;
  const tail = id.slice(dash + 1);
  if (tail.length === 0 || tail.length > 16) return Number.NaN;
  const n = Number(tail);
  return Number.isSafeInteger(n) && n > 0 ? n : Number.NaN;
}

/** A random id prefix for one store instance: 12 hex characters. */
export function newIdPrefix(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
