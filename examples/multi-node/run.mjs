#!/usr/bin/env node
// Runs the example: a nats-server with JetStream (free port, temp store), the warehouse node, and
// the shop node with --once; stops the warehouse when the shop is done. Exit code: the shop's.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../../bin/mister-smith.js');
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const store = mkdtempSync(path.join(tmpdir(), 'ms-multi-node-'));
const server = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
server.on('error', (error) => {
  console.error(`cannot start nats-server (${error.message}); install it: apt-get install -y nats-server`);
  process.exit(1);
});
// Ready when it accepts a TCP connection (the nodes' clients retry their first connect anyway).
for (let i = 0; ; i++) {
  const ok = await new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => (c.end(), resolve(true))).on('error', () => resolve(false));
  });
  if (ok) break;
  if (i > 400) throw new Error('nats-server did not come up');
  await new Promise((r) => setTimeout(r, 25));
}
const env = { ...process.env, MISTER_SMITH__PLUGINS__NATS__SERVERS: `nats://127.0.0.1:${port}` };
const node = (config, args = []) => spawn(process.execPath, [bin, 'start', path.join(here, config), ...args], { stdio: 'inherit', env });
const warehouse = node('warehouse.config.json');
const shop = node('shop.config.json', ['--once']);
const code = await new Promise((resolve) => shop.on('exit', (c) => resolve(c ?? 1)));
warehouse.kill('SIGTERM');
await new Promise((resolve) => warehouse.on('exit', resolve));
server.kill('SIGTERM');
await new Promise((resolve) => server.on('exit', resolve));
rmSync(store, { recursive: true, force: true });
process.exit(code);
