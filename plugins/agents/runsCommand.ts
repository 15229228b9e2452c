/**
 * `mister-smith runs [--config f] [--agent a] [--status s] [--json]` lists the runs of the event
 * log; `mister-smith runs show <runId> [--json]` prints one as a tree (turns, tool calls, sub-runs,
 * tokens, cost, durations). It opens the log read-only (no lock, no repair, no writes), so it works
 * beside a running system.
 */
import { parseArgs } from 'node:util';
import type { PluginCommand } from '../../sdk/index.js';
import type {} from '../events/types.js';
import { toRecord } from './Journal.js';
import type { AgentsOptions } from './options.js';
import { RunState } from './RunState.js';
import type { JournalRecord, RunSummary } from './types.js';

const USAGE = 'runs [--config <file>] [--agent <name>] [--status <status>] [--json] | runs show <runId> [--json]';

/** Every run of the log, folded from its records (in log order). */
export interface LoggedRun {
  readonly state: RunState;
  readonly records: JournalRecord[];
}

export function foldRuns(records: Iterable<JournalRecord>): Map<string, LoggedRun> {
  const runs = new Map<string, LoggedRun>();
  for (const r of records) {
    let run = runs.get(r.runId);
    if (run === undefined) runs.set(r.runId, (run = { state: new RunState(r.runId), records: [] }));
    run.state.apply(r);
    run.records.push(r);
  }
  return runs;
}

function ms(from: string | undefined, to: string | undefined): string {
  if (from === undefined || to === undefined) return '…';
  const d = Date.parse(to) - Date.parse(from);
  return d < 1000 ? `${d}ms` : `${(d / 1000).toFixed(1)}s`;
}

function cost(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

function short(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The `runs` table. */
export function formatRunsTable(summaries: readonly RunSummary[]): string {
  const rows = [['RUN', 'AGENT', 'STATUS', 'STARTED', 'DURATION', 'TOKENS', 'TOOLS', 'COST', 'PARENT']];
  for (const s of summaries) {
    rows.push([
      s.runId,
      s.agent,
      s.status,
      s.startedAt,
      ms(s.startedAt, s.endedAt),
      String(s.usage.totalTokens),
      String(s.usage.toolCalls),
      cost(s.usage.costUsd),
      s.parentRunId ?? '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** One run as a tree, its sub-runs nested under the tool calls that started them. */
export function formatRunTree(runs: ReadonlyMap<string, LoggedRun>, runId: string, indent = ''): string {
  const run = runs.get(runId);
  if (run === undefined) return '';
  const { state, records } = run;
  const s = state.summary();
  const end = state.terminal;
  let out = `${indent}${runId}  ${s.agent}  ${s.status}  ${s.usage.totalTokens} tokens (${s.usage.inputTokens} in, ${s.usage.outputTokens} out)  ${s.usage.toolCalls} tool calls  ${cost(s.usage.costUsd)}  ${ms(s.startedAt, end?.time)}\n`;
  const children = [...runs.values()].filter((r) => r.state.started?.parentRunId === runId);
  const requested = new Map<number, string>();
  const called = new Map<string, JournalRecord>();
  const lines: string[] = [];
  const line = (text: string, depth = 1): void => void lines.push(`${indent}${'  '.repeat(depth)}${text}`);
  line(`input: ${short(state.input)}`);
  for (const r of records) {
    const d = r.data as Record<string, unknown>;
    switch (r.type) {
      case 'agent.model.requested':
        requested.set(d.turn as number, r.time);
        break;
      case 'agent.model.responded': {
        const usage = d.usage as { inputTokens: number; outputTokens: number };
        const calls = (d.toolCalls as unknown[]).length;
        const what = calls > 0 ? `${calls} tool call${calls === 1 ? '' : 's'}` : `reply ${short(d.reply)}`;
        line(`turn ${d.turn as number}  model  ${usage.inputTokens}+${usage.outputTokens} tokens${d.costUsd !== undefined ? `  ${cost(d.costUsd as number)}` : ''}  ${ms(requested.get(d.turn as number), r.time)}  → ${what}`);
        break;
      }
      case 'agent.tool.called':
        called.set(d.callId as string, r);
        break;
      case 'agent.tool.returned': {
        const c = called.get(d.callId as string);
        const cd = (c?.data ?? {}) as { name?: string; input?: unknown };
        const result = 'error' in d ? `error ${(d.error as { code: string }).code}` : short(d.output, 40);
        line(`tool ${cd.name ?? '?'} (${d.callId as string}) ${short(cd.input, 40)}  ${ms(c?.time, r.time)}  → ${result}`, 2);
        break;
      }
      case 'agent.run.suspended':
        line(`suspended (${d.reason as string}) on ${d.callId as string}`);
        break;
      case 'agent.run.resumed':
        line(`resumed${d.reason !== undefined ? ` (${d.reason as string})` : ''}${d.decision !== undefined ? `: ${d.decision as string} ${d.callId as string}` : ''}`);
        break;
      case 'agent.run.completed':
        line(`completed → ${short(d.output)}`);
        break;
      case 'agent.run.failed':
        line(`failed ${d.code as string}: ${short(d.message, 100)}`);
        break;
      case 'agent.run.cancelled':
        line('cancelled');
        break;
    }
  }
  out += lines.join('\n') + '\n';
  for (const child of children) out += `${indent}  sub-run:\n` + formatRunTree(runs, child.state.runId, `${indent}    `);
  return out;
}

export const runsCommand: PluginCommand<AgentsOptions> = {
  summary: 'list agent runs from the event log, or show one as a tree',
  usage: USAGE,
  async run(ctx): Promise<number> {
    let values: { agent?: string; status?: string; json?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...ctx.argv],
        options: { agent: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } },
        allowPositionals: true,
        strict: true,
      }));
    } catch (error) {
      ctx.stderr.write(`runs: ${(error as Error).message}\nusage: mister-smith ${USAGE}\n`);
      return 2;
    }
    const show = positionals[0] === 'show';
    if ((show && positionals.length !== 2) || (!show && positionals.length > 0)) {
      ctx.stderr.write(`runs: ${show ? 'show takes one run id' : `unknown arguments: ${positionals.join(' ')}`}\nusage: mister-smith ${USAGE}\n`);
      return 2;
    }
    const events = ctx.config.plugins.find((p) => p.name === 'events');
    const store = (events?.options as { store?: { type?: string } } | undefined)?.store;
    if (events === undefined || store?.type !== 'file') {
      ctx.stderr.write(`runs: the config ${ctx.config.configPath} has ${events === undefined ? 'no events plugin' : `an events store of type '${store?.type}'`}; runs are listed from a file event store\n`);
      return 1;
    }
    // Silent: the inspection kernel's own logs (a health check calling the read-only store
    // unwritable, start and stop lines) are noise above the table; a failure to open the log still
    // rejects here and is reported by the CLI.
    const kernel = await ctx.startKernel({ only: ['events'], options: { events: { store: { readOnly: true } } }, logTo: 'silent' });
    try {
      const records: JournalRecord[] = [];
      for await (const event of kernel.resolve('events').replay({ types: ['agent.run.>', 'agent.model.>', 'agent.tool.>'], signal: ctx.signal })) {
        const r = toRecord(event);
        if (r !== undefined) records.push(r);
      }
      const runs = foldRuns(records);
      if (show) {
        const id = positionals[1]!;
        const match = runs.has(id) ? id : [...runs.keys()].filter((k) => k.startsWith(id));
        const runId = typeof match === 'string' ? match : match.length === 1 ? match[0]! : undefined;
        if (runId === undefined) {
          ctx.stderr.write(`runs: ${typeof match !== 'string' && match.length > 1 ? `'${id}' matches ${match.length} runs` : `no run '${id}' in the log`}\n`);
          return 1;
        }
        if (values.json === true) ctx.stdout.write(JSON.stringify(tree(runs, runId), null, 2) + '\n');
        else ctx.stdout.write(formatRunTree(runs, runId));
        return 0;
      }
      const summaries = [...runs.values()]
        .filter((r) => r.state.started !== undefined)
        .map((r) => r.state.summary())
        .filter((s) => (values.agent === undefined || s.agent === values.agent) && (values.status === undefined || s.status === values.status));
      ctx.stdout.write(values.json === true ? JSON.stringify(summaries, null, 2) + '\n' : formatRunsTable(summaries));
      return 0;
    } finally {
      await kernel.stop('runs listed');
    }
  },
};

interface RunTree {
  readonly summary: RunSummary;
  readonly steps: readonly JournalRecord[];
  readonly children: readonly RunTree[];
}

function tree(runs: ReadonlyMap<string, LoggedRun>, runId: string): RunTree {
  const run = runs.get(runId)!;
  const children = [...runs.values()].filter((r) => r.state.started?.parentRunId === runId).map((r) => tree(runs, r.state.runId));
  return { summary: run.state.summary(), steps: run.records, children };
}
