import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventBus, FileStore } from '../../../plugins/events/index.js';
import { tempDir } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'publisher.ts');

test('kill -9 of a process publishing with fsync batch: every resolved publish survives, sequences continue without gaps', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const printed = new Set<number>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let buffered = '';
  const killed = new Promise<NodeJS.Signals | null>((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not publish enough in time; stderr: ${stderr}`));
    }, 45_000);
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (/^\d+$/.test(line)) printed.add(Number(line));
      if (printed.size >= 3000 && child.signalCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(deadline);
      resolve(signal);
    });
  });
  assert.equal(await killed, 'SIGKILL');
  // Lines printed before the kill landed but read after it still count: they were resolved.
  for (const line of buffered.split('\n')) if (/^\d+$/.test(line)) printed.add(Number(line));
  assert.ok(printed.size >= 3000);

  const bus = new EventBus({ store: new FileStore({ dir }) });
  const report = await bus.start();
  t.after(() => bus.stop());
  const stored: number[] = [];
  for await (const e of bus.replay()) stored.push(e.sequence);
  assert.deepEqual(stored, Array.from({ length: stored.length }, (_, i) => i + 1), 'no gaps, no duplicates');
  const maxPrinted = Math.max(...printed);
  assert.ok(stored.length >= maxPrinted, `printed up to ${maxPrinted} but only ${stored.length} stored (repairs: ${JSON.stringify(report.repairs)})`);
  for (const seq of printed) assert.ok(seq <= stored.length, `resolved sequence ${seq} is missing`);
  const next = await bus.publish({ type: 'after.crash', source: 'test' });
  // A torn tail (cut on open) moves the count above every sequence that reached the disk.
  if (report.repairs.length === 0) assert.equal(next.sequence, stored.length + 1);
  else assert.ok(next.sequence > stored.length, `after a repair the log continues above ${stored.length}, got ${next.sequence}`);
});
