/**
 * One NATS connection per kernel: opened at start from the options, watched (reconnects, slow
 * consumers, errors) for health and metrics, and drained at stop within the stop deadline.
 */
import { readFile } from 'node:fs/promises';
import { isIP, type Socket } from 'node:net';
import path from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  nkeys,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type NatsConnection as Client,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Logger, Metrics } from '../../sdk/index.js';
import { backoffDelay, drainBudget, withDeadline } from '../../sdk/util/index.js';
import type { HealthCheck } from '../health/types.js';
import { connectFailed, connectionClosed, hasCode, NatsErrorCodes, payloadTooLarge } from './errors.js';
import type { NatsOptions } from './options.js';

/** What the connection has seen, for health, metrics and `nats.stats()`. */
export interface ConnectionStats {
  /** `connecting`, `connected`, `reconnecting`, `draining` or `closed`. */
  readonly state: ConnectionState;
  /** The server URL currently connected to (empty when not connected). */
  readonly server: string;
  readonly reconnects: number;
  readonly disconnects: number;
  /** Slow-consumer notices: a subscription whose pending messages passed the client's limit. */
  readonly slowConsumers: number;
  /** Bytes published but not yet written to the socket (the client's outbound buffer). */
  readonly pendingBytes: number;
  /** Async errors the server reported (permissions, …). */
  readonly serverErrors: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** The server's `max_payload` (bytes). */
  readonly maxPayload: number;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'draining' | 'closed';

export class NatsConnection {
  readonly #options: NatsOptions;
  readonly #configDir: string;
  readonly #logger: Logger;
  #client: Client | undefined;
  #state: ConnectionState = 'idle';
  #server = '';
  #reconnects = 0;
  #disconnects = 0;
  #slowConsumers = 0;
  #serverErrors = 0;
  #attempt = 0;
  #connecting: Promise<Client> | undefined;
  #statusLoop: Promise<void> | undefined;
  readonly #beforeClose: Array<(signal: AbortSignal) => Promise<void>> = [];

  constructor(options: NatsOptions, configDir: string, logger: Logger, metrics?: Metrics) {
    this.#options = options;
    this.#configDir = configDir;
    this.#logger = logger;
    if (metrics !== undefined) this.#defineMetrics(metrics);
  }

  /** The servers the options name, as a list. */
  get servers(): readonly string[] {
    const s = this.#options.servers;
    return typeof s === 'string' ? [s] : s;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The open client; throws NATS_CLOSED before start or after stop. */
  get client(): Client {
    const c = this.#client;
    if (c === undefined || c.isClosed() || c.isDraining()) throw connectionClosed('use NATS');
    return c;
  }

  /** The server's max_payload, or 1 MiB (the server default) before the first connection. */
  get maxPayload(): number {
    return this.#client?.info?.max_payload ?? 1024 * 1024;
  }

  /** Throws NATS_PAYLOAD_TOO_LARGE when `bytes` cannot go to the server in one message. */
  checkPayload(subject: string, bytes: number): void {
    // Headers and the subject also count against max_payload; keep a little room for them.
    const max = this.maxPayload;
    if (bytes > max - 512) throw payloadTooLarge(subject, bytes, max);
  }

  /** Resolves to the client once connected (connecting on the first call). */
  ready(): Promise<Client> {
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect();
    return this.#connecting;
  }

  /** Registers work to finish before the connection drains at stop (subscriptions, stores). */
  beforeClose(fn: (signal: AbortSignal) => Promise<void>): void {
    this.#beforeClose.push(fn);
  }

  async #connect(): Promise<Client> {
    this.#state = 'connecting';
    let opts: NodeConnectionOptions;
    let client: Client;
    try {
      // Inside the try: a bad seed or file fails here, and must leave the state closed too.
      opts = await this.#clientOptions();
      client = await connect(opts);
    } catch (error) {
      throw this.#failed(error);
    }
    // The first connection was made without reconnects (see #clientOptions); from now on outages are
    // retried. The client reads the flag only when a connection drops, from this same object.
    const live = (client as unknown as { options?: { reconnect?: unknown } }).options;
    if (live !== undefined && typeof live.reconnect === 'boolean') live.reconnect = true;
    else {
      // A client whose internals moved: connect again the plain way, so reconnects are never lost.
      await client.close().catch(() => undefined);
      try {
        client = await connect({ ...opts, reconnect: true });
      } catch (error) {
        throw this.#failed(error);
      }
    }
    this.#client = client;
    this.#state = 'connected';
    this.#server = client.getServer();
    this.#statusLoop = this.#watch(client);
    void client.closed().then((err) => {
      this.#state = 'closed';
      this.#server = '';
      if (err) this.#logger.error({ err }, `NATS connection closed: ${err.message}`);
    });
    this.#logger.info({ server: this.#server, name: opts.name, maxPayload: client.info?.max_payload }, `connected to NATS at ${this.#server}`);
    return client;
  }

  /** Start failed: the state is closed and a later `ready()` tries again. */
  #failed(error: unknown): Error {
    this.#state = 'closed';
    this.#connecting = undefined;
    return hasCode(error, NatsErrorCodes.NATS_CONNECT_FAILED) ? error : connectFailed(this.servers, error);
  }

  async #clientOptions(): Promise<NodeConnectionOptions> {
    const o = this.#options;
    const b = o.reconnect.backoff;
    const opts: NodeConnectionOptions = {
      servers: [...this.servers],
      name: o.name ?? `mister-smith-${o.system}`,
      timeout: o.connectTimeoutMs,
      // Off for the first connection only (#connect switches it on): with it on, nats.js (3.4) does not
      // notice a server that closes the socket during the first handshake (mutual TLS without an
      // accepted client certificate, …) and waits out the whole timeout, then reports just "timeout".
      // With it off the connect fails at once, with the reason.
      reconnect: false,
      maxReconnectAttempts: o.reconnect.maxAttempts,
      // The client asks before each attempt; the status loop resets the count on a reconnect.
      reconnectDelayHandler: () => backoffDelay(b, this.#attempt++),
      // The first connection fails fast (start reports it); later outages are retried.
      waitOnFirstConnect: false,
    };
    const auth = await this.#authenticator();
    if (auth !== undefined) opts.authenticator = auth;
    if (o.tls !== undefined) {
      const t = o.tls;
      const tls: NonNullable<NodeConnectionOptions['tls']> & { checkServerIdentity: typeof serverIdentity } = {
        ...(t.caFile !== undefined ? { caFile: this.#path(t.caFile) } : {}),
        ...(t.certFile !== undefined ? { certFile: this.#path(t.certFile) } : {}),
        ...(t.keyFile !== undefined ? { keyFile: this.#path(t.keyFile) } : {}),
        ...(t.handshakeFirst ? { handshakeFirst: true } : {}),
        // nats.js hands these options on to tls.connect.
        checkServerIdentity: serverIdentity,
      };
      opts.tls = tls;
    }
    return opts;
  }

  async #authenticator(): Promise<Authenticator | undefined> {
    const a = this.#options.auth;
    if (a === undefined) return undefined;
    if ('token' in a) return tokenAuthenticator(a.token);
    if ('user' in a) return usernamePasswordAuthenticator(a.user, a.pass);
    if ('nkeySeed' in a) return nkeyAuthenticator(this.#seed(a.nkeySeed, 'auth.nkeySeed'));
    if ('nkeySeedFile' in a) return nkeyAuthenticator(this.#seed((await this.#read(a.nkeySeedFile, 'auth.nkeySeedFile')).trim(), `auth.nkeySeedFile (${this.#path(a.nkeySeedFile)})`));
    const creds = credsAuthenticator(new TextEncoder().encode(await this.#read(a.credentialsFile, 'auth.credentialsFile')));
    try {
      // Parsing happens on each call: once now, so a bad file fails start naming the option.
      creds('');
    } catch (error) {
      throw connectFailed(this.servers, new Error(`auth.credentialsFile (${this.#path(a.credentialsFile)}): not a valid credentials file (${(error as Error).message})`));
    }
    return creds;
  }

  /**
   * The seed's bytes once it decodes as a user NKey seed: a bad one fails start naming the option
   * (never echoing its value) instead of failing inside the client's handshake.
   */
  #seed(seed: string, option: string): Uint8Array {
    const bytes = new TextEncoder().encode(seed);
    try {
      // A user's public key starts with U (an account's with A, …).
      if (!nkeys.fromSeed(bytes).getPublicKey().startsWith('U')) throw new Error('not a user seed (SU…)');
    } catch (error) {
      throw connectFailed(this.servers, new Error(`${option}: not a valid user NKey seed (${(error as Error).message})`));
    }
    return bytes;
  }

  async #read(file: string, option: string): Promise<string> {
    const full = this.#path(file);
    try {
      return await readFile(full, 'utf8');
    } catch (error) {
      throw connectFailed(this.servers, new Error(`${option}: cannot read ${full}: ${(error as Error).message}`));
    }
  }

  #path(file: string): string {
    return path.resolve(this.#configDir, file);
  }

  async #watch(client: Client): Promise<void> {
    for await (const s of client.status()) {
      switch (s.type) {
        case 'disconnect':
          this.#disconnects++;
          if (this.#state === 'connected') this.#state = 'reconnecting';
          this.#logger.warn({ server: s.server }, `NATS disconnected from ${s.server}; reconnecting`);
          break;
        case 'reconnecting':
          if (this.#state === 'connected') this.#state = 'reconnecting';
          break;
        case 'reconnect':
          this.#reconnects++;
          this.#attempt = 0;
          this.#state = 'connected';
          this.#server = s.server;
          this.#logger.info({ server: s.server, reconnects: this.#reconnects }, `NATS reconnected to ${s.server}`);
          break;
        case 'slowConsumer':
          this.#slowConsumers++;
          this.#logger.warn({ subject: s.sub.getSubject(), pending: s.pending }, `NATS slow consumer on ${s.sub.getSubject()}: ${s.pending} messages pending`);
          break;
        case 'error':
          this.#serverErrors++;
          this.#logger.error({ err: s.error }, `NATS server error: ${s.error.message}`);
          break;
        default:
          break;
      }
    }
  }

  stats(): ConnectionStats {
    const c = this.#client;
    const s = c?.stats() ?? { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
    return {
      state: this.#state,
      server: this.#server,
      reconnects: this.#reconnects,
      disconnects: this.#disconnects,
      slowConsumers: this.#slowConsumers,
      pendingBytes: pendingBytesOf(c),
      serverErrors: this.#serverErrors,
      inMsgs: s.inMsgs,
      outMsgs: s.outMsgs,
      inBytes: s.inBytes,
      outBytes: s.outBytes,
      maxPayload: this.maxPayload,
    };
  }

  /** The health check: healthy when connected, degraded while reconnecting, unhealthy when closed. */
  readonly healthCheck: HealthCheck = () => {
    const stats = this.stats();
    const details = { ...stats };
    if (stats.state === 'connected') return { status: stats.slowConsumers > 0 ? 'degraded' : 'healthy', message: `connected to ${stats.server}`, details };
    if (stats.state === 'reconnecting' || stats.state === 'connecting') return { status: 'degraded', message: `NATS ${stats.state}`, details };
    return { status: 'unhealthy', message: `NATS ${stats.state}`, details };
  };

  /**
   * Runs the before-close work, then drains (in-flight requests answered, buffered messages
   * flushed, subscriptions ended), all within the kernel's deadline; past it the connection is
   * closed hard so stop never hangs.
   */
  async close(signal: AbortSignal | undefined, deadline: number): Promise<void> {
    const connecting = this.#connecting;
    if (this.#client === undefined && connecting !== undefined) await connecting.catch(() => undefined);
    const client = this.#client;
    for (const fn of this.#beforeClose.splice(0).reverse()) {
      try {
        await withDeadline(fn, { timeoutMs: Math.max(1, drainBudget(deadline, this.#options.drainTimeoutMs)), signal });
      } catch (error) {
        this.#logger.warn({ err: error }, 'NATS: a component did not close in time');
      }
    }
    if (client === undefined || client.isClosed()) return;
    this.#state = 'draining';
    try {
      await withDeadline(() => client.drain(), { timeoutMs: Math.max(1, drainBudget(deadline, this.#options.drainTimeoutMs)), signal });
    } catch (error) {
      this.#logger.warn({ err: error }, 'NATS drain did not finish in time; closing the connection');
      await client.close().catch(() => undefined);
    }
    await this.#statusLoop?.catch(() => undefined);
    this.#state = 'closed';
  }

  #defineMetrics(metrics: Metrics): void {
    const snapshot = (): ConnectionStats => this.stats();
    const connected = metrics.gauge({ name: 'nats_connected', help: '1 while the NATS connection is up', collect: () => connected.set(snapshot().state === 'connected' ? 1 : 0) });
    const reconnects = metrics.gauge({ name: 'nats_reconnects', help: 'NATS reconnections since start', collect: () => reconnects.set(this.#reconnects) });
    const slow = metrics.gauge({ name: 'nats_slow_consumers', help: 'NATS slow-consumer notices since start', collect: () => slow.set(this.#slowConsumers) });
    const pending = metrics.gauge({ name: 'nats_pending_bytes', help: 'Bytes buffered for the NATS server, not yet written', collect: () => pending.set(pendingBytesOf(this.#client)) });
    const msgs = metrics.gauge({
      name: 'nats_messages',
      help: 'NATS messages in and out since start',
      labelNames: ['direction'],
      collect: () => {
        const s = this.#client?.stats();
        msgs.set({ direction: 'in' }, s?.inMsgs ?? 0);
        msgs.set({ direction: 'out' }, s?.outMsgs ?? 0);
      },
    });
  }
}

/**
 * The certificate check of a TLS connection. nats.js gives Node no server name when the server URL
 * is an IP address (`nats://10.0.0.5:4222`), and Node then checks the certificate against
 * `localhost`: a certificate naming the IP (subjectAltName IP) fails, and any certificate the CA
 * issued for `localhost` passes, whatever the server. Node calls this with its connect options as
 * `this`; without a server name, the IP actually dialled (the `host` of a TLS-first connection, the
 * socket's peer for a STARTTLS-style upgrade) is what the certificate must name.
 */
function serverIdentity(this: { servername?: string; host?: string; socket?: Socket } | undefined, hostname: string, cert: PeerCertificate): Error | undefined {
  if (this !== undefined && !this.servername) {
    const ip = [this.host, this.socket?.remoteAddress].find((h): h is string => typeof h === 'string' && isIP(h) !== 0);
    if (ip !== undefined) return checkServerIdentity(ip, cert);
  }
  return checkServerIdentity(hostname, cert);
}

/**
 * The client's outbound buffer size. Not in the public typings (v3), so read defensively: a
 * missing field reads as 0 rather than breaking health on a client upgrade.
 */
function pendingBytesOf(client: Client | undefined): number {
  const outbound = (client as unknown as { protocol?: { outbound?: { size?: () => number } } } | undefined)?.protocol?.outbound;
  const n = typeof outbound?.size === 'function' ? outbound.size() : 0;
  return Number.isFinite(n) ? n : 0;
}
