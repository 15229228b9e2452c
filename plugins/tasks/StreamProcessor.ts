/**
 * The original system's StreamProcessor: source → buffer → stages → sink, with backpressure.
 *
 * One pump pulls the source into a bounded buffer; `concurrency` workers take items in source
 * order, run them through the stages, and hand them to the sink one at a time, in source order
 * (each worker reserves its place in the sink lane when it takes the item). Under `overflow: 'wait'`
 * the pump stops pulling while the buffer is full, so at most `buffer + concurrency + 1` items are
 * ever between the source and the sink, however slow the sink is.
 */
import { once, type EventEmitter } from 'node:events';
import { StreamError } from '../../sdk/index.js';
import { overflowError, stageFailedError } from './errors.js';
import type { OverflowPolicy, StreamContext, StreamOptions, StreamSink, StreamStage, StreamStageFn, StreamStats } from './types.js';
import { abortReason, isThenable } from '../../sdk/util/index.js';

const DONE: unique symbol = Symbol('stream done');

interface Stage {
  readonly name: string;
  readonly process: (item: unknown, ctx: StreamContext) => unknown;
}

function positiveInt(value: number | undefined, fallback: number, min: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new RangeError(`stream option ${what} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

export class StreamProcessor<T> {
  readonly #source: AsyncIterable<T> | Iterable<T>;
  readonly #stages: readonly Stage[];
  readonly #sink: StreamSink<unknown>;
  readonly #concurrency: number;
  readonly #capacity: number;
  readonly #overflow: OverflowPolicy;
  readonly #skipErrors: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #controller = new AbortController();
  readonly #ctx: StreamContext = { signal: this.#controller.signal };
  readonly #buffer: T[] = [];
  readonly #takers: Array<(item: T | typeof DONE) => void> = [];
  #spaceWaiter: (() => void) | undefined;
  #sinkTail: Promise<void> = Promise.resolve();
  #sourceDone = false;
  #failure: unknown;
  #failed = false;
  #pulled = 0;
  #processed = 0;
  #dropped = 0;
  #waits = 0;
  #errors = 0;

  constructor(
    source: AsyncIterable<T> | Iterable<T>,
    stages: ReadonlyArray<StreamStage<never, unknown> | StreamStageFn<never, unknown>>,
    sink: StreamSink<never>,
    options: StreamOptions = {},
  ) {
    if (source === null || typeof source !== 'object' || (!(Symbol.asyncIterator in source) && !(Symbol.iterator in source))) {
      throw new TypeError('stream source must be an async iterable, an iterable or a Node Readable');
    }
    this.#source = source;
    this.#stages = stages.map((s, i): Stage => {
      if (typeof s === 'function') return { name: s.name || `stage-${i}`, process: s as Stage['process'] };
      if (s === null || typeof s !== 'object' || typeof s.process !== 'function') throw new TypeError(`stream stage ${i} must be a function or { name, process }`);
      return { name: s.name || `stage-${i}`, process: (item, ctx) => (s as StreamStage<unknown, unknown>).process(item, ctx) };
    });
    if (typeof sink !== 'function' && (sink === null || typeof sink !== 'object' || typeof sink.write !== 'function')) {
      throw new TypeError('stream sink must be a function or have write(item)');
    }
    this.#sink = sink as StreamSink<unknown>;
    this.#concurrency = positiveInt(options.concurrency, 1, 1, 'concurrency');
    this.#capacity = positiveInt(options.buffer, 1000, 0, 'buffer');
    this.#overflow = options.overflow ?? 'wait';
    if (!['wait', 'drop-newest', 'drop-oldest', 'fail'].includes(this.#overflow)) throw new RangeError(`unknown stream overflow policy '${this.#overflow}'`);
    this.#skipErrors = options.onError === 'skip';
    this.#signal = options.signal;
  }

  stats(): StreamStats {
    return { pulled: this.#pulled, processed: this.#processed, dropped: this.#dropped, backpressureWaits: this.#waits, errors: this.#errors };
  }

  async run(): Promise<StreamStats> {
    const external = this.#signal;
    if (external?.aborted) throw abortReason(external);
    const onAbort = (): void => this.#fail(abortReason(external!));
    external?.addEventListener('abort', onAbort, { once: true });
    try {
      const pump = this.#pump();
      const workers: Promise<void>[] = [];
      for (let i = 0; i < this.#concurrency; i++) workers.push(this.#work());
      await Promise.all(workers);
      // A failed stream does not wait for a source stuck in next(): it was told to stop.
      if (!this.#failed) await pump;
    } finally {
      external?.removeEventListener('abort', onAbort);
    }
    if (this.#failed) {
      // Our own errors carry the final counts; the context object is ours, created in errors.ts.
      if (this.#failure instanceof StreamError) (this.#failure.context as Record<string, unknown>).stats = this.stats();
      throw this.#failure;
    }
    return this.stats();
  }

  async #pump(): Promise<void> {
    try {
      for await (const item of this.#source as AsyncIterable<T>) {
        if (this.#failed) break;
        this.#pulled++;
        if (this.#takers.length === 0 && this.#buffer.length >= this.#capacity) {
          if (this.#overflow === 'wait') {
            this.#waits++;
            await new Promise<void>((resolve) => (this.#spaceWaiter = resolve));
            if (this.#failed) break;
          } else if (this.#overflow === 'drop-newest') {
            this.#dropped++;
            continue;
          } else if (this.#overflow === 'drop-oldest') {
            if (this.#buffer.length > 0) {
              this.#buffer.shift();
              this.#dropped++;
            } else {
              this.#dropped++;
              continue;
            }
          } else {
            this.#fail(overflowError(this.#capacity));
            break;
          }
        }
        const taker = this.#takers.shift();
        if (taker !== undefined) taker(item);
        else this.#buffer.push(item);
      }
    } catch (error) {
      if (!this.#failed) {
        this.#errors++;
        this.#fail(stageFailedError('source', -1, error));
      }
    } finally {
      this.#sourceDone = true;
      for (const taker of this.#takers.splice(0)) taker(DONE);
    }
  }

  #take(): T | typeof DONE | Promise<T | typeof DONE> {
    if (this.#failed) return DONE;
    if (this.#buffer.length > 0) {
      const item = this.#buffer.shift()!;
      this.#wakePump();
      return item;
    }
    if (this.#sourceDone) return DONE;
    const waiting = new Promise<T | typeof DONE>((resolve) => this.#takers.push(resolve));
    // An idle worker is room too (matters with buffer 0).
    this.#wakePump();
    return waiting;
  }

  #wakePump(): void {
    const wake = this.#spaceWaiter;
    if (wake !== undefined) {
      this.#spaceWaiter = undefined;
      wake();
    }
  }

  async #work(): Promise<void> {
    const stages = this.#stages;
    const ctx = this.#ctx;
    for (;;) {
      const item = await this.#take();
      if (item === DONE) return;
      // With one worker, order is given; with more, each reserves its place in the sink lane now.
      const laned = this.#concurrency > 1;
      const before = this.#sinkTail;
      let release: (() => void) | undefined;
      if (laned) this.#sinkTail = new Promise<void>((resolve) => (release = resolve));
      let inLane = !laned;
      try {
        let value: unknown = item;
        for (let i = 0; i < stages.length; i++) {
          const stage = stages[i]!;
          try {
            value = stage.process(value, ctx);
            if (isThenable(value)) value = await value;
          } catch (error) {
            throw stageFailedError(stage.name, i, error);
          }
        }
        if (laned) {
          await before;
          inLane = true;
        }
        if (this.#failed) return;
        try {
          const written = this.#write(value);
          if (isThenable(written)) await written;
        } catch (error) {
          throw stageFailedError('sink', stages.length, error);
        }
        this.#processed++;
      } catch (error) {
        if (this.#failed) return;
        this.#errors++;
        if (!this.#skipErrors) {
          this.#fail(error);
          return;
        }
      } finally {
        // Keep the sink lane in source order even when this item never reached the sink.
        if (release !== undefined) {
          if (inLane) release();
          else void before.then(release);
        }
      }
    }
  }

  #write(value: unknown): unknown {
    const sink = this.#sink;
    if (typeof sink === 'function') return sink(value, this.#ctx);
    const accepted = sink.write(value);
    if (accepted === false && typeof sink.once === 'function') {
      this.#waits++;
      return once(sink as unknown as EventEmitter, 'drain', { signal: this.#controller.signal });
    }
    return accepted;
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    this.#controller.abort(error);
    this.#wakePump();
    for (const taker of this.#takers.splice(0)) taker(DONE);
    // Like stream.pipeline: a failed stream destroys its Readable source so nothing keeps reading.
    const source = this.#source as { destroy?: () => void };
    if (typeof source.destroy === 'function') source.destroy();
  }
}
