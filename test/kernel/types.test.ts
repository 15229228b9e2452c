/**
 * Type-level tests of the public API: they pass when this file typechecks (`npm run typecheck`);
 * the runtime part only makes sure the file loads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definePlugin, z, type Counter, type PluginContext } from '../../index.js';

interface KernelTestTypedService {
  greet(name: string): string;
}

declare module '../../sdk/index.js' {
  interface Services {
    kernelTestTypedService: KernelTestTypedService;
  }
}

test('declaration merging on Services types resolve; options are typed from the schema', () => {
  const plugin = definePlugin({
    name: 'typed',
    version: '1.0.0',
    options: z.object({ greeting: z.string().default('hello'), times: z.number().default(1) }),
    setup(ctx) {
      const greeting: string = ctx.options.greeting;
      const times: number = ctx.options.times;
      // @ts-expect-error an option the schema does not have
      void ctx.options.missing;
      ctx.provide('kernelTestTypedService', { greet: (n) => `${greeting} ${n}`.repeat(times) });
      // @ts-expect-error a declared service must be provided with its declared type
      ctx.provide('kernelTestTypedService', { greet: 42 });
      // Names nobody declared take any value.
      ctx.provide('untyped-service', 42);
      const service: KernelTestTypedService = ctx.resolve('kernelTestTypedService');
      const maybe: KernelTestTypedService | undefined = ctx.tryResolve('kernelTestTypedService');
      // @ts-expect-error the typed service has no such method
      void service.shout;
      // Services nobody declared stay reachable with an explicit type.
      const other = ctx.resolve<number>('untyped-service');
      const counter: Counter = ctx.metrics.counter({ name: 'x_total', help: 'x' });
      void [maybe, other, counter];
    },
  });
  assert.equal(plugin.name, 'typed');
  const check = (ctx: PluginContext<{ a: number }>): number => ctx.options.a;
  assert.equal(typeof check, 'function');
});

test('defineConfig types each built-in plugin\'s options by its use name (checked by tsc), and returns the config', async () => {
  const { defineConfig, createKernel, builtinPluginNames } = await import('../../index.js');
  const inline = definePlugin({ name: 'inline-typed', version: '1.0.0', options: z.object({ size: z.number().default(1) }), setup() {} });
  const config = defineConfig({
    name: 'typed',
    log: { level: 'warn' },
    plugins: [
      'supervision',
      { use: 'actors', options: { mailbox: { capacity: 1000 } } },
      { use: 'tools', options: { grants: { a: ['echo'] }, deny: { a: ['fs.*'] } } },
      { use: 'events', options: { store: { type: 'memory' } } },
      { use: inline, options: { size: 3 } },
      { use: inline, name: 'inline-2' },
      { use: 'ms-third-party', options: { anything: true }, enabled: false },
      { use: './local.plugin.ts', name: 'local', optional: true, enabled: false },
    ],
  });
  defineConfig({
    // @ts-expect-error a wrong type in a built-in plugin's options
    plugins: [{ use: 'actors', options: { mailbox: { capacity: 'many' } } }],
  });
  defineConfig({
    // @ts-expect-error a mistyped key in a built-in plugin's options (the "dney" case)
    plugins: [{ use: 'tools', options: { dney: { a: ['echo'] } } }],
  });
  defineConfig({
    // @ts-expect-error a mistyped nested key
    plugins: [{ use: 'actors', options: { mailbox: { capacty: 1 } } }],
  });
  defineConfig({
    // @ts-expect-error an inline plugin's options are typed by its schema
    plugins: [{ use: inline, options: { size: 'big' } }],
  });
  // @ts-expect-error kernel keys are typed too
  defineConfig({ shutdownTimeoutMs: '30s' });

  // What it returns is the config itself, ready for the kernel (disabled entries are not loaded).
  const kernel = await createKernel({ config, logger: (await import('pino')).default({ level: 'silent' }) });
  assert.deepEqual(kernel.plugins.map((p) => p.name).sort(), ['actors', 'events', 'inline-2', 'inline-typed', 'supervision', 'tools']);
  // Every built-in has an entry in the type map (the file is the map's single source).
  const { readFile } = await import('node:fs/promises');
  const source = await readFile(new URL('../../kernel/defineConfig.ts', import.meta.url), 'utf8');
  for (const name of builtinPluginNames()) assert.match(source, new RegExp(`^  '?${name}'?: PluginOptionsInput<`, 'm'), `${name} is missing from BuiltinPluginOptions`);
});
