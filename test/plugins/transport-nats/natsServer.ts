/**
 * Test harness: a real nats-server with JetStream on a free loopback port and a temp store folder.
 * Readiness is proven by connecting, never by sleeping. Without nats-server the tests skip with a
 * message saying how to get it, except under CI=true where that is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';

const BINARY = process.env.NATS_SERVER_BIN ?? 'nats-server';
export const INSTALL_HINT = 'nats-server not found: install it (apt-get install -y nats-server) or set NATS_SERVER_BIN';

/** Whether the binary runs; under CI its absence throws instead of skipping. */
export function natsServerAvailable(): boolean {
  const r = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  const ok = r.status === 0;
  if (!ok && process.env.CI === 'true') throw new Error(`${INSTALL_HINT} (required under CI=true)`);
  return ok;
}

/** `{ skip: message }` for node:test when nats-server is absent. */
export function skipWithoutNats(): { skip?: string } {
  return natsServerAvailable() ? {} : { skip: INSTALL_HINT };
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface NatsServerOptions {
  /** Extra server config (nats-server config file syntax), e.g. `authorization { token: "s3cret" }`. */
  readonly config?: string;
  /**
   * What the readiness probe connects with, for a server that requires TLS or auth (`tls`,
   * `authenticator`, `token`, …). Default: a token found in `config`, else nothing.
   */
  readonly connect?: Partial<NodeConnectionOptions>;
  /**
   * Whether readiness also waits for the JetStream API (default true). Off for a server whose
   * client account has no JetStream (e.g. an operator-mode account without JetStream limits).
   */
  readonly jetStream?: boolean;
}

export class NatsServer {
  readonly storeDir: string;
  port = 0;
  #proc: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #stderr = '';
  readonly #config: string | undefined;
  readonly #connect: Partial<NodeConnectionOptions>;
  readonly #jetStream: boolean;

  constructor(options: NatsServerOptions = {}) {
    this.storeDir = mkdtempSync(path.join(tmpdir(), 'ms-nats-'));
    this.#config = options.config;
    this.#connect = options.connect ?? (this.#config?.includes('token') ? { token: tokenOf(this.#config) } : {});
    this.#jetStream = options.jetStream ?? true;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server (on the same port and store again after a stop) and waits until it accepts a client. */
  async start(signal = AbortSignal.timeout(20_000)): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', path.join(this.storeDir, 'js')];
    if (this.#config !== undefined) {
      const file = path.join(this.storeDir, 'server.conf');
      writeFileSync(file, this.#config);
      args.push('-c', file);
    }
    const proc = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#proc = proc;
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.#stderr = (this.#stderr + d).slice(-4000)));
    this.#exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await this.#waitReady(signal);
    return this;
  }

  async #waitReady(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#proc?.exitCode !== null) throw new Error(`nats-server exited at start: ${this.#stderr}`);
      if (signal.aborted) throw new Error(`nats-server not ready in time: ${this.#stderr}`);
      try {
        const nc = await connect({ servers: this.url, timeout: 1000, reconnect: false, ...this.#connect });
        try {
          // JetStream is up once its API answers.
          if (this.#jetStream) await nc.request('$JS.API.INFO', undefined, { timeout: 2000 });
        } finally {
          await nc.close();
        }
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  /** Graceful stop (SIGTERM: JetStream flushes its store). */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (proc === undefined || proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await this.#exited;
  }

  /** Hard kill. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (proc === undefined || proc.exitCode !== null) return;
    proc.kill('SIGKILL');
    await this.#exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and deletes its store. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

function tokenOf(config: string): string {
  return /token:\s*"([^"]+)"/.exec(config)?.[1] ?? '';
}

/** Starts a server for one test file / test and disposes it after. */
export async function startNats(t: { after(fn: () => unknown): void }, options?: NatsServerOptions): Promise<NatsServer> {
  const server = new NatsServer(options);
  t.after(() => server.dispose());
  return await server.start();
}
