/** A local OTLP/HTTP traces receiver: what a collector or Jaeger would get, decoded from OTLP/JSON. */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Record<string, string | number | boolean>;
  readonly status: { readonly code: number; readonly message?: string };
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>;
  readonly service: string | undefined;
}

function value(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue ?? '';
}

function attributes(list: Array<{ key: string; value: AnyValue }> | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, value(a.value)]));
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly requests: Array<{ headers: Record<string, unknown> }> = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        receiver.requests.push({ headers: req.headers });
        if (req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/json') {
          res.writeHead(415).end();
          return;
        }
        receiver.#decode(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  /** Spans named `name` (in arrival order). */
  named(name: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  one(name: string): ReceivedSpan {
    const found = this.named(name);
    if (found.length !== 1) throw new Error(`expected one span '${name}', got ${found.length}: ${this.spans.map((s) => s.name).join(', ')}`);
    return found[0]!;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #decode(body: { resourceSpans?: Array<{ resource?: { attributes?: [] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> }): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = attributes(rs.resource?.attributes)['service.name'];
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const parent = s.parentSpanId as string | undefined;
          this.spans.push({
            traceId: s.traceId as string,
            spanId: s.spanId as string,
            parentSpanId: parent === undefined || parent === '' ? undefined : parent,
            name: s.name as string,
            kind: s.kind as number,
            startMs: Number(BigInt(s.startTimeUnixNano as string) / 1_000_000n),
            endMs: Number(BigInt(s.endTimeUnixNano as string) / 1_000_000n),
            attributes: attributes(s.attributes as never),
            status: (s.status as { code: number; message?: string } | undefined) ?? { code: 0 },
            links: ((s.links as Array<{ traceId: string; spanId: string }> | undefined) ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            service: typeof service === 'string' ? service : undefined,
          });
        }
      }
    }
  }
}
