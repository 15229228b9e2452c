import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const config = fileURLToPath(new URL('./fixtures/crashing-tree.config.json', import.meta.url));

test('under the CLI, a root tree exceeding its intensity stops the kernel with exit code 1', async () => {
  const child = spawn(process.execPath, ['bin/mister-smith.js', 'start', config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 1, `exit code (output: ${output.slice(-2000)})`);
  assert.match(output, /SUPERVISION_INTENSITY_EXCEEDED/);
  assert.match(output, /"decision":"stop"/);
});
