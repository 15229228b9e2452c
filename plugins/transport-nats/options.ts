/**
 * The plugin's options (zod v4, strict: an unknown key is an error, so a typo in an auth or TLS
 * option never silently connects without it). Every field has a default, so `{}` validates and
 * connects to `nats://127.0.0.1:4222`.
 */
import { z } from '../../sdk/index.js';

/** A subject token: what may sit between two dots of a NATS subject. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;

const backoff = z
  .strictObject({
    initialMs: z.number().int().min(0).default(250),
    factor: z.number().min(1).default(2),
    maxMs: z.number().int().min(0).default(5_000),
    jitter: z.number().min(0).max(1).default(0.2),
  })
  .prefault({});

/**
 * A server URL. Credentials in it (`nats://user:pass@host`) are refused: the client ignores them
 * (the connection would fail with a puzzling "Authorization Violation") and the URL shows in errors
 * and logs, so the secret would too. They belong in `auth`. The message never repeats the URL.
 */
const serverUrl = z
  .string()
  .min(1)
  .refine((url) => !url.includes('@'), "must not carry credentials (user:pass@ or token@): put them in 'auth'");

export const natsOptions = z.strictObject({
  /** One URL or several (`nats://host:4222`, `tls://…`); the client picks among them and fails over. */
  servers: z.union([serverUrl, z.array(serverUrl).min(1)]).default('nats://127.0.0.1:4222').describe('NATS server URL(s); the client fails over between them'),
  /** The connection's name as the server shows it (`connz`); default `mister-smith-<system>`. */
  name: z.string().min(1).optional().describe('connection name shown by the server (default mister-smith-<system>)'),
  /**
   * The system this node belongs to: one token of every subject the plugin uses
   * (`ms.<system>.events.<type>`, `ms.v1.<system>.actor.<name>`), so that systems sharing one
   * NATS server never see each other's traffic.
   */
  system: z.string().regex(SUBJECT_TOKEN, 'must be one subject token: letters, digits, _ or -').default('default').describe('subject token of everything this plugin sends; one per system'),
  /** At most one way to authenticate. Paths resolve against the config file's folder. */
  auth: z
    .union([
      z.strictObject({ token: z.string().min(1) }),
      z.strictObject({ user: z.string().min(1), pass: z.string() }),
      /** An NKey seed (`SU…`), inline or in a file. */
      z.strictObject({ nkeySeed: z.string().startsWith('SU') }),
      z.strictObject({ nkeySeedFile: z.string().min(1) }),
      /** A `.creds` file (JWT + NKey seed), as `nsc` writes it. */
      z.strictObject({ credentialsFile: z.string().min(1) }),
    ])
    .optional(),
  /** TLS: present means required. Paths resolve against the config file's folder. */
  tls: z
    .strictObject({
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      /** TLS before the NATS INFO (servers configured with `handshake_first`). */
      handshakeFirst: z.boolean().default(false),
    })
    .optional(),
  /** How long the first connection may take before start fails. */
  connectTimeoutMs: z.number().int().positive().default(5_000).describe('the first connection; start fails past it'),
  reconnect: z
    .strictObject({
      /** Attempts per server before the connection closes for good; -1: forever. */
      maxAttempts: z.number().int().min(-1).default(-1),
      /** Delay between attempts: exponential with jitter. */
      backoff,
    })
    .prefault({}),
  /** Upper bound of the drain on stop (the kernel's stop deadline bounds it too). */
  drainTimeoutMs: z.number().int().positive().default(5_000).describe('cap of the drain at stop'),
  /** Default deadline of a remote ask / tool call. */
  requestTimeoutMs: z.number().int().positive().default(5_000).describe('default timeout of a remote ask'),
  /** Local event type patterns mirrored to the other nodes from start (same as calling `nats.bridge`). */
  bridge: z.array(z.string().min(1)).default([]).describe('event type patterns mirrored between nodes from start'),
  /** Tool name patterns this node serves to the other nodes from start (same as `nats.exposeTools`). */
  exposeTools: z.array(z.string().min(1)).default([]).describe('tool patterns served to other nodes from start'),
  /**
   * Tool name patterns of other nodes' tools registered here as proxies at start (same as
   * `nats.importTools`); `[]`: none.
   */
  importTools: z.array(z.string().min(1)).default([]).describe("tool patterns of other nodes' tools registered here at start"),
  /** Deadline of a remote tool call (the proxy tool's `timeoutMs`). */
  toolTimeoutMs: z.number().int().positive().default(30_000).describe('deadline of a remote tool call'),
  /** How long tool discovery waits for more nodes once answers stop coming. */
  discoveryStallMs: z.number().int().positive().default(250).describe('tool discovery ends once answers stall this long'),
  /** Register the connection check with the health plugin when it is loaded. */
  healthCheck: z.boolean().default(true).describe('register the nats health check'),
  /** Distributed agent runs (used when the agents plugin runs with `distributed: true`). */
  runs: z
    .strictObject({
      /**
       * Serve as a run scheduler when the agents plugin is loaded: agents with `distributed: true`
       * queue their runs here, and this node pulls the runs of the agents it defines.
       */
      enabled: z.boolean().default(true).describe('act as the agents run scheduler when agents is loaded'),
      /** Take runs from the queue (false: only queue them, e.g. on a gateway node that runs nothing). */
      pull: z.boolean().default(true).describe('take runs from the queue (false: only queue them)'),
      /** The work-queue stream of run tickets. */
      stream: z.string().regex(SUBJECT_TOKEN).default('MISTER_SMITH_RUNS'),
      /** The KV-style bucket of run leases. */
      leaseBucket: z.string().regex(SUBJECT_TOKEN).default('MISTER_SMITH_LEASES'),
      /** A lease not renewed for this long is taken over by another node. */
      leaseTtlMs: z.number().int().min(100).default(15_000).describe('a lease not renewed this long is taken over'),
    })
    .prefault({}),
});

export type NatsOptions = z.output<typeof natsOptions>;
export type NatsOptionsInput = z.input<typeof natsOptions>;

/** The `{ type: 'jetstream' }` store options the events plugin hands to `nats.createEventStore`. */
export const jetStreamStoreOptions = z.strictObject({
  type: z.literal('jetstream').optional(),
  /** The stream holding the log; nodes naming the same stream share one log. */
  stream: z.string().regex(SUBJECT_TOKEN, 'must be a stream name: letters, digits, _ or -').default('MISTER_SMITH_EVENTS'),
  /** Events are stored on `<subjectPrefix>.<type>`. */
  subjectPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated subject tokens').default('ms.events'),
  /** `file` (default, survives a server restart) or `memory`. */
  storage: z.enum(['file', 'memory']).default('file'),
  /** Retention: the stream drops its oldest events beyond these (0: unlimited). */
  maxMessages: z.number().int().min(0).default(0),
  maxBytes: z.number().int().min(0).default(0),
  maxAgeMs: z.number().int().min(0).default(0),
  /** Window in which a re-sent event (same id) is recognised as a duplicate. */
  duplicateWindowMs: z.number().int().positive().default(120_000),
  /** How long an append waits for the server's acknowledgement. */
  ackTimeoutMs: z.number().int().positive().default(5_000),
  /** Durable subscription positions are kept in this KV-style bucket (`KV_<name>` stream). */
  positionsBucket: z.string().regex(SUBJECT_TOKEN).optional(),
});

export type JetStreamStoreOptions = z.output<typeof jetStreamStoreOptions>;
export type JetStreamStoreOptionsInput = z.input<typeof jetStreamStoreOptions>;
