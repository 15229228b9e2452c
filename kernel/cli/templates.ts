/** The files `mister-smith init` writes. Each template is a function of the names it needs. */
import { KERNEL_VERSION } from '../../sdk/index.js';

export interface PluginNames {
  /** The npm package name (`ms-plugin-counter`, `@acme/counter`). */
  readonly pkg: string;
  /** The plugin's name (`counter`). */
  readonly plugin: string;
  /** For type names (`Counter`). */
  readonly pascal: string;
}

const major = KERNEL_VERSION.split('.')[0];

export function pluginNames(pkg: string): PluginNames {
  const unscoped = pkg.replace(/^@[^/]+\//, '');
  const plugin = unscoped.replace(/^(mister-smith-plugin-|ms-plugin-)/, '') || unscoped;
  const pascal = plugin
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  return { pkg, plugin, pascal: /^[0-9]/.test(pascal) ? `P${pascal}` : pascal };
}

export function pluginPackageJson(n: PluginNames): string {
  const pkg = {
    name: n.pkg,
    version: '0.1.0',
    description: `A Mister Smith plugin: ${n.plugin}`,
    type: 'module',
    keywords: ['mister-smith', 'mister-smith-plugin'],
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
    files: ['dist', 'README.md'],
    engines: { node: '>=20' },
    scripts: {
      build: 'tsc -p tsconfig.json',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      test: 'node --import tsx --test test/*.test.ts',
      prepare: 'tsc -p tsconfig.json',
    },
    peerDependencies: { 'mister-smith': `^${major}.0.0` },
    devDependencies: { 'mister-smith': `^${KERNEL_VERSION}`, tsx: '^4.0.0', typescript: '^5.0.0', '@types/node': '^20.0.0' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function pluginTsconfig(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      declaration: true,
      outDir: 'dist',
      rootDir: 'src',
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['src'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function pluginSource(n: PluginNames): string {
  return `import { definePlugin, z } from 'mister-smith/sdk';

/** What the '${n.plugin}' service offers; other plugins get it with \`ctx.resolve('${n.plugin}')\`. */
export interface ${n.pascal}Service {
  /** A greeting for \`who\`. */
  greet(who: string): string;
  /** How many greetings it has made. */
  readonly count: number;
}

// Types \`ctx.resolve('${n.plugin}')\` for every plugin that imports this package's types.
declare module 'mister-smith/sdk' {
  interface Services {
    '${n.plugin}': ${n.pascal}Service;
  }
}

/** Options, with their defaults; unknown keys are config errors. */
export const options = z.object({
  greeting: z.string().min(1).default('hello').describe('what greet() says first'),
});

export default definePlugin({
  name: '${n.plugin}',
  version: '0.1.0',
  kernel: '^${major}.0.0',
  description: 'Greets (replace with what your plugin does)',
  options,
  setup(ctx) {
    let count = 0;
    const service: ${n.pascal}Service = {
      greet(who) {
        count++;
        return \`\${ctx.options.greeting}, \${who}\`;
      },
      get count() {
        return count;
      },
    };
    ctx.provide('${n.plugin}', service);
    ctx.onStart(() => ctx.logger.info({ greeting: ctx.options.greeting }, '${n.plugin} started'));
    ctx.onStop(() => ctx.logger.info({ greetings: count }, '${n.plugin} stopped'));
  },
});
`;
}

export function pluginTest(n: PluginNames): string {
  return `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPluginConformance, createTestKernel } from 'mister-smith/testing';
import plugin from '../src/index.js';

test('${n.plugin} greets with the configured greeting', async (t) => {
  const kernel = await createTestKernel({ plugins: [{ use: plugin, options: { greeting: 'hi' } }], test: t });
  const service = kernel.resolve('${n.plugin}');
  assert.equal(service.greet('Ada'), 'hi, Ada');
  assert.equal(service.count, 1);
});

test('${n.plugin} passes the conformance check (starts, stops in time, leaves nothing behind)', async () => {
  await checkPluginConformance(plugin);
});

test('a mistyped option is a config error', async () => {
  await assert.rejects(createTestKernel({ plugins: [{ use: plugin, options: { greting: 'hi' } }] }), /greting: unknown key/);
});
`;
}

export function pluginReadme(n: PluginNames): string {
  return `# ${n.pkg}

A [Mister Smith](https://www.npmjs.com/package/mister-smith) plugin. It provides the \`${n.plugin}\`
service: \`greet(who)\` returns a greeting. Replace this with what your plugin does.

## Use it

\`\`\`sh
npm install ${n.pkg}
\`\`\`

\`\`\`json
{
  "plugins": [{ "use": "${n.pkg}", "options": { "greeting": "hello" } }]
}
\`\`\`

Another plugin uses the service with \`ctx.resolve('${n.plugin}')\` (add \`dependsOn: ['${n.plugin}']\`).

## Options

| option | type | default | what it does |
|---|---|---|---|
| \`greeting\` | string | \`"hello"\` | what \`greet()\` says first |

Unknown keys are config errors (\`mister-smith check\` reports them).

## Develop

\`\`\`sh
npm install
npm test          # node:test with the mister-smith/testing kit
npm run build     # dist/ with .d.ts
\`\`\`
`;
}

export function systemPackageJson(name: string): string {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    // The config names .ts plugins: ESM, run through tsx.
    type: 'module',
    scripts: { start: 'mister-smith start', check: 'mister-smith check' },
    dependencies: { 'mister-smith': `^${KERNEL_VERSION}`, tsx: '^4.0.0' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function systemConfig(): string {
  const config = {
    $schema: './mister-smith.schema.json',
    name: 'my-system',
    log: { level: 'info' },
    shutdownTimeoutMs: 10000,
    startTimeoutMs: 10000,
    plugins: ['supervision', { use: 'events', options: { store: { type: 'file', dir: '.mister-smith/events' } } }, { use: './plugins/hello.plugin.ts', options: { who: 'world' } }],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function systemPlugin(): string {
  return `import { definePlugin, z } from 'mister-smith/sdk';
// Types ctx.resolve('events') (the events plugin's service) in this file.
import type {} from 'mister-smith/plugins/events';

/**
 * A sample plugin: on start it publishes one event and logs a greeting. \`mister-smith start --once\`
 * stops when the work it tracked is done.
 */
export default definePlugin({
  name: 'hello',
  version: '0.1.0',
  dependsOn: ['events'],
  options: z.object({ who: z.string().default('world') }),
  setup(ctx) {
    const events = ctx.resolve('events');
    ctx.onStart(() => {
      ctx.track(
        (async () => {
          await events.publish({ type: 'hello.said', source: 'hello', data: { who: ctx.options.who } });
          ctx.logger.info(\`hello, \${ctx.options.who}\`);
        })(),
        'say hello',
      );
    });
  },
});
`;
}

export function systemReadme(): string {
  return `# my-system

A Mister Smith system. \`mister-smith.config.json\` lists its plugins; \`plugins/hello.plugin.ts\` is a
sample plugin to start from.

\`\`\`sh
npx mister-smith check            # validate the config (nothing starts)
npx mister-smith start --once     # run until the tracked work is done
npx mister-smith start            # run until Ctrl-C
npx mister-smith plugins          # the plugins and their options
\`\`\`

\`mister-smith.schema.json\` (from \`mister-smith schema --out mister-smith.schema.json\`) gives your
editor completion and checks for the config.
`;
}
