/**
 * The research team (what `npm start` runs): a coordinator agent answers questions about the
 * documents in `docs/` by delegating to two worker agents (agents as tools), which use real tools —
 * `fs.list`/`fs.read` confined to the documents, `docs.search` served by a supervised worker that
 * crashes once, `catalogue.lookup` that fails its first attempts under a retry policy, `clock.now` —
 * and the coordinator files each answer with `report.publish`, which needs approval.
 *
 * Questions are asked as one batch with run ids derived from the batch, journaled on the event
 * log: a start that finds an unfinished batch (the process was killed) continues it, so every
 * question is answered once. At the end it prints the answers and a summary table.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { definePlugin, z } from '../../sdk/index.js';
import type {} from '../../plugins/agents/types.js';
import type { EventBus } from '../../plugins/events/types.js';
import type {} from '../../plugins/http/types.js';
import type {} from '../../plugins/supervision/types.js';
import type {} from '../../plugins/tools/types.js';
import { SearchIndex } from './SearchIndex.js';
import { renderSummary, tally } from './summary.js';
import { catalogueTool, readLedger, reportTool, searchTool } from './teamTools.js';

const DEFAULT_QUESTIONS = [
  'When is the maintenance window, and what is offline during it?',
  'Which budget line is the largest, and why?',
  'What must a visitor do before entering a dome?',
];

export const ResearchTeamOptionsSchema = z.object({
  /** Asked to the coordinator, one run each, all at once. */
  questions: z.array(z.string().min(1)).min(1).default(DEFAULT_QUESTIONS),
  /** The agent that gets each question. */
  coordinator: z.string().min(1).default('coordinator'),
  /** Agents registered as tools (`agent.<name>`) for the coordinator to delegate to. */
  workers: z.array(z.string().min(1)).default(['researcher', 'archivist']),
  /** The documents folder, relative to the config file. */
  docs: z.string().min(1).default('docs'),
  /** Where the example keeps its state (the event log is `<stateDir>/events`), relative to the config file. */
  stateDir: z.string().min(1).default('.mister-smith'),
  /** The search query number (per process) that crashes the search worker; 0 turns the crash off. */
  crashOnSearch: z.number().int().nonnegative().default(1),
  /** Attempts of each `catalogue.lookup` call that fail before one succeeds (the retry policy's work). */
  catalogueFailures: z.number().int().nonnegative().default(1),
});

/** The batch marker events: one `started` per batch, one `finished` when every question has its answer. */
const BATCH_STARTED = 'research.batch.started';
const BATCH_FINISHED = 'research.batch.finished';

async function openBatch(events: EventBus, questions: readonly string[]): Promise<{ id: string; questions: string[]; resumed: boolean }> {
  const open = new Map<string, string[]>();
  for await (const e of events.replay({ types: ['research.batch.*'] })) {
    const data = e.data as { batch: string; questions?: string[] };
    if (e.type === BATCH_STARTED) open.set(data.batch, data.questions ?? []);
    else open.delete(data.batch);
  }
  const last = [...open].at(-1);
  if (last !== undefined) return { id: last[0], questions: last[1], resumed: true };
  const id = `b${Date.now().toString(36)}-${randomUUID().slice(0, 4)}`;
  await events.publish({ type: BATCH_STARTED, source: 'research-team', subject: id, data: { batch: id, questions } });
  return { id, questions: [...questions], resumed: false };
}

export default definePlugin({
  name: 'research-team',
  version: '1.0.0',
  description: 'A coordinator agent and two workers answer questions about a folder of documents',
  dependsOn: ['agents', 'tools', 'builtin-tools', 'events', 'http', 'supervision', 'resilience'],
  optionalDependsOn: ['dashboard', 'health', 'metrics-prometheus'],
  options: ResearchTeamOptionsSchema,
  setup(ctx) {
    const o = ctx.options;
    const agents = ctx.resolve('agents');
    const tools = ctx.resolve('tools');
    const events = ctx.resolve('events');
    const http = ctx.resolve('http');
    const supervision = ctx.resolve('supervision');
    const docsDir = path.resolve(ctx.configDir, o.docs);
    const stateDir = path.resolve(ctx.configDir, o.stateDir);
    const reportsDir = path.join(stateDir, 'reports');
    const index = new SearchIndex(docsDir, o.crashOnSearch);
    const out = process.stdout;
    const tty = out.isTTY === true;

    tools.register(searchTool(index));
    tools.register(catalogueTool(docsDir, o.catalogueFailures));
    tools.register(reportTool(reportsDir));

    ctx.onStart(async () => {
      await supervision.start({ id: 'research-team', strategy: 'one-for-one', intensity: 5, periodMs: 10_000, children: [index.childSpec()] });
      for (const worker of o.workers) agents.asTool(worker);

      out.write(
        [
          '',
          'Mister Smith — research team',
          `  dashboard   ${http.url}/`,
          `  health      ${http.url}/healthz`,
          `  metrics     ${http.url}/metrics`,
          `  event log   ${path.join(stateDir, 'events')}`,
          '',
        ].join('\n') + '\n',
      );

      const began = performance.now();
      const fromSequence = events.lastSequence;
      // On a terminal: one line per finished run, and one per restart or retry as they happen.
      const runs = new Map<string, { agent: string; sub: boolean }>();
      const progress = tty
        ? events.subscribe({ types: ['agent.run.started', 'agent.run.suspended', 'agent.run.completed', 'agent.run.failed', 'supervision.child.restarted', 'resilience.retry'] }, (e) => {
            const data = (e.data ?? {}) as Record<string, unknown>;
            if (e.type === 'agent.run.started') {
              runs.set(e.correlationId ?? '', { agent: String(data.agent ?? '?'), sub: typeof data.parentRunId === 'string' });
            } else if (e.type === 'agent.run.suspended') {
              const agent = runs.get(e.correlationId ?? '')?.agent ?? '?';
              out.write(`  ⏸ ${agent} waits for ${data.reason === 'approval' ? `approval of ${String(data.name ?? 'a tool call')}` : String(data.reason)}  ${e.correlationId ?? ''}\n`);
            } else if (e.type === 'supervision.child.restarted') {
              out.write(`  ↻ ${String(data.supervisor)}/${String(data.child)} restarted by its supervisor (restart ${String(data.restartCount)})\n`);
            } else if (e.type === 'resilience.retry') {
              out.write(`  ⟳ retry (policy '${String(data.policy)}', after attempt ${String(data.attempt)}): ${String(data.code)}\n`);
            } else {
              const run = runs.get(e.correlationId ?? '') ?? { agent: String(data.agent ?? '?'), sub: false };
              const u = (data.usage ?? {}) as { turns?: number; toolCalls?: number; totalTokens?: number };
              const mark = e.type === 'agent.run.completed' ? '✓' : '✗';
              out.write(`  ${run.sub ? '  ↳ ' : ''}${mark} ${run.agent.padEnd(run.sub ? 11 : 15)} ${u.turns ?? 0} turns, ${u.toolCalls ?? 0} tool calls, ${u.totalTokens ?? 0} tokens  ${e.correlationId ?? ''}${data.code ? `  ${String(data.code)}` : ''}\n`);
            }
          })
        : undefined;

      ctx.track(
        (async () => {
          const batch = await openBatch(events, o.questions);
          out.write(`${batch.resumed ? 'Continuing' : 'Asking'} batch ${batch.id}: ${batch.questions.length} questions to '${o.coordinator}'\n`);
          const settled = await Promise.allSettled(batch.questions.map((q, i) => agents.run(o.coordinator, q, { runId: `${batch.id}-q${i + 1}` })));
          await progress?.unsubscribe();
          if (ctx.signal.aborted) {
            // Stopped (Ctrl-C) mid-batch: not a failure — the runs are on the log, and the next start continues them.
            out.write(`\nStopped before batch ${batch.id} finished; the next start continues it.\n`);
            return;
          }
          out.write('\nAnswers\n');
          settled.forEach((s, i) => {
            out.write(`  ${i + 1}. ${batch.questions[i]}\n     ${s.status === 'fulfilled' ? String(s.value.output) : `failed: ${(s.reason as Error).message}`}\n`);
          });
          const failed = settled.filter((s) => s.status === 'rejected').length;
          // Finished even with failures: a failed run stays failed, and asking it again next start would not help.
          await events.publish({ type: BATCH_FINISHED, source: 'research-team', subject: batch.id, data: { batch: batch.id, failed } });
          const t = await tally(events, fromSequence);
          const reports = await readLedger(path.join(reportsDir, 'ledger.jsonl'));
          out.write(renderSummary(t, performance.now() - began, { eventLog: path.join(stateDir, 'events'), reports: reportsDir, reportCount: reports.length }));
          // `--once` is the CLI's: without it the kernel keeps serving, and the reader should know why it has not exited.
          if (!process.argv.includes('--once')) out.write(`\nStill serving the dashboard at ${http.url}/ — Ctrl-C to stop.\n`);
          if (failed > 0) throw new Error(`${failed} of ${batch.questions.length} questions failed`);
        })(),
        'research-team batch',
      );
    });
  },
});
