import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FileStore } from '../../../plugins/events/index.js';
import { tempDir } from './helpers.js';

const holder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'holder.ts');
const holderWorker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'holder-worker.mjs');

/** Resolves with the first line the child prints that matches, or rejects when it exits first or the signal aborts. */
function lineFrom(child: ChildProcess, pattern: RegExp, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const onData = (d: Buffer): void => {
      buffered += d.toString();
      const line = buffered.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) finish(() => resolve(line));
    };
    const onErr = (d: Buffer): void => void (stderr += d.toString());
    const onExit = (): void => finish(() => reject(new Error(`child exited before printing ${pattern}; stdout: ${buffered} stderr: ${stderr}`)));
    const onAbort = (): void => finish(() => reject(new Error(`timed out waiting for ${pattern}; stdout: ${buffered} stderr: ${stderr}`)));
    const finish = (then: () => void): void => {
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onErr);
      child.off('exit', onExit);
      signal.removeEventListener('abort', onAbort);
      then();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onErr);
    child.on('exit', onExit);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function spawnHolder(t: { after(fn: () => unknown): void }, dir: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', holder, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

function messageFrom(worker: Worker, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: string): void => finish(() => resolve(m));
    const onError = (e: Error): void => finish(() => reject(e));
    const onAbort = (): void => finish(() => reject(new Error('timed out waiting for the worker')));
    const finish = (then: () => void): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      then();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

test('a store open in another process locks the directory; after that process is killed -9 the lock is taken over', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const signal = AbortSignal.timeout(45_000);
  const child = spawnHolder(t, dir);
  assert.equal(await lineFrom(child, /^(opened|error)/, signal), 'opened');
  const lock = JSON.parse(await readFile(path.join(dir, 'LOCK'), 'utf8')) as Record<string, unknown>;
  assert.equal(lock.pid, child.pid);
  assert.equal(lock.host, os.hostname());
  assert.equal(typeof lock.startTime, 'number');
  await assert.rejects(new FileStore({ dir }).open(() => {}), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
    assert.equal(e.code, 'EVENT_STORE_LOCKED');
    assert.match(e.message, new RegExp(`pid ${child.pid}`));
    return true;
  });
  child.kill('SIGKILL');
  await once(child, 'exit');
  const store = new FileStore({ dir });
  await store.open(() => {});
  const mine = JSON.parse(await readFile(path.join(dir, 'LOCK'), 'utf8')) as Record<string, unknown>;
  assert.equal(mine.pid, process.pid);
  // …and now the other way round: a process trying to open our store is refused.
  const second = spawnHolder(t, dir);
  assert.equal(await lineFrom(second, /^(opened|error)/, signal), 'error EVENT_STORE_LOCKED');
  await store.close();
});

test('two worker threads of one process cannot both open a store', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const signal = AbortSignal.timeout(45_000);
  const start = (): Worker => {
    const w = new Worker(holderWorker, { workerData: { dir } });
    t.after(() => w.terminate());
    return w;
  };
  const a = start();
  assert.equal(await messageFrom(a, signal), 'opened');
  const b = start();
  assert.equal(await messageFrom(b, signal), 'error EVENT_STORE_LOCKED');
  // The main thread is refused as well, while the worker holds it.
  await assert.rejects(new FileStore({ dir }).open(() => {}), { code: 'EVENT_STORE_LOCKED' });
  a.postMessage('close');
  assert.equal(await messageFrom(a, signal), 'closed');
  const c = start();
  assert.equal(await messageFrom(c, signal), 'opened');
  c.postMessage('close');
  assert.equal(await messageFrom(c, signal), 'closed');
});

test('a lock of a thread that died without closing is taken over once its heartbeat is stale', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const signal = AbortSignal.timeout(45_000);
  const w = new Worker(holderWorker, { workerData: { dir } });
  assert.equal(await messageFrom(w, signal), 'opened');
  await w.terminate();
  // Same pid (ours), so only the heartbeat can tell: it is fresh, so the lock holds…
  await assert.rejects(new FileStore({ dir, lock: { staleMs: 60_000 } }).open(() => {}), { code: 'EVENT_STORE_LOCKED' });
  // …until it is older than the bound.
  const old = new Date(Date.now() - 120_000);
  await utimes(path.join(dir, 'LOCK'), old, old);
  const store = new FileStore({ dir, lock: { staleMs: 60_000 } });
  await store.open(() => {});
  await store.close();
});

test('a lock from another host is respected while its heartbeat is fresh and taken over when stale; a legacy pid-1 lock does not block forever', async (t) => {
  const dir = await tempDir(t);
  const lockFile = path.join(dir, 'LOCK');
  await writeFile(lockFile, JSON.stringify({ host: 'some-other-host', pid: 1, startTime: 1, threadId: 0, token: 'x' }));
  await assert.rejects(new FileStore({ dir }).open(() => {}), (e: Error & { code?: string }) => e.code === 'EVENT_STORE_LOCKED' && /some-other-host/.test(e.message));
  const old = new Date(Date.now() - 10 * 60_000);
  await utimes(lockFile, old, old);
  const a = new FileStore({ dir });
  await a.open(() => {});
  await a.close();
  // The old format held only a pid; pid 1 is alive (init), so only the lock's age can free it.
  await writeFile(lockFile, '1');
  await assert.rejects(new FileStore({ dir }).open(() => {}), { code: 'EVENT_STORE_LOCKED' });
  await utimes(lockFile, old, old);
  const b = new FileStore({ dir });
  await b.open(() => {});
  const { mtimeMs } = await stat(lockFile);
  assert.ok(mtimeMs > old.getTime(), 'the new holder refreshed the lock');
  await b.close();
});

test('the heartbeat keeps the lock fresh while the store is open', async (t) => {
  const dir = await tempDir(t);
  const store = new FileStore({ dir, lock: { heartbeatMs: 10, staleMs: 1_000 } });
  await store.open(() => {});
  t.after(() => store.close());
  const lockFile = path.join(dir, 'LOCK');
  const old = new Date(Date.now() - 60_000);
  await utimes(lockFile, old, old);
  const deadline = Date.now() + 10_000;
  while ((await stat(lockFile)).mtimeMs <= old.getTime()) {
    if (Date.now() > deadline) assert.fail('the heartbeat never refreshed the lock');
    await new Promise((r) => setTimeout(r, 10));
  }
  await assert.rejects(new FileStore({ dir, lock: { staleMs: 1_000 } }).open(() => {}), { code: 'EVENT_STORE_LOCKED' });
});

test('a lock naming a live pid of this host is respected, unless that pid now belongs to a process that started at another time (pid reuse)', async (t) => {
  const { readFileSync, readlinkSync } = await import('node:fs');
  const dir = await tempDir(t);
  const lockFile = path.join(dir, 'LOCK');
  const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
  const parentStart = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const base = {
    host: os.hostname(),
    pidns: readlinkSync('/proc/self/ns/pid'),
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    pid: process.ppid,
    threadId: 0,
    token: 't',
    acquiredAt: new Date().toISOString(),
  };
  // Old heartbeat, so only the pid check can keep it: the parent is alive with that start time.
  const old = new Date(Date.now() - 10 * 60_000);
  await writeFile(lockFile, JSON.stringify({ ...base, startTime: parentStart }));
  await utimes(lockFile, old, old);
  await assert.rejects(new FileStore({ dir, lock: { staleMs: 24 * 3600_000 } }).open(() => {}), (e: Error & { code?: string }) => e.code === 'EVENT_STORE_LOCKED' && new RegExp(`pid ${process.ppid}`).test(e.message));
  // Same pid, another start time: the owner died and the pid was reused. Fresh heartbeat or not, it is stale.
  await writeFile(lockFile, JSON.stringify({ ...base, startTime: parentStart + 1 }));
  const store = new FileStore({ dir, lock: { staleMs: 24 * 3600_000 } });
  await store.open(() => {});
  await store.close();
});

test('a store whose lock is taken from it stops writing: publishes fail with EVENT_STORE_LOCKED and health is unhealthy', async (t) => {
  const { EventBus } = await import('../../../plugins/events/index.js');
  const { rename } = await import('node:fs/promises');
  const dir = await tempDir(t);
  const bus = new EventBus({ store: new FileStore({ dir, lock: { heartbeatMs: 10, staleMs: 1_000 } }) });
  await bus.start();
  t.after(() => bus.stop());
  await bus.publish({ type: 'a', source: 's' });
  // Another opener took the lock. Replaced in one step (rename over it): an unlink then a write let
  // a 10 ms heartbeat land in between on a loaded machine and report the file removed instead.
  await writeFile(path.join(dir, 'LOCK.intruder'), JSON.stringify({ host: 'intruder', pid: 42, startTime: 1, threadId: 0, token: 'other' }));
  await rename(path.join(dir, 'LOCK.intruder'), path.join(dir, 'LOCK'));
  const deadline = Date.now() + 10_000;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await bus.publish({ type: 'a', source: 's' }).catch((e: unknown) => e);
    if ((last as { code?: string }).code === 'EVENT_STORE_LOCKED') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((last as { code?: string }).code, 'EVENT_STORE_LOCKED');
  assert.match((last as Error).message, /intruder/);
  assert.equal((await bus.health()).status, 'unhealthy');
  await bus.stop();
  assert.equal(JSON.parse(await readFile(path.join(dir, 'LOCK'), 'utf8')).host, 'intruder', 'closing does not remove a lock it no longer owns');
});
