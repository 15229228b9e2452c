/**
 * Runs the research-team example the way a user does — the CLI in a child process — on a copy of
 * the repository in a temp folder, and reads back what it left in its `.mister-smith/` folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestKernel } from '../../../testing/index.js';
import type { EventBus, StoredEvent } from '../../../plugins/events/types.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** What the copy holds: the sources the CLI runs, and the example (without any earlier state). */
const COPIED = ['bin', 'kernel', 'sdk', 'plugins', 'index.ts', 'package.json', 'tsconfig.json', path.join('examples', 'research-team')];

/** A fresh copy of the repository (node_modules linked, not copied); removed by `dispose`. */
export function copyRepo(): { dir: string; example: string; dispose(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ms-research-'));
  for (const entry of COPIED) {
    cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true, filter: (src) => !src.includes(`${path.sep}.mister-smith`) });
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { dir, example: path.join(dir, 'examples', 'research-team'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `dir` (relative paths), to check what a run wrote. */
export function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'node_modules') return [];
    return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

export interface CliRun {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stdout; rejects at `timeoutMs` or when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `mister-smith start examples/research-team/mister-smith.config.json [...args]` in `dir`. */
export function startTeam(dir: string, args: readonly string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [path.join(dir, 'bin', 'mister-smith.js'), 'start', path.join('examples', 'research-team', 'mister-smith.config.json'), ...args], {
    cwd: dir,
    env: { ...process.env, NODE_TEST_CONTEXT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const l of listeners) l();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = out.match(pattern);
          if (m !== null) finish(() => resolve(m));
          else if (done) finish(() => reject(new Error(`process exited before ${pattern} appeared; stdout:\n${out}\nstderr:\n${err}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${pattern} did not appear within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
        const finish = (then: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          then();
        };
        listeners.add(check);
        check();
      }),
  };
}

/** The dashboard URL the example printed. */
export async function dashboardUrl(run: CliRun): Promise<string> {
  const m = await run.waitFor(/dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\//);
  return m[1]!;
}

/** Polls a JSON endpoint until `ok` says yes (an event-driven page offers nothing better to wait on from outside). */
export async function until<T>(url: string, ok: (body: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const res = await fetch(url);
      last = await res.json();
      if (res.ok && ok(last as T)) return last as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${url} never satisfied the condition; last answer: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every event of the example's log, read with the events plugin itself once the example has exited. */
export async function readLog(example: string): Promise<StoredEvent[]> {
  const kernel = await createTestKernel({
    plugins: [{ use: 'events', options: { store: { type: 'file', dir: path.join(example, '.mister-smith', 'events') } } }],
  });
  try {
    const out: StoredEvent[] = [];
    for await (const e of kernel.resolve<EventBus>('events').replay()) out.push(e);
    return out;
  } finally {
    await kernel.stop('log read');
  }
}
