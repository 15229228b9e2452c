/**
 * Span and trace ids for agent runs, derived from run and call ids.
 *
 * Run spans are built from the run journal, which any process may be reading: the node that started
 * a run, the one that resumes it after a kill, a dashboard. Deriving ids instead of propagating them
 * lets all of them agree without a handshake: every span of a run tree is in the trace named by its
 * root run id, a resumed run links to the span its first incarnation had, and a sub-run started on
 * another node still finds the tool-call span that started it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

function hex(input: string, chars: number): string {
  return createHash('sha256').update(input).digest('hex').slice(0, chars);
}

/** The trace of a run tree: named by the run at its root. */
export const traceIdOfRoot = (rootRunId: string): string => hex(`ms-trace:${rootRunId}`, 32);
/** The span of a run's first incarnation (later incarnations link to it). */
export const firstRunSpanId = (runId: string): string => hex(`ms-run:${runId}`, 16);
/** The span of one tool call of a run, by the tool bus's call id (`<runId>:<callId>`). */
export const toolSpanId = (busCallId: string): string => hex(`ms-tool:${busCallId}`, 16);
/**
 * The span of one model call, by the id of its `agent.model.requested` record: a turn asked again
 * after a kill is a new model call with a new record, so it gets a span of its own.
 */
export const chatSpanId = (runId: string, requestId: string): string => hex(`ms-chat:${runId}:${requestId}`, 16);

/**
 * The SDK asks its IdGenerator for ids inside `startSpan`; `Ids.next(traceId, spanId)` sets the
 * ones the next span takes. The tracer is synchronous, so nothing can start a span in between.
 */
export class PresetIdGenerator implements IdGenerator {
  #traceId: string | undefined;
  #spanId: string | undefined;

  /** The ids the next span gets (either may be left random). */
  next(traceId: string | undefined, spanId: string | undefined): this {
    this.#traceId = traceId;
    this.#spanId = spanId;
    return this;
  }

  generateTraceId(): string {
    const preset = this.#traceId;
    this.#traceId = undefined;
    return preset ?? randomBytes(16).toString('hex');
  }

  generateSpanId(): string {
    const preset = this.#spanId;
    this.#spanId = undefined;
    return preset ?? randomBytes(8).toString('hex');
  }
}
