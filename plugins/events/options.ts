/**
 * The plugin's options (zod v4). Every field has a default, so `{}` validates: a memory store of
 * 100 000 events. The `store` shape is part of the plugin's public contract.
 */
import { z } from '../../sdk/index.js';

const backoff = z
  .object({
    initialMs: z.number().int().min(0).default(100),
    factor: z.number().min(1).default(2),
    maxMs: z.number().int().min(0).default(30_000),
    jitter: z.number().min(0).max(1).default(0.1),
  })
  .prefault({});

export const memoryStoreOptions = z.object({
  type: z.literal('memory'),
  /** Events the ring keeps; older ones are evicted. */
  capacity: z.number().int().positive().default(100_000),
});

export const fileStoreOptions = z.object({
  type: z.literal('file'),
  /** Directory of the segment files, relative to the config file. */
  dir: z.string().min(1).default('.mister-smith/events'),
  /** `always`: one fsync per event; `batch`: group commit, one fsync per batch; `never`: leave it to the OS. */
  fsync: z.enum(['always', 'batch', 'never']).default('batch'),
  /** A segment rolls over once it reaches this size. */
  segmentBytes: z.number().int().min(4096).default(64 * 1024 * 1024),
  /** Cap on the bytes of one group-commit batch (one write + one fsync). */
  maxBatchBytes: z.number().int().min(4096).default(4 * 1024 * 1024),
  /** How long a `batch` commit may wait for more appends before writing (the extra latency bound). */
  batchDelayMs: z.number().min(0).max(5).default(0),
  /** An event encoding to more bytes than this is refused at publish with `EVENT_TOO_LARGE`. */
  maxEventBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  /**
   * Damage that cutting a torn tail cannot fix (corruption with valid records after it, a missing
   * or short sealed segment): `fail` refuses to start (`EVENT_STORE_CORRUPT`), `quarantine` moves
   * the segment to `<dir>/quarantine/` and goes on without its events.
   */
  onCorruption: z.enum(['fail', 'quarantine']).default('fail'),
  /** Open the log without the lock, repair nothing, never write (publish fails with `EVENT_STORE_READ_ONLY`). */
  readOnly: z.boolean().default(false),
  /** Whole segments older than `maxAgeMs` or beyond `maxBytes` (oldest first) are deleted at rollover. */
  retention: z
    .object({
      maxAgeMs: z.number().int().positive().optional(),
      maxBytes: z.number().int().positive().optional(),
    })
    .prefault({}),
});

/**
 * A JetStream stream as the log; the `nats` plugin builds the store (see EventStoreFactory). Fields
 * beyond these two (storage, retention, timeouts) pass through to the nats plugin, which validates them.
 */
export const jetstreamStoreOptions = z.looseObject({
  type: z.literal('jetstream'),
  /** The stream holding the events. */
  stream: z.string().min(1).default('MISTER_SMITH_EVENTS'),
  /** Events go to subjects `<subjectPrefix>.<type>`. */
  subjectPrefix: z.string().min(1).default('ms.events'),
});

export const eventsOptions = z.object({
  store: z.discriminatedUnion('type', [memoryStoreOptions, fileStoreOptions, jetstreamStoreOptions]).prefault({ type: 'memory' }),
  subscriber: z
    .object({
      /** Bound of each subscriber's queue. */
      queueCapacity: z.number().int().positive().default(10_000),
      /** What a live subscriber's full queue does; durable subscribers never drop. */
      overflow: z.enum(['drop-oldest', 'drop-newest']).default('drop-oldest'),
    })
    .prefault({}),
  durable: z
    .object({
      /** Deliveries of one event before it is dead-lettered. */
      maxDeliver: z.number().int().positive().default(5),
      /** Delays between redeliveries. */
      backoff,
      /** A handler still running after this long counts as a failed delivery. */
      ackTimeoutMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  request: z.object({ timeoutMs: z.number().int().positive().default(5_000) }).prefault({}),
  health: z
    .object({
      /** A durable subscription further behind than this makes the check `degraded`. */
      maxLag: z.number().int().positive().default(10_000),
    })
    .prefault({}),
});

export type EventsOptions = z.output<typeof eventsOptions>;
export type EventsOptionsInput = z.input<typeof eventsOptions>;
export type JetStreamStoreOptions = z.output<typeof jetstreamStoreOptions>;
