/**
 * One actor: its mailbox, its processing loop and its lifecycle. The cell outlives the incarnations
 * the supervisor starts and restarts: the mailbox (and so every message after a crashing one) belongs
 * to the cell, fresh state belongs to the incarnation.
 *
 * The cell is also the ActorRef handed out to users (one object per actor instead of two keeps idle
 * actors small); what is not part of `ActorRef` is keyed by the symbols of `internals.ts`, so a
 * ref's string keys are its public API and nothing else.
 *
 * Why this file is over 500 lines: the mailbox, the send path and the processing loops (sync, async,
 * hooked) all touch the same hot `#private` fields — the packed state, the mailbox, the ask in
 * flight. Moving the loops to another module would make those fields public or add a call per
 * message, which the actors benchmark measures. Everything that is not on that path (the context,
 * the incarnation handle, the rare fields, the lifecycle table) lives in its own file.
 */
import { toError } from '../../sdk/index.js';
import type { ChildContext, ChildHandle, RestartType } from '../supervision/types.js';
import { AskRequest } from './AskRequest.js';
import { CellContext } from './CellContext.js';
import { CellExtras } from './CellExtras.js';
import { IN_FLIGHT, RESTARTING, RUNNING, STARTING, SCHEDULED, STATUS_MASK, STOPPED, STOPPING, statusOf, transition, type CellStatus } from './CellState.js';
import { Incarnation } from './Incarnation.js';
import { actorStopped, askTimeout, mailboxFull } from './errors.js';
import type { ActorRef, AskOptions, Behavior, DeadLetterReason, Delivery, Envelope, Overflow, TerminationReason } from './types.js';
import type { CellHost } from './CellHost.js';
import { isThenable, RingBuffer } from '../../sdk/util/index.js';
import {
  kAddWatcher,
  kAdopt,
  kBusy,
  kChildren,
  kConfig,
  kDisown,
  kEscalate,
  kFinalize,
  kIncarnate,
  kIncarnated,
  kParent,
  kReason,
  kRemoveWatcher,
  kRetire,
  kRun,
  kSignal,
  kStopIncarnation,
} from './internals.js';

/** Per-actor settings; actors spawned without options share one instance. */
export interface CellConfig {
  readonly capacity: number;
  readonly overflow: Overflow;
  readonly restart: RestartType;
}

type AnyBehavior = Behavior<unknown, unknown, unknown>;

function onAskTimeout(req: AskRequest, cell: ActorCell, timeoutMs: number): void {
  req.timer = undefined;
  req.fail(askTimeout(cell.id, cell.name, timeoutMs));
}

export class ActorCell<M = unknown, R = unknown> implements ActorRef<M, R> {
  readonly id: string;
  readonly #config: CellConfig;
  readonly #host: CellHost;
  readonly #behavior: AnyBehavior;
  #mailbox: RingBuffer<unknown> | undefined = undefined;
  /** Lifecycle status and the hot flags in one small integer (one field instead of three). */
  #state: number = STARTING;
  #ctx: CellContext | undefined = undefined;
  #incarnation: Incarnation | undefined = undefined;
  /** The ask whose receive is in flight (async): a real field, it is written on every async message. */
  #current: AskRequest | undefined = undefined;
  #x: CellExtras | undefined = undefined;

  constructor(host: CellHost, id: string, name: string | undefined, behavior: AnyBehavior, config: CellConfig, parent: ActorCell | undefined) {
    this.#host = host;
    this.id = id;
    this.#behavior = behavior;
    this.#config = config;
    if (name !== undefined) this.#extra.name = name;
    if (parent !== undefined) this.#extra.parent = parent;
  }

  get name(): string | undefined {
    return this.#x?.name;
  }

  /** The per-actor settings. */
  get [kConfig](): CellConfig {
    return this.#config;
  }

  /** The parent cell, when spawned with `parent`. */
  get [kParent](): ActorCell | undefined {
    return this.#x?.parent;
  }

  /** Children spawned with this actor as `parent` (lazy). */
  get [kChildren](): ReadonlySet<ActorCell> | undefined {
    return this.#x?.children;
  }

  /** Records a child spawned with this actor as `parent`; the child forgets itself on termination. */
  [kAdopt](child: ActorCell): void {
    (this.#extra.children ??= new Set()).add(child);
  }

  /** Forgets a child that terminated. */
  [kDisown](child: ActorCell): void {
    this.#x?.children?.delete(child);
  }

  /** The rarely used fields, created on first write. */
  get #extra(): CellExtras {
    return (this.#x ??= new CellExtras());
  }
  get #status(): CellStatus {
    return statusOf(this.#state);
  }
  /** Moves the lifecycle status as the table in CellState.ts allows (throws on a move it does not). */
  #to(next: CellStatus): void {
    this.#state = transition(this.#state, next, this.name === undefined ? `actor ${this.id}` : `actor '${this.name}' (${this.id})`);
  }
  /** The context `receive` sees; built on first use so that an idle actor without `init` has none. */
  #context(): CellContext {
    return (this.#ctx ??= new CellContext(this, this.#incarnation?.child.restartCount ?? 0));
  }

  get mailboxSize(): number {
    return this.#mailbox === undefined ? 0 : this.#mailbox.size;
  }

  get alive(): boolean {
    return this.#status < STOPPING;
  }

  /** Why it terminated (undefined while alive). */
  get [kReason](): TerminationReason | undefined {
    return this.#x?.reason;
  }

  /** Whether a receive is running (for drain accounting). */
  get [kBusy](): boolean {
    return (this.#state & IN_FLIGHT) !== 0;
  }

  /** The signal of the current incarnation; created on first use. */
  [kSignal](): AbortSignal {
    return (this.#extra.controller ??= new AbortController()).signal;
  }

  tell(message: M): void {
    const host = this.#host;
    if (host.hooks.route.isUsed()) {
      const target = host.route(this, message, false);
      if (target !== undefined) return target.tell(message as never);
    }
    const outcome = this.#offer(message);
    if (outcome === FULL) throw mailboxFull(this.id, this.name, this.#config.capacity);
    if (outcome === REFUSED) throw actorStopped(this.id, this.name, this.#status === STOPPED ? 'has stopped' : 'is stopping');
  }

  ask(message: M, options?: AskOptions): Promise<R> {
    const host = this.#host;
    if (host.hooks.route.isUsed()) {
      const target = host.route(this, message, true);
      if (target !== undefined) return target.ask(message as never, options) as Promise<R>;
    }
    if (this.#status >= STOPPING) {
      host.deadLetter(this, message, 'stopped');
      return Promise.reject(actorStopped(this.id, this.name, this.#status === STOPPED ? 'has stopped' : 'is stopping'));
    }
    const req = new AskRequest(message);
    const promise = req.promise<R>();
    const signal = options?.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        req.fail(signal.reason);
        return promise;
      }
      req.signal = signal;
      req.onAbort = () => req.fail(signal.reason);
      signal.addEventListener('abort', req.onAbort, { once: true });
    }
    const timeoutMs = options?.timeoutMs ?? host.askTimeoutMs;
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) req.timer = setTimeout(onAskTimeout, timeoutMs, req, this, timeoutMs);
    const outcome = this.#offer(req);
    if (outcome === FULL || outcome === DROPPED) req.fail(mailboxFull(this.id, this.name, this.#config.capacity));
    else if (outcome === REFUSED) req.fail(actorStopped(this.id, this.name));
    return promise;
  }

  stop(): Promise<void> {
    const stopping = this.#x?.stopping;
    if (stopping !== undefined) return stopping;
    if (this.#status === STOPPED) return (this.#extra.stopping = Promise.resolve());
    // Already STOPPING when it ended for good on its own (a crashed 'temporary' actor): no move.
    if (this.#status < STOPPING) this.#to(STOPPING);
    this.#x?.controller?.abort(actorStopped(this.id, this.name, 'is stopping'));
    return (this.#extra.stopping = this.#host.stopCell(this));
  }

  /**
   * Puts a message (or an AskRequest) in the mailbox, applying the overflow policy.
   * Returns ACCEPTED, DROPPED (drop-newest: the new one went to dead letters), FULL or REFUSED.
   */
  #offer(item: unknown): number {
    const host = this.#host;
    const status = this.#status;
    if (status >= STOPPING) {
      host.deadLetter(this, item instanceof AskRequest ? item.message : item, 'stopped');
      return REFUSED;
    }
    const mailbox = (this.#mailbox ??= new RingBuffer<unknown>(this.#config.capacity));
    if (!mailbox.push(item)) {
      const overflow = this.#config.overflow;
      if (overflow === 'fail') {
        host.deadLetter(this, item instanceof AskRequest ? item.message : item, 'mailbox-full');
        return FULL;
      }
      if (overflow === 'drop-newest') {
        host.deadLetter(this, item instanceof AskRequest ? item.message : item, 'dropped-newest');
        return DROPPED;
      }
      const oldest = mailbox.shift();
      host.queued--;
      if (oldest instanceof AskRequest) {
        oldest.fail(mailboxFull(this.id, this.name, this.#config.capacity));
        host.deadLetter(this, oldest.message, 'dropped-oldest');
      } else host.deadLetter(this, oldest, 'dropped-oldest');
      mailbox.push(item);
    }
    host.queued++;
    host.sent++;
    if (mailbox.size > host.highWater) host.highWater = mailbox.size;
    // One integer compare: RUNNING and neither scheduled nor in flight.
    if ((this.#state & (STATUS_MASK | SCHEDULED | IN_FLIGHT)) === RUNNING) {
      this.#state |= SCHEDULED;
      host.schedule(this);
    }
    return ACCEPTED;
  }

  /**
   * Handles up to `budget` messages now; returns how many it took. Synchronous replies
   * keep the loop going; a thenable from `receive` parks the actor until it settles (one message
   * at a time, in order, also for async behaviours).
   */
  [kRun](budget: number): number {
    this.#state &= ~SCHEDULED;
    if (this.#status !== RUNNING || (this.#state & IN_FLIGHT) !== 0) return 0;
    const mailbox = this.#mailbox!;
    const host = this.#host;
    const hooks = host.hooks;
    const hooked = hooks.beforeDeliver.isUsed() || hooks.afterDeliver.isUsed();
    const behavior = this.#behavior;
    const ctx = this.#context();
    let n = 0;
    while (mailbox.size > 0) {
      if (n === budget) {
        // Fairness: go to the back of the run queue instead of starving the other actors.
        this.#state |= SCHEDULED;
        host.schedule(this);
        break;
      }
      const item = mailbox.shift();
      host.queued--;
      n++;
      let ask: AskRequest | undefined;
      let message: unknown;
      if (item instanceof AskRequest) {
        ask = item;
        message = item.message;
      } else message = item;
      if (hooked) {
        this.#state |= IN_FLIGHT;
        host.inFlight++;
        this.#current = ask;
        void this.#deliverHooked(message, ask);
        break;
      }
      let result: unknown;
      try {
        result = behavior.receive(message, ctx);
      } catch (error) {
        this.#crash(error, ask);
        break;
      }
      if (isThenable(result)) {
        this.#state |= IN_FLIGHT;
        host.inFlight++;
        this.#current = ask;
        void this.#drainAsync(result);
        break;
      }
      if (ask !== undefined) ask.succeed(result);
      if (this.#status !== RUNNING) break;
    }
    host.processed += n;
    return n;
  }

  /**
   * The loop of an actor whose `receive` returned a thenable: await it (an `await` on a native
   * promise allocates no derived promise, unlike `.then`), reply, and go on with the next message in
   * the same loop — synchronous replies without any await — until the mailbox is empty, a streak of
   * synchronous replies spends the turn's budget, or something (stop, restart, middleware) needs the general path in #settled.
   */
  async #drainAsync(pending: PromiseLike<unknown>): Promise<void> {
    const host = this.#host;
    const hooks = host.hooks;
    const mailbox = this.#mailbox!;
    const behavior = this.#behavior;
    const budget = host.throughput;
    // Checked once per turn: middleware tapped mid-turn applies from the next turn (<= budget messages).
    const hooked = hooks.beforeDeliver.isUsed() || hooks.afterDeliver.isUsed();
    let n = 0;
    for (;;) {
      let value: unknown;
      try {
        value = await pending;
      } catch (error) {
        this.#settled(undefined, error, true);
        return;
      }
      for (;;) {
        const x = this.#x;
        if (
          (this.#state & (STATUS_MASK | IN_FLIGHT)) !== (RUNNING | IN_FLIGHT) ||
          mailbox.size === 0 ||
          ++n >= budget ||
          (x !== undefined && (x.abandoned || x.endRequested)) ||
          hooked
        ) {
          this.#settled(value, undefined, false);
          return;
        }
        const done = this.#current;
        if (done !== undefined) done.succeed(value);
        const item = mailbox.shift();
        host.queued--;
        host.processed++;
        let message: unknown;
        if (item instanceof AskRequest) {
          this.#current = item;
          message = item.message;
        } else {
          this.#current = undefined;
          message = item;
        }
        let result: unknown;
        try {
          result = behavior.receive(message, this.#context());
        } catch (error) {
          this.#settled(undefined, error, true);
          return;
        }
        if (isThenable(result)) {
          pending = result;
          // Each await already lets every other actor run: only a streak of synchronous replies
          // counts against the turn's budget.
          n = 0;
          break;
        }
        value = result;
      }
    }
  }

  /** Whether the receive in flight was given up on, or the actor terminated meanwhile. */
  #givenUp(): boolean {
    return this.#x?.abandoned === true || this.#status === STOPPED;
  }

  /** The slow path, taken only when someone tapped `beforeDeliver`/`afterDeliver`. */
  async #deliverHooked(message: unknown, ask: AskRequest | undefined): Promise<void> {
    const hooks = this.#host.hooks;
    let envelope: Envelope = { recipient: this as ActorRef<never, unknown>, message, ask: ask !== undefined };
    try {
      if (hooks.beforeDeliver.isUsed()) envelope = (await hooks.beforeDeliver.promise(envelope)) ?? envelope;
    } catch (error) {
      // Rejected by middleware: the sender learns it (ask) or it becomes a dead letter (tell).
      if (this.#givenUp()) return this.#settled(undefined, undefined, false);
      if (ask !== undefined) ask.fail(error);
      else this.#host.deadLetter(this, message, 'rejected');
      this.#current = undefined;
      return this.#settled(undefined, undefined, false);
    }
    if (this.#givenUp()) return this.#settled(undefined, undefined, false);
    let reply: unknown;
    let failure: unknown;
    let failed = false;
    try {
      reply = this.#behavior.receive(envelope.message, this.#context());
      if (isThenable(reply)) reply = await reply;
    } catch (error) {
      failed = true;
      failure = error;
    }
    if (hooks.afterDeliver.isUsed() && !this.#givenUp()) {
      const delivery: Delivery = { recipient: envelope.recipient, message: envelope.message, ask: envelope.ask, reply, error: failed ? toError(failure) : undefined };
      try {
        await hooks.afterDeliver.promise(delivery);
        // Taps may replace the reply (e.g. middleware that redacts or wraps it).
        reply = delivery.reply;
      } catch (error) {
        if (!failed) {
          // An afterProcess failure fails the ask but is not the actor's fault: no crash.
          ask?.fail(error);
          this.#current = undefined;
        }
      }
    }
    this.#settled(reply, failure, failed);
  }

  /** A receive that was in flight has settled. */
  #settled(value: unknown, error: unknown, failed: boolean): void {
    const ask = this.#current;
    this.#current = undefined;
    this.#state &= ~IN_FLIGHT;
    this.#host.inFlight--;
    if (this.#x?.abandoned === true) {
      this.#x!.abandoned = false;
      if (this.#status === STOPPED) return this.#host.checkDrained();
    } else if (this.#status === STOPPED) {
      return this.#host.checkDrained();
    } else if (failed) {
      return this.#crash(error, ask);
    } else if (ask !== undefined) ask.succeed(value);
    this.#continue();
  }

  /** After a turn: end the incarnation if asked to, else keep draining. */
  #continue(): void {
    if (this.#x?.endRequested === true) {
      this.#endIncarnation(undefined);
      return;
    }
    if (this.#status === RUNNING && this.#mailbox !== undefined && this.#mailbox.size > 0) {
      if ((this.#state & SCHEDULED) === 0) {
        this.#state |= SCHEDULED;
        this.#host.schedule(this);
      }
    } else this.#host.checkDrained();
  }

  #crash(thrown: unknown, ask: AskRequest | undefined): void {
    const error = toError(thrown);
    ask?.fail(error);
    this.#host.crashed(this, error);
    this.#endIncarnation(error);
  }

  /**
   * Crashes the live incarnation from outside: the supervisor of this actor's children
   * gave up, and the failure escalates to the actor that owns them (as an OTP process linked to the
   * supervisor of its children). A receive in flight is given up on: its ask fails with `error` and
   * its result is ignored, but the next incarnation still waits for it to settle (one at a time).
   * Returns false, doing nothing, when no incarnation is live (already restarting, or stopping).
   */
  [kEscalate](error: Error): boolean {
    if (this.#incarnation === undefined || this.#status >= STOPPING) return false;
    let ask: AskRequest | undefined;
    if ((this.#state & IN_FLIGHT) !== 0 && this.#x?.abandoned !== true) {
      this.#extra.abandoned = true;
      ask = this.#current;
      this.#current = undefined;
    }
    this.#crash(error, ask);
    return true;
  }

  /**
   * Starts an incarnation (the supervisor's ChildSpec.start): fresh context, `init`, then
   * messages flow. A throwing `init` fails the start, which the supervisor retries per its backoff.
   */
  [kIncarnate](child: ChildContext): ChildHandle | Promise<ChildHandle> {
    if (this.#status === STOPPED) throw actorStopped(this.id, this.name);
    const incarnation = new Incarnation(this, child);
    this.#incarnation = incarnation;
    if (this.#x !== undefined) this.#x.endRequested = false;
    if (child.restartCount > 0) this.#host.restarted(this, child.restartCount);
    if (this.#status === STOPPING) return incarnation; // stop() is on its way through the supervisor
    this.#ctx = undefined;
    const init = this.#behavior.init;
    if (init === undefined) {
      this.#becomeRunning(incarnation);
      return incarnation;
    }
    const ctx = this.#context();
    let state: unknown;
    try {
      state = init.call(this.#behavior, ctx);
    } catch (error) {
      this.#incarnation = undefined;
      throw error;
    }
    if (!isThenable(state)) {
      ctx.state = state;
      this.#becomeRunning(incarnation);
      return incarnation;
    }
    return Promise.resolve(state).then(
      (value) => {
        ctx.state = value;
        this.#becomeRunning(incarnation);
        return incarnation;
      },
      (error: unknown) => {
        if (this.#incarnation === incarnation) this.#incarnation = undefined;
        throw error;
      },
    );
  }

  #becomeRunning(incarnation: Incarnation): void {
    if (this.#incarnation !== incarnation || this.#status >= STOPPING) return;
    this.#to(RUNNING);
    if (this.#mailbox !== undefined && this.#mailbox.size > 0 && (this.#state & SCHEDULED) === 0 && (this.#state & IN_FLIGHT) === 0) {
      this.#state |= SCHEDULED;
      this.#host.schedule(this);
    }
  }

  /** ChildHandle.stop: ends the incarnation after the receive in flight, if any. */
  [kStopIncarnation](incarnation: Incarnation): Promise<void> {
    const done = incarnation.done();
    if (this.#incarnation !== incarnation) return done;
    this.#x?.controller?.abort(actorStopped(this.id, this.name, 'is stopping'));
    if ((this.#state & IN_FLIGHT) !== 0 && this.#x?.abandoned !== true) {
      this.#extra.endRequested = true;
      // The supervisor aborts the child's signal when it stops waiting: give up on the receive then.
      const child = incarnation.child.signal;
      const force = (): void => {
        if (this.#incarnation === incarnation && (this.#state & IN_FLIGHT) !== 0) this.#abandon();
      };
      if (child.aborted) force();
      else {
        child.addEventListener('abort', force, { once: true });
        void done.then(() => child.removeEventListener('abort', force));
      }
      return done;
    }
    this.#endIncarnation(undefined);
    return done;
  }

  /**
   * The final stop of `ref.stop()` and of shutdown: ends the incarnation after the receive
   * in flight (given up on after `graceMs`; at once with 0). `exited` then resolves normally, which
   * the supervisor does not restart (actors are 'transient' children; see LocalActorSystem#attach).
   */
  [kRetire](graceMs: number): Promise<void> {
    const incarnation = this.#incarnation;
    if (incarnation === undefined) return Promise.resolve();
    const done = incarnation.done();
    if ((this.#state & IN_FLIGHT) !== 0 && this.#x?.abandoned !== true) {
      this.#extra.endRequested = true;
      if (graceMs <= 0) this.#abandon();
      else {
        const timer = setTimeout(() => {
          if (this.#incarnation === incarnation && (this.#state & IN_FLIGHT) !== 0) this.#abandon();
        }, graceMs);
        void done.then(() => clearTimeout(timer));
      }
      return done;
    }
    this.#endIncarnation(undefined);
    return done;
  }

  /** Whether an incarnation is live (started and not ended). */
  get [kIncarnated](): boolean {
    return this.#incarnation !== undefined;
  }

  /** Gives up on the receive in flight: its ask fails now, its result will be ignored. */
  #abandon(): void {
    this.#extra.abandoned = true;
    const ask = this.#current;
    this.#current = undefined;
    ask?.fail(actorStopped(this.id, this.name, 'was stopped while handling this message'));
    if (this.#x?.endRequested === true) this.#endIncarnation(undefined);
  }

  /**
   * Ends the current incarnation: abort its signal, run `stopped`, then settle `exited` (rejecting
   * with the error on a crash). A final stop or a crash of a 'temporary' actor also finalizes the
   * cell; otherwise it waits, mailbox intact, for the supervisor to start the next incarnation.
   */
  #endIncarnation(error: Error | undefined): void {
    const incarnation = this.#incarnation;
    if (this.#x !== undefined) this.#x.endRequested = false;
    if (incarnation === undefined) return;
    this.#incarnation = undefined;
    this.#x?.controller?.abort(error ?? actorStopped(this.id, this.name, 'is stopping'));
    if (this.#x !== undefined) this.#x.controller = undefined;
    const stopped = this.#behavior.stopped;
    const ctx = stopped === undefined ? undefined : this.#ctx ?? new CellContext(this, incarnation.child.restartCount);
    this.#ctx = undefined;
    const stopping = this.#status >= STOPPING;
    const final = stopping || (error !== undefined && this.#config.restart === 'temporary');
    if (!stopping) this.#to(final ? STOPPING : RESTARTING);
    const settle = (): void => {
      if (final) this[kFinalize](error === undefined ? { kind: 'stopped' } : { kind: 'crashed', error }, 'stopped');
      // An actor being stopped on purpose ends normally for the supervisor even if its last receive
      // threw: a crash report would make it restart a child that is going away.
      incarnation.settle(stopping ? undefined : error);
      if (final && error !== undefined && !stopping) this.#host.forget(this);
      this.#host.checkDrained();
    };
    if (stopped === undefined || ctx === undefined) return settle();
    let result: unknown;
    try {
      result = stopped.call(this.#behavior, ctx);
    } catch (hookError) {
      this.#host.hookFailed(this, hookError);
    }
    if (isThenable(result)) {
      Promise.resolve(result).then(settle, (hookError: unknown) => {
        this.#host.hookFailed(this, hookError);
        settle();
      });
    } else settle();
  }

  /**
   * Terminates the cell for good: every queued message becomes a dead letter, every
   * pending ask fails with ACTOR_STOPPED now (not at its timeout), watchers hear the reason.
   */
  [kFinalize](reason: TerminationReason, letters: DeadLetterReason): void {
    if (this.#status === STOPPED) return;
    this.#to(STOPPED);
    this.#x?.controller?.abort(actorStopped(this.id, this.name));
    const host = this.#host;
    const mailbox = this.#mailbox;
    this.#mailbox = undefined;
    if (mailbox !== undefined) {
      while (mailbox.size > 0) {
        const item = mailbox.shift();
        host.queued--;
        if (item instanceof AskRequest) {
          item.fail(actorStopped(this.id, this.name));
          host.deadLetter(this, item.message, letters);
        } else host.deadLetter(this, item, letters);
      }
    }
    if ((this.#state & IN_FLIGHT) !== 0 && this.#x?.abandoned !== true) {
      this.#extra.abandoned = true;
      const ask = this.#current;
      this.#current = undefined;
      ask?.fail(actorStopped(this.id, this.name, 'was stopped while handling this message'));
    }
    this.#extra.reason = reason;
    host.terminated(this, reason);
    const watchers = this.#x?.watchers;
    if (watchers !== undefined) this.#x!.watchers = undefined;
    if (watchers !== undefined) for (const watcher of watchers) host.notify(watcher, reason);
  }

  /** Adds a watcher; false if the actor already terminated. */
  [kAddWatcher](callback: (reason: TerminationReason) => void): boolean {
    if (this.#status === STOPPED) return false;
    (this.#extra.watchers ??= []).push(callback);
    return true;
  }

  /** Removes a watcher added with kAddWatcher. */
  [kRemoveWatcher](callback: (reason: TerminationReason) => void): void {
    const watchers = this.#x?.watchers;
    if (watchers === undefined) return;
    const i = watchers.indexOf(callback);
    if (i >= 0) watchers.splice(i, 1);
  }

}

const ACCEPTED = 0;
const DROPPED = 1;
const FULL = 2;
const REFUSED = 3;
