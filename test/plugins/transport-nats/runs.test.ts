/**
 * The run scheduler's queue and lease mechanics against a real nats-server, with a host standing in
 * for the agents service (the end-to-end test with real agents and kill -9 is in runs.e2e.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { NatsConnection } from '../../../plugins/transport-nats/NatsConnection.js';
import { NatsRunScheduler, type RunHost, type RunTicket } from '../../../plugins/transport-nats/NatsRunScheduler.js';
import { natsOptions } from '../../../plugins/transport-nats/options.js';
import { Subjects } from '../../../plugins/transport-nats/subjects.js';
import { skipWithoutNats, startNats } from './natsServer.js';
import { until } from './helpers.js';

const opts = skipWithoutNats();
const logger = pino({ level: 'silent' });

class Host implements RunHost {
  readonly resumed: string[] = [];
  readonly finished: string[] = [];
  scheduler: { schedule(ticket: RunTicket): Promise<void> } | undefined;
  hang = false;
  constructor(readonly maxConcurrentRuns = 2) {}
  list() {
    return [{ name: 'worker', maxConcurrentRuns: this.maxConcurrentRuns }];
  }
  async resume(runId: string, options?: { signal?: AbortSignal }) {
    this.resumed.push(runId);
    if (this.hang) {
      await new Promise((_r, reject) => options?.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    }
    this.finished.push(runId);
    return { runId };
  }
  attachScheduler(s: { schedule(ticket: RunTicket): Promise<void> }) {
    this.scheduler = s;
    return async () => void (this.scheduler = undefined);
  }
}

async function scheduler(t: { after(fn: () => unknown): void }, url: string, host: Host, node: string, ttl = 600) {
  const connection = new NatsConnection(natsOptions.parse({ servers: url, reconnect: { maxAttempts: 0 } }), process.cwd(), logger);
  await connection.ready();
  const s = new NatsRunScheduler(connection, new Subjects('rt'), host, { stream: 'RUNS', leaseBucket: 'LEASES', leaseTtlMs: ttl }, node, logger);
  await s.open();
  t.after(async () => {
    await s.close();
    await connection.close(undefined, Date.now() + 2000);
  });
  return { s, connection };
}

test('runs are queued once, pulled by the nodes defining the agent, and each finished exactly once', opts, async (t) => {
  const server = await startNats(t);
  const h1 = new Host();
  const h2 = new Host();
  await scheduler(t, server.url, h1, 'n1');
  await scheduler(t, server.url, h2, 'n2');
  for (let i = 0; i < 20; i++) await h1.scheduler!.schedule({ runId: `run-${i}`, agent: 'worker' });
  await h1.scheduler!.schedule({ runId: 'run-0', agent: 'worker' }); // a re-sent ticket is queued once
  await until(() => h1.finished.length + h2.finished.length === 20, 'all runs finished');
  const all = [...h1.finished, ...h2.finished].sort();
  assert.deepEqual(all, Array.from({ length: 20 }, (_, i) => `run-${i}`).sort(), 'each run exactly once');
  assert.ok(h1.finished.length > 0 && h2.finished.length > 0, `both nodes took runs (${h1.finished.length}/${h2.finished.length})`);
});

test('a node that dies holding runs loses them to another node after the lease TTL; a graceful stop hands them back at once', opts, async (t) => {
  const server = await startNats(t);
  const dying = new Host(2);
  dying.hang = true;
  const a = await scheduler(t, server.url, dying, 'dying');
  await dying.scheduler!.schedule({ runId: 'r1', agent: 'worker' });
  await dying.scheduler!.schedule({ runId: 'r2', agent: 'worker' });
  await until(() => dying.resumed.length === 2, 'the first node to take both runs');
  // Dies: the connection drops without a word (no release, no nak, no more renewals).
  await a.connection.client.close();
  const survivor = new Host(2);
  const sv = await scheduler(t, server.url, survivor, 'survivor');
  await until(() => survivor.finished.length === 2, 'the survivor to finish both runs after the TTL');
  assert.deepEqual(survivor.finished.sort(), ['r1', 'r2']);

  // Graceful: a stopping node gives its run back (lease released, ticket nak'ed) for another to take.
  await sv.s.close();
  const leaving = new Host(1);
  leaving.hang = true;
  const survivor2 = new Host(1);
  const l = await scheduler(t, server.url, leaving, 'leaving', 60_000);
  await leaving.scheduler!.schedule({ runId: 'r3', agent: 'worker' });
  await until(() => leaving.resumed.includes('r3'), 'the only pulling node to take r3');
  await scheduler(t, server.url, survivor2, 'survivor2', 60_000);
  await l.s.close();
  await until(() => survivor2.finished.includes('r3'), 'r3 handed over without waiting for the 60 s lease');
  assert.deepEqual(leaving.finished, [], 'the leaving node did not finish it');
});
