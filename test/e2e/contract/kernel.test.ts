/**
 * The kernel's public contract (§2 of the project's design): config loading and env overrides, lifecycle, deadlines, hooks, faults.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { createKernel, loadConfig } from '../../../index.js';
import { ConfigError, definePlugin, MisterSmithError } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import { root, designConfig, silent, withEnv, rejectsWithCode, fillUntilFull } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// §2 Kernel
// ---------------------------------------------------------------------------------------------

describe('§2 kernel', () => {
  test('the §2 snippet: createKernel({ config: await loadConfig(path) }), start, resolve, stop', async () => {
    await withEnv({ MISTER_SMITH_LOG_LEVEL: 'silent' }, async () => {
      const kernel = await createKernel({ config: await loadConfig(designConfig) });
      assert.equal(kernel.state, 'created');
      const seen: string[] = [];
      kernel.hooks.beforeStart.tapPromise('design', async () => void seen.push(kernel.state));
      kernel.hooks.beforeStop.tapPromise('design', async () => void seen.push(kernel.state));
      await kernel.start(); // created → starting → running
      assert.equal(kernel.state, 'running');
      const actors = kernel.resolve('actors'); // a service some plugin provided
      assert.equal(typeof actors.spawn, 'function');
      // `use` relative to the config file: ./plugins/my-plugin.ts loaded and running.
      const mine = kernel.resolve('my-plugin');
      assert.equal(mine.label, 'mine');
      assert.equal(await mine.ref.ask('x'), 'mine:x');
      // `{ "use": "some-npm-package", "enabled": false }` is skipped, not an error.
      assert.equal(kernel.tryResolve('some-npm-package'), undefined);
      const first = kernel.stop('reason'); // running → stopping → stopped (idempotent)
      const second = kernel.stop('again');
      assert.equal(first, second, 'a second stop() returns the same promise');
      await first;
      assert.equal(kernel.state, 'stopped');
      assert.deepEqual(seen, ['starting', 'stopping']);
    });
  });

  test('MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY=10 takes effect', async () => {
    const capacityOf = async (env: Record<string, string>): Promise<number> =>
      withEnv({ MISTER_SMITH_LOG_LEVEL: 'silent', ...env }, async () => {
        const kernel = await createKernel({ config: await loadConfig(designConfig) });
        await kernel.start();
        try {
          let release!: () => void;
          const gate = new Promise<void>((resolve) => (release = resolve));
          const ref = kernel.resolve('actors').spawn<unknown, unknown>({ receive: () => gate });
          const { accepted, error } = fillUntilFull(ref, 5_000);
          release();
          if (error !== undefined) assert.equal((error as MisterSmithError).code, 'ACTOR_MAILBOX_FULL');
          return accepted;
        } finally {
          await kernel.stop('done');
        }
      });
    const overridden = await capacityOf({ MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '10' });
    assert.ok(overridden >= 10 && overridden <= 11, `capacity 10 accepts 10 (+1 being handled), accepted ${overridden}`);
    const fromFile = await capacityOf({});
    assert.ok(fromFile >= 1000 && fromFile <= 1001, `the config's capacity 1000, accepted ${fromFile}`);
  });

  test('MISTER_SMITH__<path> overrides any other key (loadConfig)', async () => {
    const config = await loadConfig(designConfig, { MISTER_SMITH__SHUTDOWN_TIMEOUT_MS: '5000', MISTER_SMITH_LOG_LEVEL: 'debug' });
    assert.equal(config.shutdownTimeoutMs, 5000);
    assert.equal(config.log?.level, 'debug');
  });

  test('a .ts config module (default export) loads too', async () => {
    const config = await loadConfig(path.join(root, 'test', 'e2e', 'fixtures', 'typescript.config.ts'));
    assert.ok(Array.isArray(config.plugins));
    assert.equal(config.configPath, path.join(root, 'test', 'e2e', 'fixtures', 'typescript.config.ts'));
  });

  test('logs: one pino child logger per plugin, bound to { plugin: name }', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const talker = definePlugin({ name: 'talker', version: '1.0.0', setup: (ctx) => ctx.logger.info('hello from talker') });
    const kernel = await createKernel({ config: { plugins: [talker] }, logger });
    await kernel.start();
    await kernel.stop('done');
    assert.equal(lines.find((l) => l.msg === 'hello from talker')?.plugin, 'talker');
  });

  test('stop: an onStop that hangs is cut off at its share of shutdownTimeoutMs, the rest still stop', async () => {
    const stopped: string[] = [];
    let sawAbort = false;
    const hangs = definePlugin({
      name: 'hangs',
      version: '1.0.0',
      setup: (ctx) =>
        ctx.onStop((signal) => new Promise<void>(() => signal.addEventListener('abort', () => void (sawAbort = true)))),
    });
    const polite = definePlugin({ name: 'polite', version: '1.0.0', setup: (ctx) => ctx.onStop(() => void stopped.push('polite')) });
    const kernel = await createKernel({ config: { shutdownTimeoutMs: 200, plugins: [polite, hangs] }, logger: silent() });
    await kernel.start();
    const began = Date.now();
    const report = await kernel.stop('deadline');
    assert.ok(Date.now() - began < 2_000, 'stop met its deadline');
    assert.ok(sawAbort, 'the hanging handler got its signal aborted');
    assert.deepEqual(stopped, ['polite']);
    assert.equal(kernel.state, 'stopped');
    assert.ok(report.errors.some((e) => /hangs/.test(e.message)), report.errors.map((e) => e.message).join('; '));
  });

  test('config problems are reported as `path: message`', async () => {
    const error = await rejectsWithCode(
      createKernel({
        config: { plugins: ['supervision', { use: 'actors', options: { mailbox: { capacity: 'lots' } } }] },
        logger: silent(),
      }),
      'CONFIG_INVALID',
    );
    assert.ok(error instanceof ConfigError);
    assert.ok(
      error.problems.some((p) => /^plugins\[1\]\.options\.mailbox\.capacity: expected number/.test(p)),
      error.problems.join('\n'),
    );
  });

  test('loading: missing dependency names who needs it; cycle prints a → b → a; duplicate names; nothing runs', async () => {
    let sideEffects = 0;
    const mk = (name: string, dependsOn: string[] = [], optionalDependsOn: string[] = []) =>
      definePlugin({ name, version: '1.0.0', dependsOn, optionalDependsOn, setup: () => void sideEffects++ });
    const missing = await rejectsWithCode(createKernel({ config: { plugins: [mk('needy', ['ghost'])] }, logger: silent() }), 'CONFIG_INVALID');
    assert.match(missing.message, /needy/);
    assert.match(missing.message, /ghost/);
    const cycle = await rejectsWithCode(createKernel({ config: { plugins: [mk('a', ['b']), mk('b', ['a'])] }, logger: silent() }), 'CONFIG_INVALID');
    assert.match(cycle.message, /(a → b → a|b → a → b)/);
    const dup = await rejectsWithCode(createKernel({ config: { plugins: [mk('twin'), mk('twin')] }, logger: silent() }), 'CONFIG_INVALID');
    assert.match(dup.message, /twin/);
    assert.equal(sideEffects, 0, 'no plugin code ran');
  });

  test('loading orders plugins topologically by dependsOn and optionalDependsOn', async () => {
    const order: string[] = [];
    const mk = (name: string, dependsOn: string[] = [], optionalDependsOn: string[] = []) =>
      definePlugin({
        name,
        version: '1.0.0',
        dependsOn,
        optionalDependsOn,
        setup(ctx) {
          order.push(name);
          ctx.onStart(() => void order.push(`start ${name}`));
        },
      });
    const kernel = await createKernel({
      config: { plugins: [mk('c', ['b'], ['absent']), mk('b', [], ['a']), mk('a')] },
      logger: silent(),
    });
    await kernel.start();
    await kernel.stop('done');
    // every setup (registration only) first, then the onStart handlers, both in dependency order
    assert.deepEqual(order, ['a', 'b', 'c', 'start a', 'start b', 'start c']);
  });

  test('start failure: stops what started in reverse order, state failed, names the plugin and cause', async () => {
    const log: string[] = [];
    const ok = (name: string) =>
      definePlugin({
        name,
        version: '1.0.0',
        setup(ctx) {
          ctx.onStart(async () => void log.push(`start ${name}`));
          ctx.onStop(async () => void log.push(`stop ${name}`));
        },
      });
    const bad = definePlugin({
      name: 'exploder',
      version: '1.0.0',
      dependsOn: ['one', 'two'],
      setup(ctx) {
        ctx.onStart(async () => {
          throw new Error('boom at start');
        });
      },
    });
    const kernel = await createKernel({ config: { plugins: [ok('one'), ok('two'), bad] }, logger: silent() });
    await assert.rejects(kernel.start(), (error: Error) => /exploder/.test(error.message) && /boom at start/.test(`${error.message} ${String(error.cause)}`));
    assert.equal(kernel.state, 'failed');
    assert.deepEqual(log, ['start one', 'start two', 'stop two', 'stop one']);
  });

  test('start deadline: an onStart past startTimeoutMs fails with its signal aborted', async () => {
    let aborted = false;
    const slow = definePlugin({
      name: 'slow',
      version: '1.0.0',
      setup(ctx) {
        ctx.onStart(
          (signal) =>
            new Promise<void>((resolve) =>
              signal.addEventListener('abort', () => {
                aborted = true;
                resolve();
              }),
            ),
        );
      },
    });
    const kernel = await createKernel({ config: { startTimeoutMs: 50, plugins: [slow] }, logger: silent() });
    await assert.rejects(kernel.start(), /slow/);
    assert.equal(kernel.state, 'failed');
    assert.ok(aborted, 'the onStart signal was aborted at the deadline');
  });

  test('stop: onStop in reverse order, errors collected without skipping the rest', async () => {
    const log: string[] = [];
    const p = (name: string, fail = false) =>
      definePlugin({
        name,
        version: '1.0.0',
        setup(ctx) {
          ctx.onStop(async () => {
            log.push(name);
            if (fail) throw new Error(`${name} failed to stop`);
          });
        },
      });
    const kernel = await createKernel({ config: { plugins: [p('first'), p('second', true), p('third')] }, logger: silent() });
    await kernel.start();
    const report = await kernel.stop('bye');
    assert.deepEqual(log, ['third', 'second', 'first']);
    assert.equal(kernel.state, 'stopped');
    assert.equal(report.errors.length, 1);
    assert.match(String(report.errors[0]?.message), /second/);
  });

  test('stop() of a kernel that never started ends in stopped', async () => {
    const kernel = await createKernel({ config: { plugins: ['supervision'] }, logger: silent() });
    await kernel.stop('never started');
    assert.equal(kernel.state, 'stopped');
  });

  test('hooks: loaded, beforeStart, started, beforeStop, stopped, fault, metricsBackend', async () => {
    const kernel = await createKernel({ config: { plugins: ['supervision'] }, logger: silent() });
    const hooks = kernel.hooks;
    const seen: string[] = [];
    hooks.loaded.tap('t', (plugins) => void seen.push(`loaded:${plugins.length}`));
    for (const name of ['beforeStart', 'started', 'beforeStop', 'stopped'] as const) hooks[name].tapPromise('t', async () => void seen.push(name));
    assert.equal(typeof hooks.fault.tapPromise, 'function');
    assert.equal(typeof hooks.metricsBackend.tap, 'function');
    await kernel.start();
    await kernel.stop('done');
    assert.deepEqual(seen, ['loaded:1', 'beforeStart', 'started', 'beforeStop', 'stopped']);
  });

  test('faults: reportFault → hooks.fault; a tap decides; with no decision a critical fault stops the kernel', async () => {
    const kernel = await createKernel({ config: { plugins: [] }, logger: silent() });
    await kernel.start();
    const faults: string[] = [];
    kernel.hooks.fault.tapPromise('recovery', async (fault) => {
      faults.push(fault.severity);
      return fault.severity === 'low' ? 'ignore' : undefined;
    });
    assert.equal(await kernel.reportFault({ error: new Error('meh'), severity: 'low' }), 'ignore');
    await kernel.reportFault(Object.assign(new Error('a plain error'), { code: 'ECONNRESET' })); // classified: network, low
    assert.equal(kernel.state, 'running');
    await kernel.reportFault({ error: new Error('meltdown'), severity: 'critical' });
    for (let i = 0; i < 200 && (kernel.state as string) !== 'stopped'; i++) await delay(5);
    assert.equal(kernel.state as string, 'stopped', 'a critical fault with no decision stops the kernel');
    assert.equal(kernel.exitCode, 1);
    assert.deepEqual(faults, ['low', 'low', 'critical']);

    const other = await createKernel({ config: { plugins: [] }, logger: silent() });
    await other.start();
    other.hooks.fault.tapPromise('stopper', async () => 'stop');
    assert.equal(await other.reportFault({ error: new Error('enough'), severity: 'medium' }), 'stop');
    for (let i = 0; i < 200 && (other.state as string) !== 'stopped'; i++) await delay(5);
    assert.equal(other.state as string, 'stopped', "a 'stop' decision stops the kernel");
    const third = await createKernel({ config: { plugins: [] }, logger: silent() });
    await third.start();
    await third.reportFault({ error: new Error('just a warning'), severity: 'medium' });
    await delay(10);
    assert.equal(third.state, 'running', 'a non-critical fault with no decision is only logged');
    await third.stop('done');
  });

  test('several kernels live in one process, each with its own container', async () => {
    const a = await createTestKernel({ plugins: ['supervision', 'actors'], config: {} });
    const b = await createTestKernel({ plugins: ['supervision', 'actors'], config: {} });
    try {
      assert.notEqual(a.resolve('actors'), b.resolve('actors'));
      a.resolve('actors').spawn({ receive: () => 1 }, { name: 'same-name' });
      b.resolve('actors').spawn({ receive: () => 2 }, { name: 'same-name' });
    } finally {
      await a.stop('done');
      await b.stop('done');
    }
  });
});
