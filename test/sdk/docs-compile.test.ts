/**
 * Every TypeScript block in README.md and docs/*.md compiles under `--strict`, importing
 * `mister-smith`, `mister-smith/sdk`, `mister-smith/testing` and `mister-smith/plugins/<name>` the
 * way a user does — with no extra imports, so the built-in services must be typed out of the box.
 * The blocks are written to a temporary directory inside the repository and checked by tsc, with the
 * package's names mapped onto its sources.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Block {
  readonly doc: string;
  readonly line: number;
  readonly code: string;
}

function blocksOf(doc: string): Block[] {
  const text = readFileSync(path.join(root, doc), 'utf8');
  const blocks: Block[] = [];
  const re = /^```(?:ts|typescript)\s*\n([\s\S]*?)^```/gm;
  for (const match of text.matchAll(re)) {
    blocks.push({ doc, line: text.slice(0, match.index).split('\n').length + 1, code: match[1]! });
  }
  return blocks;
}

function docs(): string[] {
  return ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
}

function run(args: string[], cwd: string, signal: AbortSignal): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, signal, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

test('the README and docs have TypeScript blocks to check', () => {
  const all = docs().flatMap(blocksOf);
  assert.ok(all.filter((b) => b.doc === 'README.md').length >= 3, 'README blocks');
  assert.ok(all.some((b) => b.doc === 'docs/writing-a-plugin.md'), 'writing-a-plugin blocks');
});

test('every TypeScript block in README.md and docs/*.md compiles under --strict', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(path.join(root, '.docs-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const blocks = docs().flatMap(blocksOf);
  const files = new Map<string, Block>();
  blocks.forEach((block, i) => {
    const name = `block${i}.ts`;
    files.set(name, block);
    // A block that imports a sibling (`./greeter.js`) gets the README's plugin block as that sibling.
    writeFileSync(path.join(dir, name), `${block.code}\nexport {};\n`);
  });
  const greeter = blocks.find((b) => b.doc === 'README.md' && /export const greeter = definePlugin/.test(b.code));
  assert.ok(greeter, 'the README defines the greeter plugin');
  writeFileSync(path.join(dir, 'greeter.ts'), greeter.code);
  const rel = (p: string) => path.relative(dir, path.join(root, p)).split(path.sep).join('/');
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'ESNext.Disposable'],
        types: ['node'],
        typeRoots: [rel('node_modules/@types')],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: false,
        baseUrl: '.',
        paths: {
          'mister-smith': [rel('index.ts')],
          'mister-smith/sdk': [rel('sdk/index.ts')],
          'mister-smith/sdk/util': [rel('sdk/util/index.ts')],
          'mister-smith/testing': [rel('testing/index.ts')],
          'mister-smith/plugins/*': [rel('plugins/*/index.ts')],
        },
      },
      files: [...files.keys()],
    }),
  );
  const controller = new AbortController();
  t.after(() => controller.abort());
  const { code, output } = await run([tsc, '-p', 'tsconfig.json', '--pretty', 'false'], dir, controller.signal);
  // Name each error by the doc and line of its block.
  const readable = output.replace(/^(block\d+)\.ts\((\d+),(\d+)\)/gm, (_all, name: string, line: string, col: string) => {
    const block = files.get(`${name}.ts`)!;
    return `${block.doc}:${block.line + Number(line) - 1}:${col}`;
  });
  assert.equal(code, 0, readable);
});

test('the README, docs and shipped sources never point at files outside the repository', () => {
  const offenders: string[] = [];
  const check = (file: string) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    if (/DESIGN\.md|DESIGN §|\.\.\/shared|\bthe seed\b|\bseed §/.test(text)) offenders.push(file);
  };
  for (const doc of docs()) check(doc);
  const walk = (dir: string): string[] =>
    readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}/${e.name}`) : /\.(ts|md)$/.test(e.name) ? [`${dir}/${e.name}`] : [],
    );
  for (const dir of ['sdk', 'kernel', 'testing', 'plugins']) for (const file of walk(dir)) check(file);
  assert.deepEqual(offenders, []);
});
