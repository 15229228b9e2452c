/**
 * The example's own tools, next to the built-in `fs.*` and `clock.now`:
 * - `docs.search`: text search served by the supervised search worker (crash injected once);
 * - `catalogue.lookup`: facts about each document from a "catalogue service" that fails the first
 *   attempt of every call (a flaky dependency), run under the `catalogue` retry policy;
 * - `report.publish`: files an answer as a markdown report — the one side effect of a run, so it
 *   needs approval and writes each call's report once (keyed by its call id).
 */
import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MisterSmithError, z } from '../../sdk/index.js';
import type { ToolDefinition } from '../../plugins/tools/types.js';
import type { SearchIndex } from './SearchIndex.js';

/**
 * `idempotent` and `needsApproval` are the tool bus's durable-run fields; they are spread in so this
 * file also type-checks against a tools build that predates them.
 */
type DurableToolDefinition = ToolDefinition & { readonly idempotent?: boolean; readonly needsApproval?: boolean };

export function searchTool(index: SearchIndex): ToolDefinition {
  return {
    name: 'docs.search',
    description: 'Searches the documents for a word or phrase (case-insensitive); returns file, line and text of each hit.',
    input: z.object({ query: z.string().min(2).max(200), limit: z.number().int().min(1).max(50).default(10) }),
    output: z.array(z.object({ file: z.string(), line: z.number(), text: z.string() })),
    policy: 'search',
    timeoutMs: 5_000,
    handler: ({ query, limit }, ctx) => index.search(query, limit, ctx.signal),
  };
}

export function catalogueTool(docsDir: string, failFirstAttempts: number): ToolDefinition {
  const attempts = new Map<string, number>();
  return {
    name: 'catalogue.lookup',
    description: 'Looks up every document in the catalogue: title, size in words and last change.',
    input: z.object({}),
    policy: 'catalogue',
    timeoutMs: 5_000,
    handler: async (_input, ctx) => {
      const n = (attempts.get(ctx.callId) ?? 0) + 1;
      attempts.set(ctx.callId, n);
      if (n <= failFirstAttempts) {
        throw new MisterSmithError('CATALOGUE_UNAVAILABLE', `the catalogue service did not answer (attempt ${n}; the example fails the first ${failFirstAttempts})`, {
          kind: 'network',
          retryable: true,
        });
      }
      attempts.delete(ctx.callId);
      const out = [];
      for (const name of (await readdir(docsDir)).sort()) {
        if (!name.endsWith('.md')) continue;
        const file = path.join(docsDir, name);
        const text = await readFile(file, 'utf8');
        out.push({ file: name, title: text.split('\n', 1)[0]!.replace(/^#\s*/, ''), words: text.split(/\s+/).filter(Boolean).length, changed: (await stat(file)).mtime.toISOString() });
      }
      return out;
    },
  };
}

export interface ReportEffect {
  readonly callId: string;
  readonly title: string;
  readonly file: string;
  readonly time: string;
}

export function reportTool(reportsDir: string): DurableToolDefinition {
  const ledger = path.join(reportsDir, 'ledger.jsonl');
  return {
    name: 'report.publish',
    description: 'Files an answer as a markdown report in the reports folder. Needs approval.',
    input: z.object({ title: z.string().min(1).max(200), body: z.string().min(1).max(20_000) }),
    output: z.object({ file: z.string(), title: z.string(), alreadyFiled: z.boolean() }),
    needsApproval: true,
    // Safe to run again after a crash: the call id is the idempotency key of the write.
    idempotent: true,
    timeoutMs: 5_000,
    handler: async ({ title, body }, ctx) => {
      await mkdir(reportsDir, { recursive: true });
      const done = await readLedger(ledger);
      const earlier = done.find((e) => e.callId === ctx.callId);
      if (earlier !== undefined) return { file: earlier.file, title: earlier.title, alreadyFiled: true };
      const file = `${ctx.callId.replace(/[^A-Za-z0-9_.-]/g, '_')}.md`;
      await writeFile(path.join(reportsDir, file), `# ${title}\n\n${body}\n`);
      const effect: ReportEffect = { callId: ctx.callId, title, file, time: new Date().toISOString() };
      await appendFile(ledger, `${JSON.stringify(effect)}\n`);
      return { file, title, alreadyFiled: false };
    },
  };
}

/** The reports written so far (one line per side effect). */
export async function readLedger(file: string): Promise<ReportEffect[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReportEffect);
}
