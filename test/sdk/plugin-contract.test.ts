/**
 * The plugin contract as a plugin author uses it: definePlugin, PluginContext, errors, metrics, the testing kit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKernel } from '../../index.js';
import { ActorError, AgentError, classify, ConfigError, definePlugin, EventError, KernelError, MisterSmithError, NetworkError, PersistenceError, ResilienceError, ResourceError, StreamError, SupervisionError, TaskError, ToolError, z } from '../../sdk/index.js';
import type { Logger, PluginContext } from '../../sdk/index.js';
import { checkPluginConformance, createTestKernel, MemoryMetricsBackend } from '../../testing/index.js';
import type { ActorRef, ActorSystem } from '../../plugins/actors/types.js';
import { silent, rejectsWithCode } from '../e2e/contract/helpers.js';

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

// The README's plugin snippet, verbatim but for what the comments leave to the author.
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

  test('metrics with no backend: every call shape is accepted and nothing is kept once the kernel runs', async () => {
    let counter!: { inc(value?: number): void };
    const kernel = await createKernel({
      config: {
        plugins: [
          definePlugin({
            name: 'lonely',
            version: '1.0.0',
            setup(ctx) {
              const c = ctx.metrics.counter({ name: 'lonely_total', help: 'h', labelNames: [] });
              counter = c;
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
    assert.deepEqual(kernel.metrics.backends, []);
    counter.inc(5); // a no-op now: with no backend by the end of the start, nothing is buffered any more
    // A backend attached after the start gets the metrics, not the values from before it.
    const late = new MemoryMetricsBackend();
    kernel.metrics.attach(late);
    assert.deepEqual(late.names().filter((n) => n.startsWith('lonely')).sort(), ['lonely_g', 'lonely_h', 'lonely_total']);
    assert.equal(late.value('lonely_total'), 0);
    assert.deepEqual(late.observations('lonely_h'), []);
    counter.inc();
    assert.equal(late.value('lonely_total'), 1);
    await kernel.stop('done');
  });

  test('createTestKernel(t, { plugins, config }) returns a started kernel, stopped after the test', async (t) => {
    const kernel = await createTestKernel(t, { plugins: ['supervision', 'actors'], config: { shutdownTimeoutMs: 2000 } });
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
    // transport-nats needs a nats-server on its defaults: its own suite checks it against one it
    // starts. otel is checked here on its defaults, with no collector listening: its export retries
    // must end within the stop's flush, leaving no timer behind.
    const ownSuite = new Set(['transport-nats']);
    for (const name of names.filter((n) => !ownSuite.has(n))) {
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
