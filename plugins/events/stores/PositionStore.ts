/**
 * Durable subscription positions of a file store: `positions.json`, replaced atomically (temp
 * file, fsync, rename). A changed position is written at most every `flushMs`, and on close;
 * writes are chained so an older snapshot never lands after a newer one. Read-only stores keep
 * positions in memory only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BusLogger } from '../SubscriberHost.js';
import { writeFileAtomic } from './fdAsync.js';


export class PositionStore {
  readonly #file: string;
  readonly #flushMs: number;
  readonly #sync: boolean;
  readonly #persist: boolean;
  readonly #logger: BusLogger;
  readonly #positions = new Map<string, number>();
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #open = false;
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    void this.flush();
  };

  constructor(dir: string, options: { flushMs: number; sync: boolean; persist: boolean; logger: BusLogger }) {
    this.#file = path.join(dir, 'positions.json');
    this.#flushMs = options.flushMs;
    this.#sync = options.sync;
    this.#persist = options.persist;
    this.#logger = options.logger;
  }

  /** Loads the saved positions, capping each at `last` (the log may have lost its tail). */
  async load(last: number): Promise<void> {
    this.#positions.clear();
    this.#open = true;
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch {
      return;
    }
    try {
      const raw = JSON.parse(text) as Record<string, unknown>;
      for (const [name, seq] of Object.entries(raw)) if (typeof seq === 'number' && Number.isSafeInteger(seq)) this.#positions.set(name, Math.min(seq, last));
    } catch (error) {
      this.#logger.error({ err: error, file: this.#file }, 'durable positions file is unreadable; durable subscriptions restart from their `from` option');
    }
  }

  get(name: string): number {
    return this.#positions.get(name) ?? 0;
  }

  set(name: string, sequence: number): void {
    if (this.#positions.get(name) === sequence) return;
    this.#positions.set(name, sequence);
    if (!this.#persist) return;
    this.#dirty = true;
    if (this.#timer === undefined && this.#open) this.#timer = setTimeout(this.#onTimer, this.#flushMs);
  }

  /** Writes the positions if they changed; never rejects (a failure is logged and retried later). */
  flush(): Promise<void> {
    if (!this.#dirty) return this.#writing;
    this.#dirty = false;
    const snapshot = JSON.stringify(Object.fromEntries(this.#positions));
    this.#writing = this.#writing
      .then(() => writeFileAtomic(this.#file, snapshot, this.#sync))
      .catch((error: unknown) => {
        this.#dirty = true;
        this.#logger.error({ err: error }, 'could not save durable subscription positions');
      });
    return this.#writing;
  }

  /** Stops the timer and writes what changed. */
  async close(): Promise<void> {
    this.#open = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
