/** The main job: `npm start` runs the quickstart system to completion and exits 0. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the quickstart runs every built-in plugin from its config and stops cleanly', { timeout: 120_000 }, async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(root, 'bin', 'mister-smith.js'), 'start', path.join(root, 'examples', 'quickstart', 'mister-smith.config.json'), '--once'],
    { cwd: root, timeout: 90_000 },
  );
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const done = lines.find((l) => l.msg === 'quickstart done');
  assert.ok(done, `quickstart finished:\n${stdout}`);
  assert.equal(done.health, 'healthy');
  assert.ok((done.metricSeries as number) > 0, 'metrics were scraped');
  assert.ok((done.toolEvents as number) > 0, 'tool calls were published as events');
  assert.equal(lines.find((l) => l.msg === 'calculator summed the numbers')?.sum, 31);
  assert.deepEqual(lines.find((l) => l.msg === 'the squarer pool answered')?.squares, [4, 9, 25, 64, 169]);
  assert.equal(lines.find((l) => l.msg === 'the calculator agent replied')?.output, 'The sum is 5.');
  assert.equal(lines.find((l) => l.msg === 'fs.read without a grant is refused')?.denied, 'TOOL_ACCESS_DENIED');
  const stopped = lines.find((l) => l.msg === 'stopped');
  assert.equal(stopped?.errors, 0);
});
