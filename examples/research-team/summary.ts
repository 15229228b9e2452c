/** What one start of the research team did, counted from the event log, printed as a small table. */
import type { EventBus } from '../../plugins/events/types.js';

export interface TeamTally {
  runs: number;
  subRuns: number;
  completed: number;
  failed: number;
  steps: number;
  toolCalls: number;
  retries: number;
  restarts: number;
  events: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

type Data = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Counts the events stored after `afterSequence` (this start's share of the log). */
export async function tally(events: EventBus, afterSequence: number): Promise<TeamTally> {
  const t: TeamTally = { runs: 0, subRuns: 0, completed: 0, failed: 0, steps: 0, toolCalls: 0, retries: 0, restarts: 0, events: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const toSequence = events.lastSequence;
  // A run resumed from an earlier process has no `started` record here: count runs by their ids.
  const runs = new Set<string>();
  const subRuns = new Set<string>();
  for await (const e of events.replay({ fromSequence: afterSequence + 1, toSequence })) {
    t.events++;
    const data = (e.data ?? {}) as Data;
    if (e.type.startsWith('agent.') && e.correlationId !== undefined) {
      t.steps++;
      runs.add(e.correlationId);
    }
    switch (e.type) {
      case 'agent.run.started':
        if (typeof data.parentRunId === 'string') subRuns.add(e.correlationId ?? '');
        break;
      case 'agent.run.completed':
        t.completed++;
        break;
      case 'agent.run.failed':
        t.failed++;
        break;
      case 'agent.model.responded':
        t.inputTokens += num((data.usage as Data | undefined)?.inputTokens);
        t.outputTokens += num((data.usage as Data | undefined)?.outputTokens);
        t.costUsd += num(data.costUsd);
        break;
      case 'agent.step': // the first agents build's journal
        if (data.type === 'model') {
          t.inputTokens += num((data.usage as Data | undefined)?.inputTokens);
          t.outputTokens += num((data.usage as Data | undefined)?.outputTokens);
        }
        break;
      case 'tool.called':
      case 'tool.failed':
        t.toolCalls++;
        break;
      case 'resilience.retry':
        t.retries++;
        break;
      case 'supervision.child.restarted':
        t.restarts++;
        break;
      default:
        break;
    }
  }
  t.runs = runs.size;
  t.subRuns = subRuns.size;
  return t;
}

const int = (n: number): string => n.toLocaleString('en-US');

/** The summary table, one `label  value  (note)` row per line. */
export function renderSummary(t: TeamTally, wallMs: number, where: { eventLog: string; reports: string; reportCount: number }): string {
  const rows: Array<[string, string, string?]> = [
    ['runs', int(t.runs), `${t.runs - t.subRuns} questions + ${t.subRuns} sub-runs; ${t.completed} completed, ${t.failed} failed`],
    ['steps', int(t.steps), 'journal records'],
    ['tool calls', int(t.toolCalls)],
    ['retries', int(t.retries), 'by resilience policies'],
    ['restarts', int(t.restarts), 'by supervisors'],
    ['events written', int(t.events)],
    ['tokens', int(t.inputTokens + t.outputTokens), `${int(t.inputTokens)} in, ${int(t.outputTokens)} out`],
    ['cost', `$${t.costUsd.toFixed(4)}`],
    ['wall time', `${(wallMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([, v]) => v.length));
  const lines = ['', 'Summary', ...rows.map(([label, value, note]) => `  ${label.padEnd(15)} ${value.padStart(width)}${note ? `   ${note}` : ''}`)];
  lines.push(`  ${'event log'.padEnd(15)} ${where.eventLog}`);
  lines.push(`  ${'reports'.padEnd(15)} ${where.reports} (${where.reportCount} filed)`);
  return `${lines.join('\n')}\n`;
}
