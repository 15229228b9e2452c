/**
 * Distributed agent runs (the agents plugin's `RunScheduler`). With the agents option
 * `distributed: true`, `agents.start` journals `agent.run.started` and hands the ticket here:
 *
 * 1. `schedule` publishes the ticket `{ runId, agent }` on `ms.<system>.runs.<agent>` into a
 *    JetStream **work-queue** stream (`Nats-Msg-Id` = run id, so a ticket is queued once); it
 *    resolves when the server acknowledged it.
 * 2. Every node that defines the agent pulls from one shared durable consumer per agent
 *    (`runs_<agent>`, explicit ack, ack wait = the lease TTL), with `maxConcurrentRuns` pulls in
 *    flight: a node never takes more runs of an agent than it may run.
 * 3. The node that got a ticket takes the run's **lease** (RunLease: a KV entry with CAS on its
 *    revision), then `agents.resume(runId)`: the run is rebuilt from the shared journal and goes on
 *    under the exactly-once rules. While it runs the lease is renewed and the message kept alive
 *    (`working`) every TTL/3; a renewal that loses the CAS means another node took the run over,
 *    and this node aborts its copy at once.
 * 4. When the run ends (completed, failed or cancelled) the lease is released and the ticket
 *    acknowledged (removed from the queue). A node that stops gracefully gives its runs back at once
 *    (lease released, ticket nak'ed); one that dies (`kill -9`) stops renewing: after the TTL its
 *    ticket is redelivered to another node, whose lease CAS wins over the expired entry, and which
 *    resumes the run from the journal.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiError, RetentionPolicy, jetstream, jetstreamManager, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { type Counter, type Disposer, type Logger, type Metrics } from '../../sdk/index.js';
import { sleep } from '../../sdk/util/index.js';
import { jetStreamFailed, publishFailed } from './errors.js';
import { KvBucket } from './KvBucket.js';
import type { NatsConnection } from './NatsConnection.js';
import { RunLease } from './RunLease.js';
import type { Subjects } from './subjects.js';
import type { AgentService, RunScheduler, RunTicket } from '../agents/types.js';

/**
 * What the scheduler needs from the agents service (`list`, `resume`, `attachScheduler`), narrowed
 * so that it can be driven by anything with that shape; `AgentService` is one (checked below).
 */
export interface RunHost {
  list(): ReadonlyArray<{ readonly name: string; readonly maxConcurrentRuns?: number }>;
  resume(runId: string, options?: { readonly signal?: AbortSignal }): Promise<unknown>;
  attachScheduler(scheduler: RunScheduler): Disposer;
}

/** Compile-time proof that the agents service is a RunHost. */
export type AgentServiceIsRunHost = AgentService extends RunHost ? true : never;
export type { RunTicket };

export interface RunSchedulerOptions {
  /** Take runs from the queue (default true); false only queues them. */
  readonly pull?: boolean;
  readonly stream: string;
  readonly leaseBucket: string;
  readonly leaseTtlMs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** How long one pull waits on the server before asking again (bounded so stop is prompt). */
const PULL_EXPIRES_MS = 2_000;

export class NatsRunScheduler implements RunScheduler {
  readonly #connection: NatsConnection;
  readonly #subjects: Subjects;
  readonly #host: RunHost;
  readonly #options: RunSchedulerOptions;
  readonly #node: string;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  /** Runs this node is driving, by id → the abort of their resume. */
  readonly #running = new Map<string, AbortController>();
  #js: JetStreamClient | undefined;
  #leases: KvBucket | undefined;
  #detach: Disposer | undefined;
  #closing: Promise<void> | undefined;
  readonly #metrics: { taken: Counter; finished: Counter; lost: Counter; handedBack: Counter } | undefined;

  /**
   * The local event log's last sequence: a ticket carries it from the node that queued the run,
   * and the node that takes it waits until its own log has caught up that far before resuming, so
   * the run's journal (written just before on another node) is all there.
   */
  readonly #logPosition: () => number | undefined;

  constructor(
    connection: NatsConnection,
    subjects: Subjects,
    host: RunHost,
    options: RunSchedulerOptions,
    node: string,
    logger: Logger,
    metrics?: Metrics,
    logPosition: () => number | undefined = () => undefined,
  ) {
    this.#logPosition = logPosition;
    this.#connection = connection;
    this.#subjects = subjects;
    this.#host = host;
    this.#options = options;
    this.#node = node;
    this.#logger = logger;
    this.#metrics =
      metrics === undefined
        ? undefined
        : {
            taken: metrics.counter({ name: 'nats_runs_taken_total', help: 'Distributed runs this node took (lease acquired)' }),
            finished: metrics.counter({ name: 'nats_runs_finished_total', help: 'Distributed runs this node drove to their end' }),
            lost: metrics.counter({ name: 'nats_runs_lease_lost_total', help: 'Runs this node stopped because another node took their lease' }),
            handedBack: metrics.counter({ name: 'nats_runs_handed_back_total', help: 'Runs given back to the queue at stop' }),
          };
  }

  /** Runs this node is driving now. */
  get running(): readonly string[] {
    return [...this.#running.keys()];
  }

  async open(): Promise<void> {
    const client = await this.#connection.ready();
    this.#js = jetstream(client);
    const jsm = await jetstreamManager(client);
    const stream = this.#options.stream;
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== 10059) throw jetStreamFailed(`read stream ${stream}`, error);
      try {
        await jsm.streams.add({ name: stream, subjects: [`ms.${this.#subjects.system}.runs.>`], retention: RetentionPolicy.Workqueue, duplicate_window: 120_000_000_000 });
      } catch (addError) {
        if (!(addError instanceof JetStreamApiError) || addError.code !== 10058) throw jetStreamFailed(`create work queue ${stream}`, addError);
      }
    }
    this.#leases = await KvBucket.open(client, this.#options.leaseBucket);
    for (const agent of this.#options.pull === false ? [] : this.#host.list()) {
      const name = `runs_${agent.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      try {
        await jsm.consumers.add(stream, {
          durable_name: name,
          filter_subject: this.#subjects.runTicket(agent.name),
          ack_policy: AckPolicy.Explicit,
          ack_wait: this.#options.leaseTtlMs * 1_000_000,
          max_deliver: -1,
          deliver_policy: DeliverPolicy.All,
        });
      } catch (error) {
        // Already there (another node made it) with the same config: fine.
        if (!(error instanceof JetStreamApiError) || error.code !== 10148) {
          const exists = await jsm.consumers.info(stream, name).catch(() => undefined);
          if (exists === undefined) throw jetStreamFailed(`create consumer ${name}`, error);
        }
      }
      const consumer = await this.#js.consumers.get(stream, name);
      const slots = Math.max(1, agent.maxConcurrentRuns ?? 1);
      for (let i = 0; i < slots; i++) this.#loops.push(this.#pull(consumer, agent.name));
    }
    this.#detach = this.#host.attachScheduler(this);
  }

  /** Queues a run; resolves once JetStream stored the ticket. */
  async schedule(ticket: RunTicket): Promise<void> {
    const js = this.#js;
    if (js === undefined || this.#stop.signal.aborted) throw jetStreamFailed(`schedule run ${ticket.runId}`, new Error('the run scheduler is not open'));
    const subject = this.#subjects.runTicket(ticket.agent);
    try {
      const after = this.#logPosition();
      await js.publish(subject, encoder.encode(JSON.stringify({ runId: ticket.runId, agent: ticket.agent, ...(after !== undefined ? { after } : {}) })), { msgID: ticket.runId });
    } catch (error) {
      throw publishFailed(subject, error);
    }
  }

  /** One slot of one agent: pull a ticket, drive its run, repeat. */
  async #pull(consumer: Consumer, agent: string): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: PULL_EXPIRES_MS });
      } catch (error) {
        if (signal.aborted) return;
        this.#logger.warn({ err: error, agent }, `pulling run tickets of '${agent}' failed; retrying`);
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (msg === null) continue;
      if (signal.aborted) {
        msg.nak();
        return;
      }
      await this.#drive(msg).catch((error: unknown) => this.#logger.error({ err: error }, `distributed run failed to be driven: ${(error as Error).message}`));
    }
  }

  async #drive(msg: JsMsg): Promise<void> {
    let ticket: RunTicket & { readonly after?: number };
    try {
      ticket = JSON.parse(decoder.decode(msg.data)) as RunTicket & { readonly after?: number };
      if (typeof ticket.runId !== 'string' || typeof ticket.agent !== 'string') throw new Error('not a run ticket');
    } catch (error) {
      this.#logger.error({ err: error }, 'bad run ticket; removed from the queue');
      msg.term('bad run ticket');
      return;
    }
    const ttl = this.#options.leaseTtlMs;
    const acquired = await RunLease.acquire(this.#leases!, ticket.runId, this.#node, ttl);
    if (!acquired.held) {
      // Its holder is alive: look again once the lease would have expired.
      msg.nak(Math.max(50, acquired.retryInMs));
      return;
    }
    const lease = acquired.lease;
    this.#metrics?.taken.inc();
    const run = new AbortController();
    const onStop = (): void => run.abort(this.#stop.signal.reason);
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    this.#running.set(ticket.runId, run);
    let lost = false;
    const renew = setInterval(() => {
      lease.renew().then(
        (ok) => {
          if (ok) msg.working();
          else if (!run.signal.aborted) {
            lost = true;
            this.#metrics?.lost.inc();
            this.#logger.warn({ runId: ticket.runId }, `run ${ticket.runId}: another node took its lease; stopping here`);
            run.abort(new Error('lease lost'));
          }
        },
        (error: unknown) => this.#logger.warn({ err: error, runId: ticket.runId }, `run ${ticket.runId}: lease renewal failed (will retry)`),
      );
    }, Math.max(20, Math.floor(ttl / 3)));
    let finished = false;
    try {
      if (typeof ticket.after === 'number') await this.#caughtUp(ticket.after, run.signal);
      this.#logger.debug({ runId: ticket.runId, after: ticket.after, at: this.#logPosition() }, "caught up");
      this.#logger.info({ runId: ticket.runId, agent: ticket.agent, redelivered: msg.redelivered }, `run ${ticket.runId} taken by this node`);
      await this.#host.resume(ticket.runId, { signal: run.signal });
      finished = true;
    } catch (error) {
      // A run that failed on its own is finished too; one we aborted (stop, lost lease) is not.
      finished = !run.signal.aborted;
      if (finished) this.#logger.info({ runId: ticket.runId, err: error }, `run ${ticket.runId} ended with an error`);
    } finally {
      clearInterval(renew);
      this.#stop.signal.removeEventListener('abort', onStop);
      this.#running.delete(ticket.runId);
    }
    if (lost) return;
    await lease.release().catch(() => undefined);
    if (finished) {
      this.#metrics?.finished.inc();
      msg.ack();
    } else {
      this.#metrics?.handedBack.inc();
      msg.nak();
    }
  }

  /** Waits (polling the local log's position, bounded by `signal`) until it reached `sequence`. */
  async #caughtUp(sequence: number, signal: AbortSignal): Promise<void> {
    for (let delay = 2; (this.#logPosition() ?? sequence) < sequence; delay = Math.min(delay * 2, 100)) {
      await sleep(delay, signal);
    }
  }

  /** Stops pulling, gives the runs in flight back to the queue, detaches from the agents service. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#detach?.();
      this.#stop.abort(new Error('node stopping'));
      await Promise.allSettled(this.#loops);
    })();
    return this.#closing;
  }
}

// Fails to compile if the agents service stops fitting the scheduler.
const agentServiceFits: AgentServiceIsRunHost = true;
void agentServiceFits;
