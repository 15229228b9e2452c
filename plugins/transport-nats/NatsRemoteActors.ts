/**
 * Remote actors over NATS request/reply (the actors plugin's `RemoteActorTransport`).
 *
 * An exposed actor `name` is served on `ms.v1.<system>.actor.<name>` in the queue group
 * `ms-actors`: when several nodes expose one name, each message goes to one of them. A remote ref
 * sends the v1 envelope (envelope.ts):
 * - `ask` is a request; the owning node runs `ref.ask` under the caller's timeout and replies with
 *   the reply or the error (same code as a local ask: `ACTOR_ASK_TIMEOUT`, `ACTOR_STOPPED`,
 *   `ACTOR_MAILBOX_FULL`, or what `receive` threw). No responder, or no answer within the timeout
 *   plus a margin for the network, is `ACTOR_REMOTE_UNREACHABLE`.
 * - `tell` is a plain publish: fire and forget, at most once. What the owning node cannot deliver
 *   goes to its dead letters; the sender learns nothing (as with a local actor that dies later).
 */
import { RequestError, TimeoutError as NatsTimeout, type Msg, type NatsConnection as Client, type Subscription } from '@nats-io/transport-node';
import { ActorError, CancelledError, type Disposer, type Logger } from '../../sdk/index.js';
import type { ActorRef, AnyActorRef, AskOptions, RemoteActorTransport, RemoteRefOptions } from '../actors/types.js';
import { decode, encode, errorReply, okReply, remoteError, type Reply } from './envelope.js';
import { connectionClosed, payloadTooLarge } from './errors.js';
import type { NatsConnection } from './NatsConnection.js';
import type { Subjects } from './subjects.js';

const QUEUE = 'ms-actors';

interface ActorRequest {
  readonly v: 1;
  readonly k: 'ask' | 'tell';
  readonly m: unknown;
  readonly t?: number;
}

/** Time the network may add on top of the ask's own timeout before the caller gives up. */
export function networkMargin(timeoutMs: number): number {
  return Math.min(2_000, Math.max(250, Math.round(timeoutMs * 0.2)));
}

export function remoteUnreachable(name: string, why: string, timeoutMs?: number, cause?: unknown): ActorError {
  return new ActorError('ACTOR_REMOTE_UNREACHABLE', `remote actor '${name}': ${why}; is a node exposing it running (spawn with { name, expose: true })?`, {
    retryable: true,
    cause,
    context: { name, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
  });
}

export class NatsRemoteActors implements RemoteActorTransport {
  readonly #connection: NatsConnection;
  readonly #subjects: Subjects;
  readonly #defaultTimeoutMs: number;
  readonly #logger: Logger;
  readonly #served = new Set<Subscription>();

  constructor(connection: NatsConnection, subjects: Subjects, defaultTimeoutMs: number, logger: Logger) {
    this.#connection = connection;
    this.#subjects = subjects;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#logger = logger;
  }

  remote<M, R>(name: string, options?: RemoteRefOptions): ActorRef<M, R> {
    const subject = this.#subjects.actor(name);
    return new RemoteActorRef<M, R>(this.#connection, name, subject, options?.timeoutMs ?? this.#defaultTimeoutMs);
  }

  expose(ref: AnyActorRef): Disposer {
    const name = ref.name;
    if (name === undefined) throw remoteUnreachable(String(name), 'an actor without a name cannot be exposed');
    const subject = this.#subjects.actor(name);
    const client = this.#connection.client;
    const target = ref as unknown as ActorRef<unknown, unknown>;
    const sub = client.subscribe(subject, { queue: QUEUE, callback: (err, msg) => (err === null ? this.#serve(client, target, subject, msg) : undefined) });
    this.#served.add(sub);
    this.#logger.debug({ actor: ref.id, name, subject }, `actor '${name}' exposed on ${subject}`);
    return async () => {
      if (!this.#served.delete(sub)) return;
      if (!sub.isClosed()) sub.unsubscribe();
    };
  }

  #serve(client: Client, ref: ActorRef<unknown, unknown>, subject: string, msg: Msg): void {
    let req: ActorRequest;
    try {
      req = decode<ActorRequest>(subject, msg.data);
      if (req.k !== 'ask' && req.k !== 'tell') throw remoteUnreachable(ref.name ?? ref.id, `unknown request kind ${JSON.stringify(req.k)}`);
    } catch (error) {
      this.#logger.warn({ err: error, subject }, `bad remote actor request on ${subject}`);
      if (msg.reply) msg.respond(errorReply(error));
      return;
    }
    if (req.k === 'tell') {
      try {
        ref.tell(req.m);
      } catch (error) {
        // The sender is not waiting; the local tell already dead-lettered what it could not take.
        this.#logger.debug({ err: error, actor: ref.name }, 'remote tell refused');
      }
      return;
    }
    const reply = msg.reply;
    if (!reply) return;
    const timeoutMs = typeof req.t === 'number' && req.t > 0 ? req.t : undefined;
    let asked: Promise<unknown>;
    try {
      asked = ref.ask(req.m, timeoutMs === undefined ? undefined : { timeoutMs });
    } catch (error) {
      msg.respond(errorReply(error));
      return;
    }
    asked.then(
      (r) => {
        let bytes: Uint8Array;
        try {
          bytes = okReply(subject, r);
          const max = this.#connection.maxPayload;
          if (bytes.length > max - 512) bytes = errorReply(payloadTooLarge(`the reply of ${subject}`, bytes.length, max));
        } catch (error) {
          bytes = errorReply(error);
        }
        if (!client.isClosed()) msg.respond(bytes);
      },
      (error: unknown) => {
        if (!client.isClosed()) msg.respond(errorReply(error));
      },
    );
  }

  /** Stops serving every exposed actor. */
  async close(): Promise<void> {
    for (const sub of this.#served) if (!sub.isClosed()) sub.unsubscribe();
    this.#served.clear();
  }
}

/** An `ActorRef` whose actor lives on another node. */
class RemoteActorRef<M, R> implements ActorRef<M, R> {
  readonly id: string;
  readonly name: string;
  readonly #connection: NatsConnection;
  readonly #subject: string;
  readonly #timeoutMs: number;

  constructor(connection: NatsConnection, name: string, subject: string, timeoutMs: number) {
    this.id = `remote:${name}`;
    this.name = name;
    this.#connection = connection;
    this.#subject = subject;
    this.#timeoutMs = timeoutMs;
  }

  /** Unknown from here: the mailbox is on the owning node. */
  get mailboxSize(): number {
    return 0;
  }

  /** Whether this node is connected (the actor itself may still be unreachable). */
  get alive(): boolean {
    return this.#connection.state === 'connected';
  }

  tell(message: M): void {
    const bytes = encode(this.#subject, { v: 1, k: 'tell', m: message }, 'the message');
    this.#connection.checkPayload(this.#subject, bytes.length);
    this.#connection.client.publish(this.#subject, bytes);
  }

  ask(message: M, options?: AskOptions): Promise<R> {
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new CancelledError(`ask to remote actor '${this.name}' cancelled`));
    let client: Client;
    let bytes: Uint8Array;
    try {
      bytes = encode(this.#subject, { v: 1, k: 'ask', m: message, t: timeoutMs }, 'the message');
      this.#connection.checkPayload(this.#subject, bytes.length);
      client = this.#connection.client;
    } catch (error) {
      return Promise.reject(error);
    }
    const request = client.request(this.#subject, bytes, { timeout: timeoutMs + networkMargin(timeoutMs) }).then(
      (msg) => this.#reply(msg),
      (error: unknown) => {
        throw this.#failure(error, timeoutMs);
      },
    );
    if (signal === undefined) return request;
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => reject(new CancelledError(`ask to remote actor '${this.name}' cancelled`));
      signal.addEventListener('abort', onAbort, { once: true });
      request.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #reply(msg: Msg): R {
    const reply = decode<Reply>(this.#subject, msg.data);
    if (reply.ok) return reply.r as R;
    throw remoteError(reply.e, { actor: this.name, subject: this.#subject });
  }

  #failure(error: unknown, timeoutMs: number): Error {
    if (error instanceof RequestError && error.isNoResponders()) return remoteUnreachable(this.name, 'no node exposes it', undefined, error);
    if (error instanceof NatsTimeout || (error instanceof Error && error.name === 'TimeoutError')) {
      return remoteUnreachable(this.name, `no answer within ${timeoutMs} ms (plus ${networkMargin(timeoutMs)} ms for the network)`, timeoutMs, error);
    }
    if (this.#connection.state !== 'connected') return connectionClosed(`ask remote actor '${this.name}'`);
    return error instanceof Error ? error : new Error(String(error));
  }

  /** Releases this ref only: the actor lives on (stop it on the node that owns it). */
  async stop(): Promise<void> {}
}
