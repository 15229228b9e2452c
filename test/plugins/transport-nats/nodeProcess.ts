/** Starts a fixtures/node.ts child process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./fixtures/node.ts', import.meta.url));

export class NodeProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly exited: Promise<number | null>;
  #seq = 0;
  #stderr = '';

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.#stderr = (this.#stderr + d).slice(-8000)));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const p of this.#pending.values()) p.reject(new Error(`node ${name} exited: ${this.#stderr}`));
      this.#pending.clear();
    });
    child.on('message', (m: { id?: number; ok?: boolean; value?: unknown; error?: { code?: string; message?: string } }) => {
      if (m.id === undefined) return;
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(Object.assign(new Error(m.error?.message ?? 'failed'), { code: m.error?.code }));
    });
  }

  /** Forks a node with these plugin entries and waits until its kernel has started. */
  static async start(
    t: { after(fn: () => unknown): void },
    name: string,
    plugins: unknown[],
    env: Record<string, string> = {},
    signal = AbortSignal.timeout(60_000),
  ): Promise<NodeProcess> {
    const child = fork(SCRIPT, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env, MS_NODE_NAME: name, MS_NODE_CONFIG: JSON.stringify({ plugins }), NODE_TEST_CONTEXT: '' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const node = new NodeProcess(name, child);
    t.after(() => node.kill());
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(new Error(`node ${name} did not start: ${node.#stderr}`));
      signal.addEventListener('abort', onAbort, { once: true });
      child.on('message', (m: { ready?: boolean }) => {
        if (m.ready) {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }
      });
      void node.exited.then((code) => reject(new Error(`node ${name} exited with ${code} at start: ${node.#stderr}`)));
    });
    return node;
  }

  /** Asks the node to do `op`; rejects if it has not answered within `timeoutMs` (default 60 s). */
  call<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`node ${this.name}: '${op}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#child.send({ id, op, ...args });
    });
  }

  /** SIGKILL: the node dies without cleaning up (kill -9). */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGKILL');
    await this.exited;
  }
}
