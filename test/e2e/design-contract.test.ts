/**
 * DESIGN.md §2–§4, as written: every snippet, name, shape and stated behaviour of the public API,
 * used exactly as the contract spells it (option names, method names, argument shapes, return
 * fields, error codes). When this file and DESIGN.md disagree, the code is wrong.
 *
 * Sources are imported here (the tree runs under tsx); the package-name imports (`mister-smith`,
 * `mister-smith/sdk`, `mister-smith/testing`, `mister-smith/plugins/<name>`) and the CLI are
 * exercised in child processes at the end, against a fresh `dist/`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { createKernel, loadConfig } from '../../index.js';
import {
  ActorError,
  AgentError,
  classify,
  ConfigError,
  definePlugin,
  EventError,
  KernelError,
  MisterSmithError,
  NetworkError,
  PersistenceError,
  ResilienceError,
  ResourceError,
  StreamError,
  SupervisionError,
  TaskError,
  ToolError,
  z,
} from '../../sdk/index.js';
import type { Logger, PluginContext } from '../../sdk/index.js';
import { checkPluginConformance, createTestKernel } from '../../testing/index.js';
import type { ActorRef, ActorSystem } from '../../plugins/actors/types.js';
import type { ChildHandle, ChildSpec } from '../../plugins/supervision/types.js';
import { toCloudEvent } from '../../plugins/events/index.js';
import type { StoredEvent } from '../../plugins/events/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const designDir = path.join(root, 'test', 'e2e', 'fixtures', 'design');
const designConfig = path.join(designDir, 'mister-smith.config.json');
const run = promisify(execFile);
const silent = (): Logger => pino({ level: 'silent' });

/** Runs `fn` with some environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function rejectsWithCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<MisterSmithError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MisterSmithError, `expected a MisterSmithError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Fills an actor's mailbox until `tell` throws; returns how many messages it accepted. */
function fillUntilFull(ref: ActorRef<unknown, unknown>, limit: number): { accepted: number; error: unknown } {
  for (let i = 0; i < limit; i++) {
    try {
      ref.tell(i);
    } catch (error) {
      return { accepted: i, error };
    }
  }
  return { accepted: limit, error: undefined };
}

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

// ---------------------------------------------------------------------------------------------
// §3 SDK
// ---------------------------------------------------------------------------------------------

/** The `Greeter` of the §3 snippet: the user's own class. */
class Greeter {
  constructor(
    readonly options: { greeting: string },
    readonly actors: ActorSystem,
    readonly logger: Logger,
  ) {}
  ref: ActorRef<string, string> | undefined;
  started = false;
  stopped = false;
  greet(name: string): Promise<string> {
    return this.ref!.ask(name);
  }
}

const lifecycle: string[] = [];

// DESIGN §3, verbatim but for what the comments leave to the author.
const options = z.object({ greeting: z.string().default('hello') });
const greeter = definePlugin({
  name: 'greeter', version: '1.0.0',
  dependsOn: ['actors'], optionalDependsOn: ['health'],
  options: z.object({ greeting: z.string().default('hello') }),
  setup(ctx) {                                  // ctx: PluginContext<typeof options>
    const actors = ctx.resolve('actors');
    ctx.provide('greeter', new Greeter(ctx.options, actors, ctx.logger));
    ctx.onStart(async (signal) => {
      assert.ok(signal instanceof AbortSignal);
      const g = ctx.resolve('greeter');
      g.ref = actors.spawn<string, string>({ receive: (name) => `${ctx.options.greeting}, ${name}` });
      g.started = true;
      lifecycle.push('greeter start');
    });
    ctx.onStop(async (signal) => {
      assert.ok(signal instanceof AbortSignal);
      ctx.resolve('greeter').stopped = true;
      lifecycle.push('greeter stop');
    });
    ctx.tryResolve('health')?.register('greeter', () => ({ status: 'healthy' }));
  },
});
// `ctx: PluginContext<typeof options>` type-checks as the snippet's comment says.
const _typed: (ctx: PluginContext<typeof options>) => void = (ctx) => void ctx.options.greeting.toUpperCase();
void _typed;

declare module '../../sdk/index.js' {
  interface Services {
    greeter: Greeter;
    probe: { ctx: PluginContext };
  }
}

describe('§3 SDK', () => {
  test('the greeter plugin of §3 runs as written, options defaulted, with and without health', async (t) => {
    lifecycle.length = 0;
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors', 'health', greeter], test: t });
    const g = kernel.resolve('greeter');
    assert.ok(g instanceof Greeter);
    assert.equal(g.options.greeting, 'hello');
    assert.equal(await g.greet('Ada'), 'hello, Ada');
    const report = await kernel.resolve('health').run();
    assert.equal(report.checks.greeter?.status, 'healthy');
    await kernel.stop('done');
    assert.ok(g.stopped);
    assert.deepEqual(lifecycle, ['greeter start', 'greeter stop']);

    const without = await createTestKernel({
      plugins: ['supervision', 'actors', { use: greeter, options: { greeting: 'hi' } }],
      test: t,
    });
    assert.equal(await without.resolve('greeter').greet('Bob'), 'hi, Bob');
    assert.equal(without.tryResolve('health'), undefined);
  });

  test('the greeter needs actors: a missing required dependency is a config error naming both', async () => {
    const error = await rejectsWithCode(createKernel({ config: { plugins: [greeter] }, logger: silent() }), 'CONFIG_INVALID');
    assert.match(error.message, /greeter/);
    assert.match(error.message, /actors/);
  });

  test('PluginContext has options, name, logger, metrics, hooks, provide, resolve, tryResolve, onStart, onStop, track, reportFault, signal', async (t) => {
    let disposed = 0;
    let tracked: Promise<number> | undefined;
    const probe = definePlugin({
      name: 'probe',
      version: '1.0.0',
      options: z.object({ n: z.number().default(7) }),
      async setup(ctx) {
        ctx.provide('probe', { ctx });
        // provide returns a disposer: everything a plugin registers can be undone.
        const dispose = ctx.provide('temporary', { x: 1 });
        assert.equal(typeof dispose, 'function');
        await dispose();
        disposed++;
        ctx.onStart(() => {
          tracked = ctx.track(Promise.resolve(42));
        });
      },
    });
    const kernel = await createTestKernel({ plugins: [probe], test: t });
    const { ctx } = kernel.resolve('probe');
    assert.deepEqual(ctx.options, { n: 7 });
    assert.equal(ctx.name, 'probe');
    for (const fn of ['info', 'warn', 'error', 'debug', 'child'] as const) assert.equal(typeof ctx.logger[fn], 'function');
    for (const fn of ['counter', 'gauge', 'histogram'] as const) assert.equal(typeof ctx.metrics[fn], 'function');
    assert.equal(ctx.hooks, kernel.hooks);
    for (const fn of ['provide', 'resolve', 'tryResolve', 'onStart', 'onStop', 'track', 'reportFault'] as const) assert.equal(typeof ctx[fn], 'function');
    assert.equal(disposed, 1);
    assert.equal(kernel.tryResolve('temporary'), undefined, 'a disposed service is gone');
    assert.equal(await tracked, 42);
    assert.equal(typeof (await ctx.reportFault({ error: new Error('x'), severity: 'low' })), 'undefined');
    assert.ok(ctx.signal instanceof AbortSignal);
    assert.equal(ctx.signal.aborted, false);
    await kernel.stop('done');
    assert.equal(ctx.signal.aborted, true, 'ctx.signal is aborted when stopping');
  });

  test('errors: MisterSmithError { code, kind, severity, retryable, retryAfterMs?, cause, context } and subclasses per kind', () => {
    const cause = new Error('root');
    const e = new ActorError('ACTOR_MAILBOX_FULL', 'full', { cause, context: { actor: 'a1' }, retryAfterMs: 10 });
    assert.ok(e instanceof MisterSmithError && e instanceof Error);
    assert.equal(e.code, 'ACTOR_MAILBOX_FULL');
    assert.equal(e.kind, 'actor');
    assert.ok(['low', 'medium', 'high', 'critical'].includes(e.severity));
    assert.equal(typeof e.retryable, 'boolean');
    assert.equal(e.retryAfterMs, 10);
    assert.equal(e.cause, cause);
    assert.deepEqual(e.context, { actor: 'a1' });
    assert.equal(new ToolError('TOOL_ACCESS_DENIED', 'no').kind, 'tool');
    assert.equal(new ConfigError('CONFIG_INVALID', 'bad').kind, 'configuration');
    const kinds: Array<[new (code: string, message: string) => MisterSmithError, string]> = [
      [KernelError, 'runtime'], [SupervisionError, 'supervision'], [ResourceError, 'resource'], [NetworkError, 'network'],
      [PersistenceError, 'persistence'], [StreamError, 'stream'], [TaskError, 'task'], [EventError, 'event'],
      [ResilienceError, 'resilience'], [AgentError, 'agent'],
    ];
    for (const [Cls, kind] of kinds) assert.equal(new Cls('X', 'x').kind, kind);
  });

  test('classify maps anything thrown, Node system errors included, with the seed table', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const c = classify(reset);
    assert.equal(c.kind, 'network');
    assert.equal(c.severity, 'low');
    assert.equal(c.retryable, true);
    assert.equal(c.recovery.action, 'circuit-breaker');
    const table: Array<[string, string, string]> = [
      ['runtime', 'critical', 'restart'], ['supervision', 'high', 'escalate'], ['resource', 'medium', 'retry'],
      ['network', 'low', 'circuit-breaker'], ['configuration', 'medium', 'reload'], ['persistence', 'high', 'failover'],
    ];
    for (const [kind, severity, action] of table) {
      const k = classify(new MisterSmithError('X', 'x', { kind: kind as never }));
      assert.equal(k.severity, severity, kind);
      assert.equal(k.recovery.action, action, kind);
    }
    assert.equal(classify('a string').kind, 'unknown');
    assert.equal(classify(new ActorError('ACTOR_MAILBOX_FULL', 'full')).code, 'ACTOR_MAILBOX_FULL');
  });

  test('metrics facade: counter|gauge|histogram({ name, help, labelNames }) → inc, set, observe; a backend gets metrics defined before it', async (t) => {
    const metered = definePlugin({
      name: 'metered',
      version: '1.0.0',
      setup(ctx) {
        const calls = ctx.metrics.counter({ name: 'design_calls_total', help: 'calls', labelNames: ['kind'] });
        const depth = ctx.metrics.gauge({ name: 'design_depth', help: 'depth', labelNames: [] });
        const latency = ctx.metrics.histogram({ name: 'design_latency_seconds', help: 'latency', labelNames: [] });
        ctx.onStart(() => {
          calls.inc({ kind: 'a' });
          calls.inc({ kind: 'a' }, 2);
          depth.set(5);
          latency.observe(0.25);
        });
      },
    });
    const kernel = await createTestKernel({ plugins: [metered], test: t });
    assert.equal(kernel.recordedMetrics.value('design_calls_total', { kind: 'a' }), 3);
    assert.equal(kernel.recordedMetrics.value('design_depth'), 5);
    assert.deepEqual(kernel.recordedMetrics.observations('design_latency_seconds'), [0.25]);
  });

  test('metrics with no backend cost a no-op call', async () => {
    const kernel = await createKernel({
      config: {
        plugins: [
          definePlugin({
            name: 'lonely',
            version: '1.0.0',
            setup(ctx) {
              const c = ctx.metrics.counter({ name: 'lonely_total', help: 'h', labelNames: [] });
              c.inc();
              ctx.metrics.gauge({ name: 'lonely_g', help: 'h', labelNames: [] }).set(1);
              ctx.metrics.histogram({ name: 'lonely_h', help: 'h', labelNames: [] }).observe(1);
            },
          }),
        ],
      },
      logger: silent(),
    });
    await kernel.start();
    await kernel.stop('done');
  });

  test('createTestKernel({ plugins, config }) returns a started kernel, stopped after the test', async () => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], config: { shutdownTimeoutMs: 2000 } });
    assert.equal(kernel.state, 'running');
    stoppedAfterTest = kernel;
  });
  let stoppedAfterTest: { state: string } | undefined;
  test('… and the previous test\'s kernel was stopped once that test ended', () => {
    assert.equal(stoppedAfterTest?.state, 'stopped');
  });

  test('every built-in plugin passes checkPluginConformance(plugin) on its defaults', async () => {
    const names = (await import('../../kernel/index.js')).builtinPluginNames();
    assert.ok(names.length >= 15, names.join(', '));
    for (const name of names) {
      const plugin = ((await import(`../../plugins/${name}/index.js`)) as { default: Parameters<typeof checkPluginConformance>[0] }).default;
      await checkPluginConformance(plugin);
    }
  });

  test('checkPluginConformance(plugin, options?) passes the greeter and fails a leaky plugin', async () => {
    await checkPluginConformance(greeter, { with: ['supervision', 'actors'] });
    // Without `with`, the built-in plugins it depends on (actors → supervision) are loaded for it.
    await checkPluginConformance(greeter);
    await checkPluginConformance(greeter, { options: { greeting: 'hi' } });
    let timer: NodeJS.Timeout | undefined;
    const leaky = definePlugin({
      name: 'leaky',
      version: '1.0.0',
      setup(ctx) {
        ctx.onStart(() => void (timer = setInterval(() => {}, 1000)));
      },
    });
    try {
      await assert.rejects(checkPluginConformance(leaky), /leaky/);
    } finally {
      clearInterval(timer);
    }
    const badDefaults = definePlugin({ name: 'strict', version: '1.0.0', options: z.object({ required: z.string() }), setup() {} });
    await assert.rejects(checkPluginConformance(badDefaults), /strict/);
  });
});

// ---------------------------------------------------------------------------------------------
// §4 Built-in plugins
// ---------------------------------------------------------------------------------------------

describe('§4 supervision', () => {
  test('supervision.start(spec) with ChildSpecs; start(ctx) gets { id, restartCount, signal, heartbeat }; Supervisor API', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision'], test: t });
    const supervision = kernel.resolve('supervision');
    const starts: Array<{ id: string; restartCount: number }> = [];
    const stopOrder: string[] = [];
    const crashers = new Map<string, (error: Error) => void>();
    const child = (id: string, extra: Partial<ChildSpec> = {}): ChildSpec => ({
      id,
      restart: 'permanent',
      shutdown: 1000,
      type: 'worker',
      backoff: { initialMs: 1, factor: 2, maxMs: 10, jitter: 0.1 },
      start(ctx): ChildHandle {
        assert.equal(ctx.id, id);
        assert.ok(ctx.signal instanceof AbortSignal);
        assert.equal(typeof ctx.heartbeat, 'function');
        starts.push({ id: ctx.id, restartCount: ctx.restartCount });
        let end!: () => void;
        let fail!: (error: Error) => void;
        const exited = new Promise<unknown>((resolve, reject) => {
          end = () => resolve(undefined);
          fail = reject;
        });
        crashers.set(id, fail);
        return {
          exited,
          async stop() {
            stopOrder.push(id);
            end();
          },
        };
      },
      ...extra,
    });
    const sup = await supervision.start({ id: 'root', strategy: 'one-for-one', intensity: 5, periodMs: 60_000, children: [child('a'), child('b')] });
    for (const m of ['startChild', 'terminateChild', 'restartChild', 'deleteChild', 'whichChildren', 'countChildren', 'stop'] as const) {
      assert.equal(typeof sup[m], 'function', m);
    }
    assert.deepEqual(sup.whichChildren().map((c) => c.id), ['a', 'b']);
    await sup.startChild(child('c', { restart: 'transient' }));
    assert.equal(sup.countChildren().active, 3);

    // A crash (exited rejects) restarts the child with restartCount 1 (one-for-one: only it).
    crashers.get('a')!(new Error('crash'));
    for (let i = 0; i < 200 && !starts.some((s) => s.id === 'a' && s.restartCount === 1); i++) await delay(5);
    assert.ok(starts.some((s) => s.id === 'a' && s.restartCount === 1), JSON.stringify(starts));
    assert.equal(starts.filter((s) => s.id === 'b').length, 1);
    assert.equal(sup.whichChildren().find((c) => c.id === 'a')?.restartCount, 1, 'restarts are counted per child');

    await sup.terminateChild('c');
    await sup.deleteChild('c');
    assert.deepEqual(sup.whichChildren().map((c) => c.id), ['a', 'b']);
    await sup.restartChild('b');
    assert.equal(starts.filter((s) => s.id === 'b').length, 2);
    stopOrder.length = 0;
    await sup.stop();
    assert.deepEqual(stopOrder, ['b', 'a'], 'children stop in reverse start order');
  });

  test("strategies 'one-for-all' and 'rest-for-one'; shutdown ms → ctx.signal aborted when the supervisor gives up waiting", async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision'], test: t });
    const supervision = kernel.resolve('supervision');
    const run = async (strategy: 'one-for-all' | 'rest-for-one'): Promise<Record<string, number>> => {
      const starts: Record<string, number> = {};
      const crash = new Map<string, (e: Error) => void>();
      const child = (id: string): ChildSpec => ({
        id,
        restart: 'permanent',
        shutdown: 1000,
        type: 'worker',
        backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
        start() {
          starts[id] = (starts[id] ?? 0) + 1;
          let end!: () => void;
          const exited = new Promise<unknown>((resolve, reject) => {
            end = () => resolve(undefined);
            crash.set(id, reject);
          });
          return { exited, stop: async () => end() };
        },
      });
      const sup = await supervision.start({ id: `s-${strategy}`, strategy, children: [child('a'), child('b'), child('c')] });
      crash.get('b')!(new Error('b crashed'));
      const expected = strategy === 'one-for-all' ? { a: 2, b: 2, c: 2 } : { a: 1, b: 2, c: 2 };
      for (let i = 0; i < 400 && JSON.stringify(starts) !== JSON.stringify(expected); i++) await delay(5);
      await sup.stop();
      return starts;
    };
    assert.deepEqual(await run('one-for-all'), { a: 2, b: 2, c: 2 });
    assert.deepEqual(await run('rest-for-one'), { a: 1, b: 2, c: 2 });

    let signal: AbortSignal | undefined;
    const sup = await supervision.start({
      id: 'stubborn',
      children: [
        {
          id: 'ignores-stop',
          restart: 'permanent',
          shutdown: 50,
          type: 'worker',
          start(ctx) {
            signal = ctx.signal;
            return {
              exited: new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(undefined))),
              stop: () => new Promise<void>(() => {}),
            };
          },
        },
      ],
    });
    const began = Date.now();
    await sup.terminateChild('ignores-stop');
    assert.ok(Date.now() - began < 2_000);
    assert.equal(signal?.aborted, true);
    await sup.stop();
  });

  test('a heartbeat-based child that falls silent is marked failed (phi-accrual) and restarted', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'supervision', options: { failureDetector: { checkIntervalMs: 5 } } }], test: t });
    const incarnations: AbortSignal[] = [];
    const sup = await kernel.resolve('supervision').start({
      id: 'beats',
      children: [
        {
          id: 'heart',
          restart: 'permanent',
          shutdown: 100,
          type: 'worker',
          backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
          start(ctx) {
            incarnations.push(ctx.signal);
            if (incarnations.length === 1) {
              // beat a few times, then fall silent
              let n = 0;
              const timer = setInterval(() => (++n > 5 ? clearInterval(timer) : ctx.heartbeat()), 5);
              ctx.signal.addEventListener('abort', () => clearInterval(timer));
            }
            let end!: () => void;
            const exited = new Promise<unknown>((resolve) => {
              end = () => resolve(undefined);
              ctx.signal.addEventListener('abort', () => resolve(undefined));
            });
            return { exited, stop: async () => end() };
          },
        },
      ],
    });
    for (let i = 0; i < 400 && incarnations.length < 2; i++) await delay(5);
    assert.ok(incarnations.length >= 2, 'restarted after falling silent');
    assert.equal(incarnations[0]!.aborted, true);
    assert.equal((incarnations[0]!.reason as MisterSmithError).code, 'SUPERVISION_HEARTBEAT_TIMEOUT');
    await sup.stop();
  });

  test('exceeding intensity stops the supervisor and, at the root, becomes a kernel fault', async (t) => {
    // recovery.supervision 'ignore': the default ('escalate' → stop at the root) would stop this kernel.
    const kernel = await createTestKernel({ plugins: [{ use: 'supervision', options: { recovery: { supervision: 'ignore' } } }], test: t });
    const faults: string[] = [];
    kernel.hooks.fault.tapPromise({ name: 'observer', stage: -1 }, async (fault) => {
      faults.push(fault.source);
      return undefined;
    });
    const sup = await kernel.resolve('supervision').start({
      id: 'fragile',
      strategy: 'one-for-one',
      intensity: 2,
      periodMs: 60_000,
      children: [
        {
          id: 'crasher',
          restart: 'permanent',
          shutdown: 'brutal',
          type: 'worker',
          backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
          start: () => ({ exited: Promise.reject(new Error('always')), stop: async () => {} }),
        },
      ],
    });
    await Promise.race([sup.stopped, delay(5000).then(() => assert.fail('the supervisor did not give up'))]);
    for (let i = 0; i < 100 && faults.length === 0; i++) await delay(5);
    assert.ok(faults.includes('supervisor:fragile'), `a kernel fault was reported: ${faults.join(', ')}`);
    assert.equal(kernel.state, 'running');
  });
});

describe('§4 actors', () => {
  test('spawn(behavior, opts): init → ctx.state, ctx.self, ctx.signal, tell/ask/stop, in order', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    let stoppedCalled = false;
    let selfOk = false;
    let signal: AbortSignal | undefined;
    const ref = actors.spawn<{ add: number } | 'get', number, number>(
      {
        init: () => 0,
        receive(msg, ctx) {
          selfOk = ctx.self === ref || ctx.self.id === ref.id;
          signal = ctx.signal;
          if (msg === 'get') return ctx.state;
          ctx.state = ctx.state + msg.add; // assign to replace
          return ctx.state;
        },
        stopped: () => void (stoppedCalled = true),
      },
      { name: 'counter', mailbox: { capacity: 100, overflow: 'fail' } },
    );
    for (let i = 1; i <= 10; i++) ref.tell({ add: i });
    assert.equal(await ref.ask('get', { timeoutMs: 1000 }), 55);
    assert.ok(selfOk);
    assert.equal(actors.lookup('counter')?.id, ref.id);
    assert.equal(signal?.aborted, false);
    await ref.stop();
    assert.ok(stoppedCalled);
    assert.equal(signal?.aborted, true, 'ctx.signal aborts when the actor stops');
    assert.equal(actors.lookup('counter'), undefined);
  });

  test('a throw in receive rejects the ask and crashes the actor; names are unique', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    let incarnations = 0;
    const ref = actors.spawn<string, string>(
      {
        init: () => void incarnations++,
        receive: (m) => {
          if (m === 'bad') throw new Error('bad message');
          return m;
        },
      },
      { name: 'fragile', supervision: { restart: 'permanent', backoff: { initialMs: 1, maxMs: 5 } } },
    );
    await assert.rejects(ref.ask('bad', { timeoutMs: 1000 }), /bad message/);
    for (let i = 0; i < 200 && incarnations < 2; i++) await delay(5);
    assert.equal(incarnations, 2, 'the actor crashed and was restarted by its supervisor');
    assert.throws(() => actors.spawn({ receive: () => 0 }, { name: 'fragile' }));
  });

  test('bounded mailbox: overflow fail → ACTOR_MAILBOX_FULL; drop-newest / drop-oldest → deadLetters', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const letters: string[] = [];
    const unsubscribe = actors.deadLetters.subscribe((l) => letters.push(l.reason));
    const full = actors.spawn<unknown, unknown>({ receive: () => gate }, { mailbox: { capacity: 2, overflow: 'fail' } });
    const { accepted, error } = fillUntilFull(full, 10);
    assert.ok(accepted >= 2 && accepted <= 3);
    assert.ok(error instanceof ActorError);
    assert.equal((error as ActorError).code, 'ACTOR_MAILBOX_FULL');
    const newest = actors.spawn<unknown, unknown>({ receive: () => gate }, { mailbox: { capacity: 1, overflow: 'drop-newest' } });
    const oldest = actors.spawn<unknown, unknown>({ receive: () => gate }, { mailbox: { capacity: 1, overflow: 'drop-oldest' } });
    for (let i = 0; i < 5; i++) {
      newest.tell(i);
      oldest.tell(i);
    }
    // Stop uses a control lane that a full mailbox cannot block.
    const stopping = full.stop();
    release();
    await stopping;
    assert.equal(full.alive, false);
    assert.ok(letters.length >= 6, `dead letters: ${letters.join(',')}`);
    assert.ok(actors.deadLetters.count >= 6);
    unsubscribe();
  });

  test('watch(ref, cb) tells termination; an ask to an actor that dies fails at once; telling a stopped actor dead-letters', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    const ref = actors.spawn<string, string>(
      { receive: (_m, ctx) => new Promise<string>((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))) },
      { supervision: { restart: 'temporary' } },
    );
    const reasons: string[] = [];
    actors.watch(ref, (reason) => reasons.push(reason.kind));
    const pending = ref.ask('wait', { timeoutMs: 60_000 });
    const began = Date.now();
    await delay(5);
    void ref.stop();
    await assert.rejects(pending);
    assert.ok(Date.now() - began < 5_000, 'failed at once, not at its timeout');
    for (let i = 0; i < 100 && reasons.length === 0; i++) await delay(5);
    assert.equal(reasons.length, 1);
    const before = actors.deadLetters.count;
    try {
      ref.tell('late');
    } catch (error) {
      assert.equal((error as MisterSmithError).code, 'ACTOR_STOPPED');
    }
    assert.ok(actors.deadLetters.count > before, 'nothing is lost silently');
  });

  test('ask timeout rejects with a typed error', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const ref = kernel.resolve('actors').spawn<string, string>({ receive: (_m, ctx) => delay(10_000, 'late', { signal: ctx.signal }).catch(() => 'aborted') });
    const error = await rejectsWithCode(ref.ask('x', { timeoutMs: 20 }), 'ACTOR_ASK_TIMEOUT');
    assert.ok(error instanceof ActorError);
  });

  test('parent: a child actor stops with its parent', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors'], test: t });
    const actors = kernel.resolve('actors');
    const parent = actors.spawn({ receive: () => 'p' });
    const child = actors.spawn({ receive: () => 'c' }, { parent });
    assert.equal(await child.ask(undefined as never), 'c');
    await parent.stop();
    for (let i = 0; i < 100 && child.alive; i++) await delay(5);
    assert.equal(child.alive, false);
  });
});

describe('§4 routing', () => {
  test('routers: round-robin, least-loaded, consistent-hash, broadcast', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors', 'routing'], test: t });
    const routing = kernel.resolve('routing');
    const actors = kernel.resolve('actors');
    const seen: string[] = [];
    const routees = ['r0', 'r1', 'r2'].map((id) => actors.spawn<string, string>({ receive: (m) => (seen.push(`${id}:${m}`), id) }));
    const rr = routing.pool(routees, { strategy: 'round-robin' });
    const replies = [await rr.ask('a'), await rr.ask('b'), await rr.ask('c')];
    assert.deepEqual([...replies].sort(), ['r0', 'r1', 'r2']);
    const hashed = routing.pool(routees, { strategy: 'consistent-hash', key: (m: string) => m });
    const first = await hashed.ask('same-key');
    for (let i = 0; i < 5; i++) assert.equal(await hashed.ask('same-key'), first);
    const least = routing.pool<string, string>({ receive: () => 'ok' }, { strategy: 'least-loaded', size: 2 });
    assert.equal(least.routees.length, 2);
    assert.equal(await least.ask('x'), 'ok');
    seen.length = 0;
    const all = routing.pool(routees, { strategy: 'broadcast' });
    all.tell('hi');
    for (let i = 0; i < 100 && seen.length < 3; i++) await delay(5);
    assert.deepEqual(seen.sort(), ['r0:hi', 'r1:hi', 'r2:hi']);
  });
});

describe('§4 builtin-tools', () => {
  test('echo, clock.now, fs.* confined to options.fs.root, http.fetch only to options.http.allowHosts', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-design-fs-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'note.txt'), 'inside');
    const kernel = await createTestKernel({
      plugins: [
        'supervision', 'actors',
        { use: 'tools', options: { grants: { agent: ['echo', 'clock.*', 'fs.*', 'http.fetch'] } } },
        { use: 'builtin-tools', options: { fs: { root: dir }, http: { allowHosts: ['127.0.0.1:1'] } } },
      ],
      test: t,
    });
    const tools = kernel.resolve('tools');
    assert.deepEqual(
      tools.list('agent').map((i) => i.name).sort(),
      ['clock.now', 'echo', 'fs.list', 'fs.read', 'fs.write', 'http.fetch'],
    );
    assert.match(JSON.stringify(await tools.call('agent', 'echo', { message: 'hi' }).catch(() => tools.call('agent', 'echo', { text: 'hi' }))), /hi/);
    assert.ok(await tools.call('agent', 'clock.now', {}));
    assert.match(JSON.stringify(await tools.call('agent', 'fs.read', { path: 'note.txt' })), /inside/);
    await rejectsWithCode(tools.call('agent', 'fs.read', { path: '../outside.txt' }), 'TOOL_PATH_OUTSIDE_ROOT');
    await rejectsWithCode(tools.call('agent', 'http.fetch', { url: 'http://127.0.0.2:9/' }), 'TOOL_HOST_NOT_ALLOWED');
  });
});

describe('§4 tools', () => {
  const tooling = ['supervision', 'actors', 'tools'] as const;

  test('register/grant/revoke/call/list, deny by default, validation, approval, middleware, deadline', async (t) => {
    const kernel = await createTestKernel({ plugins: [...tooling], test: t });
    const tools = kernel.resolve('tools');
    tools.register({
      name: 'math.add',
      description: 'adds',
      input: z.object({ a: z.number(), b: z.number() }),
      output: z.number(),
      handler: ({ a, b }) => a + b,
    });
    tools.register({
      name: 'slow.op',
      description: 'slow',
      input: z.object({}),
      handler: (_input, ctx) => delay(10_000, 'done', { signal: ctx.signal }),
      timeoutMs: 50,
    });
    tools.register({ name: 'bad.output', description: 'lies', input: z.object({}), output: z.string(), handler: () => 42 as never });

    // deny by default; an unknown tool is also TOOL_ACCESS_DENIED for an agent with no grant
    await rejectsWithCode(tools.call('alice', 'math.add', { a: 1, b: 2 }), 'TOOL_ACCESS_DENIED');
    await rejectsWithCode(tools.call('alice', 'no.such', {}), 'TOOL_ACCESS_DENIED');
    assert.deepEqual(tools.list('alice'), []);

    tools.grant('alice', ['math.*']);
    assert.equal(await tools.call('alice', 'math.add', { a: 2, b: 3 }), 5);
    const listed = tools.list('alice');
    assert.deepEqual(listed.map((t) => t.name), ['math.add']);
    assert.equal((listed[0]!.inputSchema as { type?: string }).type, 'object', 'list returns JSON Schemas');

    const invalid = await rejectsWithCode(tools.call('alice', 'math.add', { a: 'two', b: 3 }), 'TOOL_INVALID_INPUT');
    assert.match(invalid.message, /a/);

    tools.grant('bob', '*');
    await rejectsWithCode(tools.call('bob', 'slow.op', {}, { timeoutMs: 30 }), 'TOOL_TIMEOUT');
    await rejectsWithCode(tools.call('bob', 'bad.output', {}), 'TOOL_INVALID_OUTPUT');
    const controller = new AbortController();
    const cancelled = tools.call('bob', 'slow.op', {}, { signal: controller.signal, timeoutMs: 5_000 });
    controller.abort();
    await assert.rejects(cancelled);

    // approval: tools.hooks.approve over { agentId, tool, input, callId, delegation } → 'allow' | 'deny'
    const requests: unknown[] = [];
    tools.hooks.approve.tapPromise('reviewer', async (request) => {
      requests.push(request);
      return request.agentId === 'bob' ? 'deny' : 'allow';
    });
    await rejectsWithCode(tools.call('bob', 'math.add', { a: 1, b: 1 }), 'TOOL_REJECTED');
    assert.equal(await tools.call('alice', 'math.add', { a: 1, b: 1 }), 2);
    const req = requests[1] as Record<string, unknown>;
    assert.equal(req.agentId, 'alice');
    assert.equal(req.tool, 'math.add');
    assert.deepEqual(req.input, { a: 1, b: 1 });
    assert.equal(typeof req.callId, 'string');
    assert.ok(Array.isArray(req.delegation));

    // middleware, Koa-style (ctx, next)
    const order: string[] = [];
    const dispose = tools.use(async (ctx, next) => {
      order.push(`before ${ctx.tool}`);
      await next();
      order.push('after');
    });
    await tools.call('alice', 'math.add', { a: 1, b: 1 });
    assert.deepEqual(order, ['before math.add', 'after']);
    dispose();

    tools.revoke('alice', ['math.*']);
    await rejectsWithCode(tools.call('alice', 'math.add', { a: 1, b: 1 }), 'TOOL_ACCESS_DENIED');
  });

  test('agentAsTool(ref, spec): an actor exposed as a tool; a callee never gets more rights than its caller', async (t) => {
    const kernel = await createTestKernel({ plugins: [...tooling], test: t });
    const tools = kernel.resolve('tools');
    const actors = kernel.resolve('actors');
    tools.register({ name: 'secret.read', description: 'secret', input: z.object({}), handler: () => 'the secret' });
    const ref = actors.spawn<{ input: { q: string }; caller: string; callId: string; delegation: readonly string[] }, string>({
      receive: (msg) => `answer to ${msg.input.q} for ${msg.caller}`,
    });
    tools.agentAsTool(ref, { name: 'expert.ask', description: 'asks an expert', input: z.object({ q: z.string() }), output: z.string() });
    tools.grant('user', ['expert.*']);
    assert.match(await tools.call<string>('user', 'expert.ask', { q: 'life' }), /answer to life/);

    // the expert holds a grant the caller lacks: the delegated call is refused
    tools.register({
      name: 'proxy.read',
      description: 'reads a secret on behalf of its caller',
      input: z.object({}),
      handler: (_input, ctx) => ctx.call('secret.read', {}),
    });
    tools.grant('user', ['proxy.*']);
    await rejectsWithCode(tools.call('user', 'proxy.read', {}), 'TOOL_ACCESS_DENIED');
  });
});

describe('§4 events', () => {
  test('publish → stored event with id, time, sequence; subscribe with patterns; handler errors isolated', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'events', options: { store: { type: 'memory' } } }], test: t });
    const events = kernel.resolve('events');
    const got: string[] = [];
    events.subscribe('order.*', () => {
      throw new Error('a broken handler');
    });
    const storedBeforeDelivery: boolean[] = [];
    const sub = events.subscribe('order.*', async (e) => {
      storedBeforeDelivery.push((await events.get(e.id))?.id === e.id);
      got.push(e.type);
    });
    events.subscribe({ types: ['user.created'] }, (e) => void got.push(`filter:${e.type}`));
    const first = await events.publish({ type: 'order.placed', source: 'shop', data: { id: 1 }, subject: 'o-1', correlationId: 'c-1', causationId: 'x-0' });
    assert.equal(typeof first.id, 'string');
    assert.equal(typeof first.time, 'string');
    assert.equal(typeof first.sequence, 'number');
    assert.deepEqual(first.data, { id: 1 });
    assert.equal(first.subject, 'o-1');
    assert.equal(first.correlationId, 'c-1');
    assert.equal(first.causationId, 'x-0');
    const second = await events.publish({ type: 'user.created', source: 'shop', data: {} });
    assert.ok(second.sequence > first.sequence, 'sequence is monotonic');
    await events.publish({ type: 'order.shipped', source: 'shop', data: {} });
    for (let i = 0; i < 100 && got.length < 3; i++) await delay(5);
    assert.deepEqual(got.sort(), ['filter:user.created', 'order.placed', 'order.shipped']);
    await sub.unsubscribe();
    assert.deepEqual(storedBeforeDelivery, [true, true], 'store first, then deliver');

    const replayed: StoredEvent[] = [];
    for await (const e of events.replay({})) replayed.push(e);
    assert.deepEqual(replayed.map((e) => e.sequence), [first.sequence, second.sequence, second.sequence + 1]);

    const cloud = toCloudEvent(first) as unknown as Record<string, unknown>;
    assert.equal(cloud.specversion, '1.0');
    assert.equal(cloud.type, 'order.placed');
    assert.equal(cloud.id, first.id);
  });

  test("subscribe from 'earliest' / a sequence; durable subscriptions are at-least-once and dead-letter after maxDeliver", async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'events', options: { store: { type: 'memory' } } }], test: t });
    const events = kernel.resolve('events');
    const a = await events.publish({ type: 'tick', source: 's', data: 1 });
    await events.publish({ type: 'tick', source: 's', data: 2 });
    const earliest: unknown[] = [];
    events.subscribe('tick', (e) => void earliest.push(e.data), { from: 'earliest' });
    const fromSeq: unknown[] = [];
    events.subscribe('tick', (e) => void fromSeq.push(e.data), { from: a.sequence + 1 });
    const latest: unknown[] = [];
    events.subscribe('tick', (e) => void latest.push(e.data), { from: 'latest' });
    await events.publish({ type: 'tick', source: 's', data: 3 });
    for (let i = 0; i < 100 && (earliest.length < 3 || latest.length < 1); i++) await delay(5);
    assert.deepEqual(earliest, [1, 2, 3]);
    assert.deepEqual(fromSeq, [2, 3]);
    assert.deepEqual(latest, [3]);

    let attempts = 0;
    const dead: StoredEvent[] = [];
    events.subscribe('events.dead_letter', (e) => void dead.push(e));
    events.subscribe('job', () => {
      attempts++;
      throw new Error('always fails');
    }, { durable: 'worker', from: 'latest', maxDeliver: 3, backoff: { initialMs: 1, maxMs: 2, factor: 1, jitter: 0 } } as never);
    await events.publish({ type: 'job', source: 's', data: {} });
    for (let i = 0; i < 400 && dead.length === 0; i++) await delay(5);
    assert.equal(attempts, 3);
    assert.equal(dead.length, 1);
  });

  test('store options: memory, and file with fsync always | batch | never', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-design-fsync-'));
    try {
      for (const fsync of ['always', 'batch', 'never'] as const) {
        const kernel = await createKernel({
          config: { plugins: [{ use: 'events', options: { store: { type: 'file', dir: fsync, fsync } } }] },
          configDir: dir,
          logger: silent(),
        });
        await kernel.start();
        const e = await kernel.resolve('events').publish({ type: 't', source: 's', data: fsync });
        assert.equal(e.data, fsync);
        await kernel.stop('done');
        assert.ok(existsSync(path.join(dir, fsync)), `file store for fsync ${fsync} in its dir`);
      }
      await rejectsWithCode(
        createKernel({ config: { plugins: [{ use: 'events', options: { store: { type: 'file', dir: 'x', fsync: 'sometimes' } } }] }, logger: silent() }),
        'CONFIG_INVALID',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('store { type: "file", dir, fsync } with dir relative to the config file; events survive a restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ms-design-events-'));
    try {
      const configPath = path.join(dir, 'mister-smith.config.json');
      await writeFile(
        configPath,
        JSON.stringify({
          name: 'events-file',
          log: { level: 'silent' },
          plugins: [{ use: 'events', options: { store: { type: 'file', dir: '.mister-smith/events', fsync: 'always' } } }],
        }),
      );
      const first = await createKernel({ config: await loadConfig(configPath) });
      await first.start();
      const stored = await first.resolve('events').publish({ type: 'kept', source: 'test', data: { n: 1 } });
      const durable: unknown[] = [];
      first.resolve('events').subscribe('kept', (e) => void durable.push(e.data), { durable: 'keeper', from: 'earliest' });
      for (let i = 0; i < 100 && durable.length === 0; i++) await delay(5);
      await first.stop('restart');
      assert.ok(existsSync(path.join(dir, '.mister-smith', 'events')), 'the store lives relative to the config file');
      assert.ok((await readdir(path.join(dir, '.mister-smith', 'events'))).length > 0);

      const second = await createKernel({ config: await loadConfig(configPath) });
      await second.start();
      const events = second.resolve('events');
      const replayed: StoredEvent[] = [];
      for await (const e of events.replay({ types: ['kept'] })) replayed.push(e);
      assert.deepEqual(replayed.map((e) => [e.id, e.sequence]), [[stored.id, stored.sequence]]);
      const again: unknown[] = [];
      events.subscribe('kept', (e) => void again.push(e.data), { durable: 'keeper', from: 'earliest' });
      await events.publish({ type: 'kept', source: 'test', data: { n: 2 } });
      for (let i = 0; i < 100 && again.length < 1; i++) await delay(5);
      await delay(20);
      assert.deepEqual(again, [{ n: 2 }], 'a durable subscription resumes from its persisted position');
      assert.ok(events.lastSequence > stored.sequence);
      await second.stop('done');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('§4 agents and providers', () => {
  const math = definePlugin({
    name: 'math-tools',
    version: '1.0.0',
    dependsOn: ['tools'],
    setup(ctx) {
      ctx.resolve('tools').register({
        name: 'math.add',
        description: 'adds two numbers',
        input: z.object({ a: z.number(), b: z.number() }),
        handler: ({ a, b }) => a + b,
      });
    },
  });
  // The §4 JSON, verbatim.
  const providerAndAgents = JSON.parse(`[
    { "use": "provider-scripted", "options": { "scripts": { "calc": [
        { "toolCalls": [{ "name": "math.add", "input": { "a": 2, "b": 3 } }] },
        { "reply": "The sum is 5.", "usage": { "inputTokens": 40, "outputTokens": 6 } } ] } } },
    { "use": "agents", "options": { "agents": [
        { "name": "calculator", "provider": "scripted", "model": "calc", "instructions": "…",
          "tools": ["math.*"], "maxTurns": 8, "budget": { "maxTokens": 10000, "maxToolCalls": 20 } } ] } }
  ]`) as object[];

  test("agents.run('calculator', 'add 2 and 3') → { runId, output: 'The sum is 5.', steps, usage }", async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors', 'tools', math, ...(providerAndAgents as never[])], test: t });
    const agents = kernel.resolve('agents');
    const result = await agents.run('calculator', 'add 2 and 3');
    assert.equal(typeof result.runId, 'string');
    assert.equal(result.output, 'The sum is 5.');
    assert.ok(Array.isArray(result.steps));
    const toolStep = result.steps.find((s) => s.type === 'tool');
    assert.equal(toolStep && 'output' in toolStep ? toolStep.output : undefined, 5);
    assert.equal(result.usage.inputTokens, 40);
    assert.equal(result.usage.outputTokens, 6);
    // steps are consumed in order within each run: a second run replays the script
    assert.equal((await agents.run('calculator', 'add 2 and 3')).output, 'The sum is 5.');
    assert.ok(agents.list().some((a) => a.name === 'calculator'));
  });

  test('budget.maxTokens, budget.maxToolCalls and maxTurns bound a run; an unknown agent is AGENT_NOT_FOUND', async (t) => {
    const kernel = await createTestKernel({ plugins: ['supervision', 'actors', 'tools', math, ...(providerAndAgents as never[])], test: t });
    const agents = kernel.resolve('agents');
    agents.define({ name: 'thrifty', provider: 'scripted', model: 'calc', tools: ['math.*'], budget: { maxTokens: 10 } });
    agents.define({ name: 'no-tools', provider: 'scripted', model: 'calc', tools: ['math.*'], budget: { maxToolCalls: 0 } });
    agents.define({ name: 'hasty', provider: 'scripted', model: 'calc', tools: ['math.*'], maxTurns: 1 });
    await rejectsWithCode(agents.run('thrifty', 'add 2 and 3'), 'AGENT_BUDGET_EXCEEDED');
    await rejectsWithCode(agents.run('no-tools', 'add 2 and 3'), 'AGENT_BUDGET_EXCEEDED');
    await rejectsWithCode(agents.run('hasty', 'add 2 and 3'), 'AGENT_MAX_TURNS');
    await rejectsWithCode(agents.run('nobody', 'hi'), 'AGENT_NOT_FOUND');
  });

  test('agents.define adds an agent; a fail step surfaces as a typed error', async (t) => {
    const kernel = await createTestKernel({
      plugins: [
        'supervision', 'actors', 'tools', 'agents',
        { use: 'provider-scripted', options: { scripts: { broken: [{ fail: 'the model is down' }], slow: [{ delayMs: 5, reply: 'late but fine' }] } } },
      ],
      test: t,
    });
    const agents = kernel.resolve('agents');
    agents.define({ name: 'fragile', provider: 'scripted', model: 'broken' });
    agents.define({ name: 'patient', provider: 'scripted', model: 'slow' });
    assert.equal((await agents.run('patient', 'hi')).output, 'late but fine');
    await assert.rejects(agents.run('fragile', 'hi'), (e: unknown) => e instanceof MisterSmithError && /the model is down/.test(`${e.message} ${String((e.cause as Error | undefined)?.message)}`));
  });
});

describe('§4 http, health, metrics-prometheus', () => {
  test('http.route + http.url on 127.0.0.1:ephemeral; /livez /readyz /healthz; /metrics with mister_smith_', async (t) => {
    const kernel = await createTestKernel({ plugins: ['http', 'health', 'metrics-prometheus'], test: t });
    const http = kernel.resolve('http');
    http.route('GET', '/hello/:who', (req) => ({ status: 200, body: { hello: req.params.who } }));
    const url = http.url!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+/);
    assert.notEqual(new URL(url).port, '0');
    http.route('get' as 'GET', '/lower', () => ({ body: 'any case' }));
    assert.match(await (await fetch(new URL('/lower', url))).text(), /any case/);
    http.route('GET', '/raw', (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('raw'));
    assert.equal(await (await fetch(new URL('/raw', url))).text(), 'raw');
    const hello = await fetch(new URL('/hello/ada', url));
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), { hello: 'ada' });

    const health = kernel.resolve('health');
    assert.equal((await fetch(new URL('/livez', url))).status, 200);
    assert.equal((await fetch(new URL('/readyz', url))).status, 200);
    let status: 'healthy' | 'unhealthy' = 'unhealthy';
    health.register('db', () => ({ status }), { timeoutMs: 5000, critical: true, kind: 'ready' });
    health.register('slow', () => new Promise(() => {}), { timeoutMs: 20, kind: 'ready' });
    await health.run();
    assert.equal((await fetch(new URL('/readyz', url))).status, 503, 'a critical ready check that is unhealthy → 503');
    const detail = (await (await fetch(new URL('/healthz', url))).json()) as { checks: Record<string, { status: string }> };
    assert.equal(detail.checks.db?.status, 'unhealthy');
    assert.ok(['unhealthy', 'unknown', 'degraded'].includes(detail.checks.slow!.status), 'a check past its timeout is not healthy');
    assert.equal((await fetch(new URL('/livez', url))).status, 200, 'a ready check does not fail liveness');
    status = 'healthy';
    await health.run();
    assert.equal((await fetch(new URL('/readyz', url))).status, 200);

    const metrics = await fetch(new URL('/metrics', url));
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^# HELP mister_smith_/m);
    assert.match(text, /mister_smith_process_/, 'default process metrics');
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      assert.match(line, /^mister_smith_/, line);
    }
  });

  test('http: optional bearer token; body limit', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'http', options: { auth: { token: 's3cret' }, bodyLimitBytes: 16 } }], test: t });
    const http = kernel.resolve('http');
    http.route('POST', '/echo', (req) => ({ body: { got: req.body } }));
    const url = new URL('/echo', http.url!);
    const post = (body: string, token?: string) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    assert.equal((await post('{}')).status, 401);
    assert.equal((await post('{}', 'wrong')).status, 401);
    const ok = await post('{"a":1}', 's3cret');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { got: { a: 1 } });
    assert.equal((await post(JSON.stringify({ much: 'x'.repeat(100) }), 's3cret')).status, 413);
  });

  test('a facade metric defined before the prometheus plugin loads is exported', async (t) => {
    const early = definePlugin({
      name: 'early',
      version: '1.0.0',
      setup(ctx) {
        const things = ctx.metrics.counter({ name: 'early_things_total', help: 'things', labelNames: ['k'] });
        ctx.onStart(() => things.inc({ k: 'v' }, 3));
      },
    });
    const kernel = await createTestKernel({ plugins: [early, 'metrics-prometheus'], test: t });
    assert.deepEqual(kernel.timeline().filter((r) => r.phase === 'setup').map((r) => r.plugin), ['early', 'metrics-prometheus']);
    const text = await kernel.resolve('prometheus').metrics();
    assert.match(text, /mister_smith_early_things_total\{k="v"\} 3/);
  });
});

describe('§4 resilience and tasks', () => {
  test('resilience.policy(name).execute(({ signal, attempt }) => …, { signal }) from options.policies.<name>', async (t) => {
    const kernel = await createTestKernel({
      plugins: [
        {
          use: 'resilience',
          options: {
            policies: {
              flaky: { retry: { maxAttempts: 3, backoff: { initialMs: 1, maxMs: 2 } }, timeoutMs: 1000 },
              quick: { timeoutMs: 20 },
              breaker: { circuitBreaker: { failureThreshold: 1, resetMs: 60_000 } },
              narrow: { bulkhead: { maxConcurrent: 1, maxQueue: 0 } },
            },
          },
        },
      ],
      test: t,
    });
    const resilience = kernel.resolve('resilience');
    const attempts: number[] = [];
    const value = await resilience.policy('flaky').execute(({ signal, attempt }) => {
      assert.ok(signal instanceof AbortSignal);
      attempts.push(attempt);
      if (attempts.length < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'ok';
    }, { signal: new AbortController().signal });
    assert.equal(value, 'ok');
    assert.deepEqual(attempts, [1, 2, 3]);

    let aborted = false;
    await assert.rejects(
      resilience.policy('quick').execute(({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => ((aborted = true), resolve(0))))),
      (e: unknown) => e instanceof MisterSmithError,
    );
    assert.ok(aborted, 'the timeout aborts the attempt signal');

    await assert.rejects(resilience.policy('breaker').execute(() => Promise.reject(new Error('down'))));
    await assert.rejects(resilience.policy('breaker').execute(() => 'never runs'), (e: unknown) => e instanceof MisterSmithError);

    let release!: () => void;
    const busy = resilience.policy('narrow').execute(() => new Promise<void>((r) => (release = r)));
    await assert.rejects(resilience.policy('narrow').execute(() => 1), (e: unknown) => e instanceof MisterSmithError);
    release();
    await busy;

    const caller = new AbortController();
    const cancelled = resilience.policy('flaky').execute(({ signal }) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))), { signal: caller.signal });
    caller.abort();
    await assert.rejects(cancelled);
  });

  test('tasks: options maxConcurrent (100) / queueCapacity (1000) / timeoutMs (30000) and submit', async (t) => {
    const kernel = await createTestKernel({ plugins: [{ use: 'tasks', options: { maxConcurrent: 1, queueCapacity: 1, timeoutMs: 30 } }], test: t });
    const tasks = kernel.resolve('tasks');
    assert.equal(await tasks.submit(({ signal, attempt }) => (signal instanceof AbortSignal ? attempt : -1)).result, 1);
    let release!: () => void;
    const running = tasks.submit({ run: () => new Promise<void>((r) => (release = r)), priority: 'high', timeoutMs: 5_000 });
    const queued = tasks.submit(() => 'queued');
    const refused = tasks.submit(() => 'refused');
    await rejectsWithCode(refused.result, 'TASK_QUEUE_FULL');
    release();
    await running.result;
    assert.equal(await queued.result, 'queued');
    // a priority executor: with the one slot busy, queued tasks run by priority, not arrival
    const prio = (await createTestKernel({ plugins: [{ use: 'tasks', options: { maxConcurrent: 1, queueCapacity: 10 } }], test: t })).resolve('tasks');
    let hold!: () => void;
    const blocker = prio.submit(() => new Promise<void>((r) => (hold = r)));
    const order: string[] = [];
    const queuedByPriority = (['low', 'normal', 'high', 'critical'] as const).map((priority) => prio.submit({ run: () => void order.push(priority), priority }));
    for (let i = 0; i < 200 && typeof hold !== 'function'; i++) await delay(5);
    hold();
    await blocker.result;
    await Promise.all(queuedByPriority.map((h) => h.result));
    assert.deepEqual(order, ['critical', 'high', 'normal', 'low']);
    const late = tasks.submit(({ signal }) => delay(10_000, undefined, { signal }));
    await assert.rejects(late.result, (e: unknown) => e instanceof MisterSmithError && /TIMEOUT/.test(e.code));

    // streams: source → stages → sink, with backpressure
    const out: number[] = [];
    const stats = await tasks.stream([1, 2, 3], [(x: number) => x * 2, { name: 'inc', process: (x: number) => x + 1 }], (x: number) => void out.push(x));
    assert.deepEqual(out, [3, 5, 7]);
    assert.equal(stats.processed, 3);

    const defaults = await createTestKernel({ plugins: ['tasks'], test: t });
    const ts = defaults.resolve('tasks');
    let concurrent = 0;
    let peak = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const handles = Array.from({ length: 150 }, () =>
      ts.submit(async () => {
        concurrent++;
        peak = Math.max(peak, concurrent);
        await gate;
        concurrent--;
      }),
    );
    await delay(20);
    assert.equal(peak, 100, 'maxConcurrent defaults to 100');
    assert.equal(ts.stats().queued, 50);
    open();
    await Promise.all(handles.map((h) => h.result));
  });
});

// ---------------------------------------------------------------------------------------------
// §1/§2 package exports and the CLI, as a consumer runs them
// ---------------------------------------------------------------------------------------------

describe('package exports and CLI', { timeout: 180_000 }, () => {
  // A private build of the package, installed where a consumer's script finds it by name: the
  // repo's own dist/ is left alone (other suites build and pack it concurrently). Under the repo's
  // node_modules so that the package's dependencies resolve, and git never sees it.
  const scratch = path.join(root, 'node_modules', `.design-contract-${process.pid}`);
  before(async () => {
    const pkg = path.join(scratch, 'node_modules', 'mister-smith');
    const { mkdir, copyFile } = await import('node:fs/promises');
    await mkdir(pkg, { recursive: true });
    await copyFile(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist'), '--sourceMap', 'false'], {
      cwd: root,
      timeout: 150_000,
    });
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function node(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const file = path.join(scratch, `probe-${Math.random().toString(36).slice(2)}.mjs`);
    await writeFile(file, script);
    try {
      const { stdout, stderr } = await run(process.execPath, [file], { cwd: scratch, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  test("plain Node imports 'mister-smith', 'mister-smith/sdk', 'mister-smith/testing', 'mister-smith/plugins/<name>'", async () => {
    const plugins = ['supervision', 'actors', 'routing', 'tools', 'builtin-tools', 'events', 'http', 'health', 'metrics-prometheus', 'resilience', 'tasks', 'agents', 'provider-scripted', 'provider-openai', 'provider-claude-cli'];
    const { code, stdout, stderr } = await node(`
      import { createKernel, loadConfig, definePlugin as d1 } from 'mister-smith';
      import { definePlugin, z, classify, MisterSmithError } from 'mister-smith/sdk';
      import { createTestKernel, checkPluginConformance } from 'mister-smith/testing';
      const names = ${JSON.stringify(plugins)};
      const loaded = {};
      for (const name of names) loaded[name] = (await import('mister-smith/plugins/' + name)).default.name;
      const greeter = definePlugin({
        name: 'greeter', version: '1.0.0',
        dependsOn: ['actors'], optionalDependsOn: ['health'],
        options: z.object({ greeting: z.string().default('hello') }),
        setup(ctx) {
          const actors = ctx.resolve('actors');
          ctx.provide('greeter', actors.spawn({ receive: (n) => ctx.options.greeting + ', ' + n }));
          ctx.onStart(async (signal) => {});
          ctx.onStop(async (signal) => {});
          ctx.tryResolve('health')?.register('greeter', () => ({ status: 'healthy' }));
        },
      });
      await checkPluginConformance(greeter, { with: ['supervision', 'actors'] });
      const kernel = await createTestKernel({ plugins: ['supervision', 'actors', greeter], config: {} });
      const reply = await kernel.resolve('greeter').ask('Ada');
      await kernel.stop('done');
      const k2 = await createKernel({ config: { log: { level: 'silent' }, plugins: ['supervision', 'actors', greeter] } });
      await k2.start();
      const state = k2.state;
      await k2.stop('reason');
      console.log(JSON.stringify({ loaded, reply, state, stopped: k2.state, same: d1 === definePlugin,
        loadConfig: typeof loadConfig, classified: classify(Object.assign(new Error('x'), { code: 'ECONNRESET' })).kind,
        err: typeof MisterSmithError }));
    `);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{"loaded"'))!) as Record<string, unknown>;
    assert.deepEqual(out.loaded, Object.fromEntries(plugins.map((p) => [p, p])));
    assert.equal(out.reply, 'hello, Ada');
    assert.equal(out.state, 'running');
    assert.equal(out.stopped, 'stopped');
    assert.equal(out.same, true);
    assert.equal(out.classified, 'network');
  });

  test('`use` may name an npm package: a plugin installed in node_modules next to the config', async () => {
    const { mkdir } = await import('node:fs/promises');
    const pkg = path.join(scratch, 'node_modules', 'ms-design-npm-plugin');
    await mkdir(pkg, { recursive: true });
    await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: 'ms-design-npm-plugin', version: '2.0.0', type: 'module', exports: './index.js' }));
    await writeFile(
      path.join(pkg, 'index.js'),
      `import { definePlugin, z } from 'mister-smith/sdk';
       export default definePlugin({ name: 'npm-greeter', version: '2.0.0', options: z.object({ who: z.string().default('npm') }),
         setup(ctx) { ctx.provide('npm-greeter', { hello: () => 'hello from ' + ctx.options.who }); } });`,
    );
    await writeFile(
      path.join(scratch, 'mister-smith.config.json'),
      JSON.stringify({ name: 'npm', log: { level: 'silent' }, plugins: [{ use: 'ms-design-npm-plugin', options: { who: 'a package' } }] }),
    );
    const { code, stdout, stderr } = await node(`
      import { createKernel, loadConfig } from 'mister-smith';
      const kernel = await createKernel({ config: await loadConfig('mister-smith.config.json') });
      await kernel.start();
      console.log(JSON.stringify({ said: kernel.resolve('npm-greeter').hello() }));
      await kernel.stop('reason');
    `);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /"said":"hello from a package"/);
  });

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin', 'mister-smith.js'), ...args], {
        cwd,
        timeout: 60_000,
        env: { ...process.env, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  test('mister-smith check [config]: load order, exit 0; a problem → exit 1', async () => {
    const good = await cli(['check', designConfig]);
    assert.equal(good.code, 0, good.stderr);
    const order = ['supervision', 'actors', 'my-plugin'].map((n) => good.stdout.indexOf(n));
    assert.ok(order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!, good.stdout);
    assert.doesNotMatch(good.stdout, /started/, 'check starts nothing');
    const inCwd = await cli(['check'], {}, designDir);
    assert.equal(inCwd.code, 0, `[config] defaults to mister-smith.config.json in the working directory: ${inCwd.stderr}`);
    assert.match(inCwd.stdout, /my-plugin/);
    const bad = await cli(['check', designConfig], { MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '"lots"' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr + bad.stdout, /plugins\[1\]\.options\.mailbox\.capacity: /);
  });

  test('mister-smith plugins [config]: name, version, dependencies, options as JSON Schema', async () => {
    const { code, stdout, stderr } = await cli(['plugins', designConfig]);
    assert.equal(code, 0, stderr);
    const list = JSON.parse(stdout) as Array<Record<string, unknown>>;
    const mine = list.find((p) => p.name === 'my-plugin')!;
    assert.equal(mine.version, '0.1.0');
    assert.deepEqual(mine.dependsOn, ['actors']);
    assert.deepEqual(mine.dependencies, ['actors']);
    assert.deepEqual(list.find((p) => p.name === 'actors')?.optionalDependsOn, ['events', 'health']);
    const schema = mine.options as { type?: string; properties?: Record<string, { default?: unknown }> };
    assert.equal(schema.type, 'object');
    assert.equal(schema.properties?.label?.default, 'mine');
  });

  test('mister-smith start [config] --once: waits for ctx.track work, stops, exit 0; bad usage/config exit 2', async () => {
    const ok = await cli(['start', designConfig, '--once']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /my-plugin tracked work done/);
    const failed = await cli(['start', designConfig, '--once'], { MISTER_SMITH__PLUGINS__MY_PLUGIN__FAIL: 'true' });
    assert.equal(failed.code, 1, 'exit 1 when work handed to ctx.track rejected');
    assert.match(failed.stdout + failed.stderr, /tracked work failed on purpose/);
    const badConfig = await cli(['start', designConfig], { MISTER_SMITH__PLUGINS__ACTORS__MAILBOX__CAPACITY: '"lots"' });
    assert.equal(badConfig.code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
  });
});
