/**
 * The team's text search, run as a supervised worker (`research-team/search-index`): each
 * incarnation reads the documents folder into memory and answers queries. A crash can be injected
 * (the Nth query of the process kills the incarnation that serves it): the query in flight fails
 * with SEARCH_INDEX_CRASHED (retryable), the supervisor starts a new incarnation, and the caller's
 * retry policy sends the query again — to the new one.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MisterSmithError } from '../../sdk/index.js';
import { sleep } from '../../sdk/util/index.js';
import type { ChildContext, ChildHandle, ChildSpec } from '../../plugins/supervision/types.js';

export interface SearchHit {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

interface Incarnation {
  readonly docs: ReadonlyMap<string, readonly string[]>;
  crash(error: Error): void;
  alive: boolean;
}

export class SearchIndex {
  readonly #dir: string;
  readonly #crashOn: number;
  #queries = 0;
  #current: Incarnation | undefined;
  #waiting: Array<() => void> = [];

  /** `crashOn`: the query number (1-based, per process) that crashes its worker; 0 never. */
  constructor(dir: string, crashOn: number) {
    this.#dir = dir;
    this.#crashOn = crashOn;
  }

  /** The worker as a supervision child. */
  childSpec(): ChildSpec {
    return {
      id: 'search-index',
      restart: 'permanent',
      backoff: { initialMs: 50, factor: 2, maxMs: 1_000, jitter: 0 },
      start: (ctx) => this.#start(ctx),
    };
  }

  async #start(ctx: ChildContext): Promise<ChildHandle> {
    const docs = new Map<string, string[]>();
    for (const name of (await readdir(this.#dir)).sort()) {
      if (name.endsWith('.md')) docs.set(name, (await readFile(path.join(this.#dir, name), 'utf8')).split('\n'));
    }
    let crash!: (error: Error) => void;
    let stop!: () => void;
    const exited = new Promise<void>((resolve, reject) => {
      crash = reject;
      stop = resolve;
    });
    const incarnation: Incarnation = {
      docs,
      alive: true,
      crash: (error) => {
        incarnation.alive = false;
        crash(error);
      },
    };
    ctx.signal.addEventListener('abort', () => (incarnation.alive = false), { once: true });
    this.#current = incarnation;
    for (const wake of this.#waiting.splice(0)) wake();
    return {
      exited,
      stop: async () => {
        incarnation.alive = false;
        stop();
      },
    };
  }

  /** Case-insensitive search over every line; at most `limit` hits. */
  async search(query: string, limit: number, signal: AbortSignal): Promise<SearchHit[]> {
    const worker = await this.#ready(signal);
    const n = ++this.#queries;
    if (n === this.#crashOn) {
      const error = new MisterSmithError('SEARCH_INDEX_CRASHED', `the search worker crashed while serving query ${n} ('${query}') — injected by the example's crashOnSearch option`, {
        kind: 'runtime',
        severity: 'medium',
        retryable: true,
      });
      worker.crash(error);
      throw error;
    }
    const needle = query.toLowerCase();
    const hits: SearchHit[] = [];
    for (const [file, lines] of worker.docs) {
      lines.forEach((text, i) => {
        if (hits.length < limit && text.toLowerCase().includes(needle)) hits.push({ file, line: i + 1, text: text.trim() });
      });
    }
    return hits;
  }

  /** The live incarnation, waiting (bounded by the caller's signal) while the supervisor restarts it. */
  async #ready(signal: AbortSignal): Promise<Incarnation> {
    while (this.#current === undefined || !this.#current.alive) {
      signal.throwIfAborted();
      await Promise.race([new Promise<void>((resolve) => this.#waiting.push(resolve)), sleep(250, signal)]);
    }
    return this.#current;
  }
}
