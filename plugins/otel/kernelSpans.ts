/**
 * The kernel's boot and shutdown as spans, from its Timeline: one `kernel.start` (or `kernel.stop`)
 * span with a child per plugin phase, timed as the kernel measured them.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Phase, PhaseRecord } from '../../sdk/index.js';

/** Records `phases` of the timeline as one parent span named `kernel.<name>` ending now. */
export function recordKernelPhases(tracer: Tracer, name: 'start' | 'stop', phases: readonly Phase[], timeline: readonly PhaseRecord[], system: string): void {
  const records = timeline.filter((r) => phases.includes(r.phase));
  if (records.length === 0) return;
  const begin = Math.min(...records.map((r) => r.startedAt));
  const root = tracer.startSpan(`kernel.${name}`, { kind: SpanKind.INTERNAL, startTime: begin, attributes: { 'mister_smith.system': system, 'mister_smith.plugins': records.length } }, ROOT_CONTEXT);
  const parent = trace.setSpan(ROOT_CONTEXT, root);
  let failed = false;
  for (const r of records) {
    const span = tracer.startSpan(`${r.phase} ${r.plugin}`, { startTime: r.startedAt, attributes: { 'mister_smith.plugin': r.plugin, 'mister_smith.phase': r.phase } }, parent);
    if (r.error !== undefined) {
      failed = true;
      span.setStatus({ code: SpanStatusCode.ERROR, message: r.error });
    }
    span.end(r.startedAt + r.durationMs);
  }
  if (failed) root.setStatus({ code: SpanStatusCode.ERROR, message: `a plugin failed to ${name}` });
  root.end(Math.max(Date.now(), ...records.map((r) => r.startedAt + r.durationMs)));
}
