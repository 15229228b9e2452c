/** The parts of plugin CLI commands that need no process: argument handling and partial kernels. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { commandProblems, extractConfigFlag, partialConfig, pluginCommands } from '../../kernel/cli/pluginCommands.js';
import { loadSystem } from '../../kernel/cli/readConfig.js';
import { deepMerge } from '../../kernel/merge.js';
import { ConfigError } from '../../index.js';

const config = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'e2e', 'fixtures', 'commander.json');

test('--config is taken out of a command line in both forms, and never after --', () => {
  assert.deepEqual(extractConfigFlag(['a', '--config', 'x.json', '-v']), { config: 'x.json', rest: ['a', '-v'] });
  assert.deepEqual(extractConfigFlag(['--config=y.json', 'b']), { config: 'y.json', rest: ['b'] });
  assert.deepEqual(extractConfigFlag(['--', '--config', 'z']), { config: undefined, rest: ['--', '--config', 'z'] });
});

test('deepMerge merges plain objects key by key and replaces everything else', () => {
  assert.deepEqual(deepMerge({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2], e: 3 } }), { a: { b: 1, c: [2], e: 3 }, d: 1 });
});

test('partialConfig keeps the named plugins and what they depend on, in config order, options merged', async () => {
  const system = await loadSystem(config);
  const raw = partialConfig(system, { only: ['commander'], options: { commander: { punctuation: { mark: '?' } } } });
  const plugins = raw.plugins as Array<Record<string, unknown>>;
  assert.deepEqual(plugins.map((p) => p.use), ['./helper.plugin.ts', './commander.plugin.ts']);
  assert.deepEqual(plugins[1]!.options, { greeting: 'hej', punctuation: { mark: '?' } });
  assert.equal((partialConfig(system, {}).plugins as unknown[]).length, 3);
});

test('partialConfig names an unknown plugin in `only` or in `options`', async () => {
  const system = await loadSystem(config);
  assert.throws(() => partialConfig(system, { only: ['nope'] }), (e: unknown) => e instanceof ConfigError && /no plugin named 'nope'.*loaded: helper, commander, forever/.test(e.message));
  assert.throws(() => partialConfig(system, { only: ['helper'], options: { commander: {} } }), /'commander' is not among the plugins started \(helper\)/);
});

test('two plugins adding one command, or a plugin command hidden by a built-in, are problems', async () => {
  const system = await loadSystem(config);
  const [commander] = system.plugins.filter((p) => p.name === 'commander');
  const twice = [commander!, { ...commander!, name: 'commander-2' }];
  assert.equal(pluginCommands(twice).get('greet')!.length, 2);
  const problems = commandProblems(twice, ['fail']);
  assert.ok(problems.some((p) => /command 'greet' is added by 2 plugins \('commander', 'commander-2'\)/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /adds command 'fail', which a built-in command of the same name hides/.test(p)), problems.join('\n'));
});
