/** The README's first example: one agent, one tool, started by the CLI, prints the agent's reply. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { root } from './support/researchTeam.js';

test('examples/hello-agent: start --once asks the agent, which calls clock.now and replies', { timeout: 60_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'bin', 'mister-smith.js'), 'start', path.join(root, 'examples', 'hello-agent', 'mister-smith.config.json'), '--once'], {
    cwd: root,
    timeout: 50_000,
    env: { ...process.env, NODE_TEST_CONTEXT: '' },
  });
  assert.match(stdout, /^you:\s+Hello! What time is it\?$/m);
  assert.match(stdout, /tool\s+clock\.now\(\{\}\) → \{"iso":"\d{4}-\d\d-\d\dT/);
  assert.match(stdout, /^assistant: Hello!/m);
  assert.match(stdout, /2 model turns, 1 tool call, 129 tokens/);
});
