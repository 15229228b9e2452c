import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'diskfull.ts');

test('health turns unhealthy while writes fail (file too large, as on a full disk), recovers after a success; failures log one line with a count', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  // bash counts ulimit -f in KiB: the log may grow to 256 KiB.
  const child = spawn('bash', ['-c', `ulimit -f 256 && exec "${process.execPath}" --import tsx "${fixture}" "${dir}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not finish; stdout: ${stdout} stderr: ${stderr}`));
    }, 50_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  const step = (name: string) => lines.find((l) => l.step === name)!;
  const full = step('full');
  assert.ok(full.ok > 10, `wrote ${full.ok} events before the limit`);
  assert.equal(full.firstError, 'EVENT_STORE_FAILED');
  assert.equal(full.health.status, 'unhealthy');
  assert.match(full.health.message, /last publish failed.*EFBIG|last publish failed.*too large/i);
  const failing = step('failing');
  assert.equal(failing.rejected, 50);
  assert.equal(failing.health.status, 'unhealthy');
  const recovered = step('recovered');
  assert.equal(recovered.sequence, full.ok + 1);
  assert.equal(recovered.health.status, 'healthy');
  const errors = lines.filter((l) => l.log === 'error');
  assert.equal(errors.length, 1, `51 failed writes logged ${errors.length} error lines: ${JSON.stringify(errors)}`);
  const back = lines.filter((l) => l.log === 'info' && /succeed again/.test(l.msg));
  assert.equal(back.length, 1);
  assert.equal(back[0]!.failures, 51);
});
