import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildCatalogue, ERRORS_DOC, readCodes, renderMarkdown, REPO_ROOT } from '../../scripts/error-catalogue.js';

/**
 * Parts whose constants still use keys that differ from their codes (e.g. `UNKNOWN_AGENT:
 * 'AGENT_NOT_FOUND'`). Their owners align them (keeping the string codes) and take them off this list.
 */
const KEYS_NOT_YET_ALIGNED = new Set(['actors', 'builtin-tools', 'events', 'tools']);

/**
 * Codes thrown as literals by parts that have not yet put them in their errors.ts. Their owners add
 * them there and take them off this list; any other uncatalogued code fails the test.
 */
const NOT_YET_CATALOGUED = new Set<string>([]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'public' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Codes written as string literals where an error is made: `new XError('CODE'`, `xError('CODE'`. */
function thrownLiterals(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const re = /\b(?:new\s+)?[A-Za-z]\w*Error\(\s*['"]([A-Z][A-Z0-9]*_[A-Z0-9_]+)['"]/g;
  for (const dir of ['sdk', 'kernel', 'testing', 'plugins']) {
    for (const file of sourceFiles(path.join(REPO_ROOT, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(re)) {
        const where = path.relative(REPO_ROOT, file);
        found.set(match[1]!, [...(found.get(match[1]!) ?? []), where]);
      }
    }
  }
  return found;
}

test('the catalogue reads every part’s errors.ts: sdk, kernel, testing and the plugins', () => {
  const entries = buildCatalogue();
  const owners = new Set(entries.map((e) => e.owner));
  for (const owner of ['sdk', 'kernel', 'testing', 'supervision', 'actors', 'events', 'tools', 'http', 'tasks']) assert.ok(owners.has(owner), owner);
  assert.ok(entries.some((e) => e.code === 'KERNEL_STOP_TIMEOUT' && e.owner === 'kernel' && /shutdownTimeoutMs/.test(e.description)));
  for (const entry of entries) assert.match(entry.code, /^[A-Z][A-Z0-9_]*$/);
});

test('each code belongs to one part, and keys equal codes (except parts listed as not yet aligned)', () => {
  const entries = buildCatalogue();
  const owners = new Map<string, Set<string>>();
  for (const entry of entries) owners.set(entry.code, (owners.get(entry.code) ?? new Set()).add(entry.owner));
  const shared = [...owners].filter(([, by]) => by.size > 1).map(([code, by]) => `${code}: ${[...by].join(', ')}`);
  assert.deepEqual(shared, [], 'a code defined by two parts');
  const misaligned = entries.filter((e) => e.key !== e.code && !KEYS_NOT_YET_ALIGNED.has(e.owner)).map((e) => `${e.file}: ${e.key} → '${e.code}'`);
  assert.deepEqual(misaligned, [], 'keys must equal their codes');
  for (const entry of entries.filter((e) => !KEYS_NOT_YET_ALIGNED.has(e.owner))) assert.notEqual(entry.description, '', `${entry.code} needs a /** */ comment`);
});

test('every error code written as a literal where an error is made is in the catalogue', () => {
  const known = new Set(buildCatalogue().map((e) => e.code));
  const missing = [...thrownLiterals()].filter(([code]) => !known.has(code) && !NOT_YET_CATALOGUED.has(code)).map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`);
  assert.deepEqual(missing, [], 'add these codes to the errors.ts of the part that throws them');
});

test('readCodes takes exported const objects of codes with their comments, and nothing else', () => {
  const entries = readCodes(
    `export const A = Object.freeze({
  /** Thrown when x. */
  A_ONE: 'A_ONE',
  /**
   * Thrown when y,
   * over two lines.
   */
  A_TWO: 'A_TWO',
} as const);
export const Mixed = { A: 'A_X', n: 1 };
const Private = { P_ONE: 'P_ONE' };
export const Lower = { a: 'not-a-code' };`,
    'demo',
    'demo/errors.ts',
  );
  assert.deepEqual(
    entries.map((e) => [e.code, e.key, e.constants, e.description]),
    [
      ['A_ONE', 'A_ONE', 'A', 'Thrown when x.'],
      ['A_TWO', 'A_TWO', 'A', 'Thrown when y, over two lines.'],
    ],
  );
});

test('docs/errors.md is generated from the catalogue and up to date (npm run docs:errors)', () => {
  const expected = renderMarkdown(buildCatalogue());
  assert.equal(readFileSync(ERRORS_DOC, 'utf8'), expected, 'docs/errors.md is stale: run `npm run docs:errors`');
});
