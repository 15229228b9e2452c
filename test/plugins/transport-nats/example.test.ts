import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { skipWithoutNats } from './natsServer.js';

const RUN = fileURLToPath(new URL('../../../examples/multi-node/run.mjs', import.meta.url));

test('examples/multi-node runs: remote actor, remote tool, three distributed runs, exit 0', skipWithoutNats(), async () => {
  const child = spawn(process.execPath, [RUN], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_TEST_CONTEXT: '' } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, out.slice(-4000));
  assert.match(out, /asked the remote stock actor/);
  assert.match(out, /called the remote tool stock\.reserve/);
  assert.match(out, /a reservation over the stock fails on the warehouse/);
  assert.equal(out.match(/clerk run completed/g)?.length, 3);
  assert.match(out, /shop done: 3 orders; 5 of A-1 left/);
});
