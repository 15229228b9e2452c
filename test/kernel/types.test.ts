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
