/**
 * The page's live feed: one Server-Sent Events response per open page. Each response is ended
 * after `maxMs` (the browser reconnects with `Last-Event-ID` and gets what it missed from the ring),
 * which keeps it inside the http plugin's request deadline and lets a stopping kernel close at once.
 */
import type { ServerResponse } from 'node:http';

export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #maxMs: number;
  #closed = false;

  constructor(maxMs: number) {
    this.#maxMs = maxMs;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Takes over `res` (headers, keep-alive, end); `backlog` is written first. */
  open(res: ServerResponse, signal: AbortSignal, backlog: readonly string[]): void {
    if (this.#closed) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('stopping');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Reconnect quickly after the server ends a response on purpose.
    res.write('retry: 500\n\n');
    for (const chunk of backlog) res.write(chunk);
    this.#clients.add(res);
    const end = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', end);
      if (this.#clients.delete(res) && !res.writableEnded) res.end();
    };
    const timer = setTimeout(end, this.#maxMs);
    signal.addEventListener('abort', end, { once: true });
    res.once('close', end);
  }

  /** Sends one SSE message to every client. */
  send(event: string, data: unknown, id?: number): void {
    if (this.#clients.size === 0) return;
    const chunk = SseHub.format(event, data, id);
    for (const res of this.#clients) res.write(chunk);
  }

  /** A comment line: keeps proxies from closing an idle stream. */
  ping(): void {
    for (const res of this.#clients) res.write(': ping\n\n');
  }

  static format(event: string, data: unknown, id?: number): string {
    return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  /** Ends every stream; later `open` calls get 503. */
  close(): void {
    this.#closed = true;
    for (const res of this.#clients) if (!res.writableEnded) res.end();
    this.#clients.clear();
  }
}
