/**
 * `npm run bench [filter…]`: runs each bench/*.bench.ts in its own Node process (so one bench's heap
 * and JIT state do not colour the next), prints one table and writes bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MARK = '@@BENCH_RESULT@@';

async function child(file: string): Promise<void> {
  const mod = (await import(pathToFileURL(file).href)) as { default: Bench };
  const rows = await mod.default.run();
  process.stdout.write(`${MARK}${JSON.stringify({ name: mod.default.name, rows })}\n`, () => {
    // Done measuring: exit now rather than wait for timers a reference library left behind (nact
    // never clears its query timeouts, which reject 10 s later and would fail the run).
    process.exit(0);
  });
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (Math.abs(n) >= 100) return n.toFixed(0);
  return n.toPrecision(3);
}

async function main(): Promise<void> {
  const only = process.env.BENCH_CHILD;
  if (only !== undefined) return child(only);
  const filters = process.argv.slice(2);
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort();
  const results: Array<{ file: string; name: string; rows: BenchRow[]; error?: string }> = [];
  for (const file of files) {
    process.stderr.write(`running ${file}…\n`);
    const out = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_CHILD: path.join(here, file) },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10 * 60_000,
    });
    const line = out.stdout?.split('\n').find((l) => l.startsWith(MARK));
    if (out.status !== 0 || line === undefined) {
      results.push({ file, name: file, rows: [], error: (out.stderr || out.error?.message || `exit ${out.status}`).slice(-2000) });
      continue;
    }
    const parsed = JSON.parse(line.slice(MARK.length)) as { name: string; rows: BenchRow[] };
    parsed.rows = parsed.rows.map((r) =>
      r.ratio === undefined && r.baseline !== undefined && r.baseline !== 0 ? { ...r, ratio: r.value / r.baseline } : r,
    );
    results.push({ file, ...parsed });
  }
  const table = results.flatMap((b) =>
    b.error !== undefined
      ? [{ bench: b.name, case: 'FAILED', value: '', unit: '', baseline: '', ratio: '', target: b.error.split('\n').slice(-3).join(' '), pass: '' }]
      : b.rows.map((r) => ({
          bench: b.name,
          case: r.case,
          value: fmt(r.value),
          unit: r.unit,
          baseline: r.baseline !== undefined ? `${fmt(r.baseline)}${r.baselineName ? ` (${r.baselineName})` : ''}` : '',
          ratio: r.ratio !== undefined ? r.ratio.toFixed(3) : '',
          target: r.target ?? '',
          pass: r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
        })),
  );
  console.table(table);
  mkdirSync(path.join(here, 'results'), { recursive: true });
  const file = path.join(here, 'results', 'latest.json');
  // A filtered run updates its benches and keeps the others' last results.
  const ran = new Set(files);
  const kept = filters.length === 0 || !existsSync(file)
    ? []
    : (JSON.parse(readFileSync(file, 'utf8')) as { results: Array<{ file?: string }> }).results.filter((r) => r.file !== undefined && !ran.has(r.file));
  const payload = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    results: [...kept, ...results],
  };
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1;
}

await main();
