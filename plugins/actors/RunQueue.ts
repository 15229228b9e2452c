/**
 * The one run queue every actor with work waits on. A microtask runs the ready actors in turn, each
 * for up to `throughput` messages; after MAX_PER_RUN messages the rest continues on setImmediate so
 * that a busy system still lets timers and I/O in.
 */
import type { ActorCell } from './ActorCell.js';
import { kRun } from './internals.js';

/** Messages handled in one microtask run before yielding to I/O with setImmediate. */
const MAX_PER_RUN = 50_000;

export class RunQueue {
  readonly #throughput: number;
  readonly #paused: () => void;
  readonly #idle: () => void;
  #ready: ActorCell[] = [];
  #running = false;

  /**
   * @param throughput messages one actor handles per turn before the next ready actor
   * @param paused called when a run yields to I/O with actors still waiting
   * @param idle called when the queue ran empty
   */
  constructor(throughput: number, paused: () => void, idle: () => void) {
    this.#throughput = throughput;
    this.#paused = paused;
    this.#idle = idle;
  }

  /** Whether a run is scheduled or under way. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Puts a cell with work at the back of the queue (the cell makes sure it is there once). A bound
   * function, so that the runtime hands it to the cells as is: no forwarding frame per send.
   */
  readonly schedule = (cell: ActorCell): void => {
    this.#ready.push(cell);
    if (!this.#running) {
      this.#running = true;
      queueMicrotask(this.#run);
    }
  };

  readonly #run = (): void => {
    const ready = this.#ready;
    const budget = this.#throughput;
    let total = 0;
    let i = 0;
    while (i < ready.length) {
      total += ready[i]![kRun](budget);
      i++;
      if (total >= MAX_PER_RUN && i < ready.length) {
        ready.splice(0, i);
        this.#paused();
        setImmediate(this.#run);
        return;
      }
    }
    ready.length = 0;
    this.#running = false;
    this.#idle();
  };
}
