/**
 * The exclusive lock of a file store directory: the file `LOCK`, created with `O_EXCL` (`wx`), so
 * of two openers racing only one creates it — across processes, PID namespaces and worker threads
 * alike. It holds who owns it (host, PID namespace and boot, pid, process start time, thread, a
 * random token) and the owner touches its mtime every `heartbeatMs`, so a lost owner is detectable.
 *
 * A lock found on open is taken over only when it is provably stale:
 * - same host, boot and PID namespace, and its pid is dead or now belongs to a process that started
 *   at another time (a reused pid);
 * - otherwise (another host or namespace, another thread of this very process, or a lock file in
 *   an older format) only when its heartbeat is older than `staleMs`.
 * Takeover is serialised through `LOCK.takeover` (also `wx`): of two processes judging the same
 * stale lock, one removes and replaces it, the other then finds a fresh lock and is refused.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { EventError } from '../../../sdk/index.js';
import { EVENT_ERROR_CODES } from '../errors.js';

export interface DirectoryLockOptions {
  /** How often the owner refreshes the lock's mtime (default 2 s). */
  readonly heartbeatMs?: number;
  /** A lock whose mtime is older than this may be taken over when its owner cannot be checked (default 30 s). */
  readonly staleMs?: number;
}

/** What a `LOCK` file says about its owner. */
export interface LockOwner {
  readonly host: string;
  /** PID namespace and boot id: a pid is only comparable when both match ours. */
  readonly pidns: string;
  readonly bootId: string;
  readonly pid: number;
  /** Start time of the owning process (clock ticks since boot on Linux, else epoch ms). */
  readonly startTime: number;
  readonly threadId: number;
  readonly token: string;
  readonly acquiredAt: string;
}

const SELF = ((): Omit<LockOwner, 'threadId' | 'token' | 'acquiredAt'> => ({
  host: os.hostname(),
  pidns: readLink('/proc/self/ns/pid'),
  bootId: readText('/proc/sys/kernel/random/boot_id'),
  pid: process.pid,
  startTime: processStartTime(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000),
}))();

export class DirectoryLock {
  readonly #file: string;
  readonly #takeoverFile: string;
  readonly #heartbeatMs: number;
  readonly #staleMs: number;
  #owner: LockOwner | undefined;
  #timer: NodeJS.Timeout | undefined;
  #onLost: ((why: string) => void) | undefined;

  constructor(dir: string, options: DirectoryLockOptions = {}) {
    this.#file = path.join(dir, 'LOCK');
    this.#takeoverFile = path.join(dir, 'LOCK.takeover');
    this.#heartbeatMs = Math.max(10, options.heartbeatMs ?? 2_000);
    this.#staleMs = Math.max(this.#heartbeatMs * 2, options.staleMs ?? 30_000);
  }

  /** Takes the lock or throws `EVENT_STORE_LOCKED` naming the holder. `onLost` runs if another opener takes it from us later. */
  async acquire(onLost?: (why: string) => void): Promise<void> {
    const owner: LockOwner = { ...SELF, threadId, token: randomUUID(), acquiredAt: new Date().toISOString() };
    for (let attempt = 0; ; attempt++) {
      if (await this.#create(owner)) break;
      const held = await this.#read();
      if (held === undefined) continue; // released between our create and read: try again
      const verdict = this.#judge(held.owner, held.text, held.mtimeMs);
      if (verdict !== 'stale' || attempt >= 3) throw this.#locked(held.owner, held.text);
      await this.#takeOver(held.text);
    }
    this.#owner = owner;
    this.#onLost = onLost;
    this.#timer = setInterval(() => void this.#beat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Releases the lock if we still own it. */
  async release(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const owner = this.#owner;
    this.#owner = undefined;
    if (owner === undefined) return;
    const held = await this.#read();
    if (held?.owner?.token === owner.token) await unlink(this.#file).catch(() => undefined);
  }

  async #create(owner: LockOwner): Promise<boolean> {
    let fh;
    try {
      fh = await open(this.#file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      await fh.writeFile(JSON.stringify(owner));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    return true;
  }

  async #read(): Promise<{ text: string; owner: LockOwner | undefined; mtimeMs: number } | undefined> {
    try {
      const [text, st] = await Promise.all([readFile(this.#file, 'utf8'), stat(this.#file)]);
      return { text, owner: parseOwner(text), mtimeMs: st.mtimeMs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  #judge(owner: LockOwner | undefined, text: string, mtimeMs: number): 'held' | 'stale' {
    const heartbeatStale = Date.now() - mtimeMs > this.#staleMs;
    if (owner === undefined) {
      // The old format held only a pid, written by a process on this host: a dead one is stale.
      const pid = Number(text.trim());
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) return 'stale';
      return heartbeatStale ? 'stale' : 'held';
    }
    const comparable = owner.host === SELF.host && owner.pidns === SELF.pidns && owner.bootId === SELF.bootId && SELF.pidns !== '';
    if (comparable && owner.pid !== process.pid) {
      // A pid we can check: dead, or reused by a process that started at another time.
      if (!isAlive(owner.pid)) return 'stale';
      const started = processStartTime(owner.pid);
      return started !== undefined && started !== owner.startTime ? 'stale' : 'held';
    }
    if (comparable && owner.startTime !== SELF.startTime) return 'stale'; // our pid, an earlier process
    // Another host or namespace, or another thread of this process: only the heartbeat can tell.
    return heartbeatStale ? 'stale' : 'held';
  }

  /** Replaces the stale lock whose content was `staleText`, unless someone else got there first. */
  async #takeOver(staleText: string): Promise<void> {
    let guard;
    try {
      guard = await open(this.#takeoverFile, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another opener is taking over right now; a guard older than staleMs was left by a crash.
      const st = await stat(this.#takeoverFile).catch(() => undefined);
      if (st !== undefined && Date.now() - st.mtimeMs > this.#staleMs) await unlink(this.#takeoverFile).catch(() => undefined);
      return;
    }
    try {
      const now = await readFile(this.#file, 'utf8').catch(() => undefined);
      if (now === staleText) await unlink(this.#file);
    } finally {
      await guard.close();
      await unlink(this.#takeoverFile).catch(() => undefined);
    }
  }

  async #beat(): Promise<void> {
    const owner = this.#owner;
    if (owner === undefined) return;
    try {
      const held = await this.#read();
      if (held?.owner?.token !== owner.token) {
        this.#lost(held === undefined ? 'the LOCK file was removed' : `the LOCK file now belongs to ${describe(held.owner, held.text)}`);
        return;
      }
      const now = new Date();
      await utimes(this.#file, now, now);
    } catch {
      // A failed refresh is retried at the next beat; the lock only goes stale after staleMs.
    }
  }

  #lost(why: string): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#owner = undefined;
    this.#onLost?.(why);
  }

  #locked(owner: LockOwner | undefined, text: string): EventError {
    const dir = path.dirname(this.#file);
    return new EventError(
      EVENT_ERROR_CODES.STORE_LOCKED,
      `event store ${dir} is locked by ${describe(owner, text)}; stop that process (or, for a lock left by a machine that is gone, delete ${this.#file} once you are sure)`,
      { context: { dir, ...(owner !== undefined ? { host: owner.host, pid: owner.pid, threadId: owner.threadId } : { lock: text.slice(0, 200) }) } },
    );
  }
}

function describe(owner: LockOwner | undefined, text: string): string {
  if (owner === undefined) return `an old-format lock (${JSON.stringify(text.trim().slice(0, 40))})`;
  return `host ${owner.host} pid ${owner.pid}${owner.threadId !== 0 ? ` thread ${owner.threadId}` : ''} (since ${owner.acquiredAt})`;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o !== 'object' || o === null || typeof o.host !== 'string' || typeof o.pid !== 'number') return undefined;
    return {
      host: o.host,
      pidns: typeof o.pidns === 'string' ? o.pidns : '',
      bootId: typeof o.bootId === 'string' ? o.bootId : '',
      pid: o.pid,
      startTime: typeof o.startTime === 'number' ? o.startTime : -1,
      threadId: typeof o.threadId === 'number' ? o.threadId : 0,
      token: typeof o.token === 'string' ? o.token : '',
      acquiredAt: typeof o.acquiredAt === 'string' ? o.acquiredAt : '?',
    };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined off Linux. */
function processStartTime(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === '') return undefined;
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function readLink(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}
