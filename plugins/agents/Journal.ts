/**
 * Where a run's records go: the event log when the events plugin is loaded (durable, per its store's
 * fsync mode), else memory (a run then survives an actor crash, not a process restart). Every
 * append is awaited by the run loop before the effect it gates.
 */
import type { EventBus, StoredEvent } from '../events/types.js';
import type { JournalRecord, JournalRecordType } from './types.js';

/** The event types that make up a journal. */
export const JOURNAL_TYPES: ReadonlySet<string> = new Set<JournalRecordType>([
  'agent.run.started',
  'agent.model.requested',
  'agent.model.responded',
  'agent.tool.called',
  'agent.tool.returned',
  'agent.run.suspended',
  'agent.run.resumed',
  'agent.run.completed',
  'agent.run.failed',
  'agent.run.cancelled',
]);

/**
 * Where a run's records go. Callers pass data without `undefined` fields, so a record reads back
 * the same from every store.
 */
export interface Journal {
  /** Whether records outlive the process. */
  readonly durable: boolean;
  /** `traceparent` rides on the record's event (the memory journal keeps it on the record). */
  append(runId: string, agent: string, type: JournalRecordType, data: Record<string, unknown>, causationId: string | undefined, traceparent?: string): Promise<JournalRecord>;
  /** A run's records in order. */
  read(runId: string): Promise<JournalRecord[]>;
  /** Every record of every run, in log order. */
  scan(signal?: AbortSignal): AsyncIterable<JournalRecord>;
  /** Drops what memory holds of a finished run (the memory journal forgets it; the event log keeps it). */
  forget(runId: string): void;
}

export function toRecord(event: StoredEvent): JournalRecord | undefined {
  if (!JOURNAL_TYPES.has(event.type) || event.correlationId === undefined) return undefined;
  return {
    id: event.id,
    type: event.type as JournalRecordType,
    runId: event.correlationId,
    time: event.time,
    ...(event.causationId !== undefined ? { causationId: event.causationId } : {}),
    ...(event.traceparent !== undefined ? { traceparent: event.traceparent } : {}),
    data: (event.data ?? {}) as Record<string, unknown>,
  };
}

export class EventJournal implements Journal {
  readonly durable = true;
  readonly #events: EventBus;

  constructor(events: EventBus) {
    this.#events = events;
  }

  append(runId: string, agent: string, type: JournalRecordType, data: Record<string, unknown>, causationId: string | undefined, traceparent?: string): Promise<JournalRecord> {
    // On every step: one input object, one record, one `then` (no async frame, no re-check of
    // what this method just wrote).
    const input: { type: string; source: string; subject: string; correlationId: string; causationId?: string; traceparent?: string; data: Record<string, unknown> } = {
      type,
      source: 'agents',
      subject: agent,
      correlationId: runId,
      data,
    };
    if (causationId !== undefined) input.causationId = causationId;
    if (traceparent !== undefined) input.traceparent = traceparent;
    return this.#events.publish(input).then((event) => {
      const record: { id: string; type: JournalRecordType; runId: string; time: string; causationId?: string; traceparent?: string; data: Record<string, unknown> } = { id: event.id, type, runId, time: event.time, data };
      if (causationId !== undefined) record.causationId = causationId;
      if (traceparent !== undefined) record.traceparent = traceparent;
      return record;
    });
  }

  async read(runId: string): Promise<JournalRecord[]> {
    const events = await this.#events.byCorrelation(runId, { limit: 100_000 });
    const out: JournalRecord[] = [];
    for (const e of events) {
      const r = toRecord(e);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  async *scan(signal?: AbortSignal): AsyncIterable<JournalRecord> {
    for await (const event of this.#events.replay({ types: ['agent.run.>', 'agent.model.>', 'agent.tool.>'], ...(signal ? { signal } : {}) })) {
      const r = toRecord(event);
      if (r !== undefined) yield r;
    }
  }

  forget(): void {}
}

export class MemoryJournal implements Journal {
  readonly durable = false;
  readonly #runs = new Map<string, JournalRecord[]>();
  #next = 0;

  async append(runId: string, _agent: string, type: JournalRecordType, data: Record<string, unknown>, causationId: string | undefined, traceparent?: string): Promise<JournalRecord> {
    const record: JournalRecord = {
      id: `journal-${++this.#next}`,
      type,
      runId,
      time: new Date().toISOString(),
      ...(causationId !== undefined ? { causationId } : {}),
      ...(traceparent !== undefined ? { traceparent } : {}),
      data,
    };
    let list = this.#runs.get(runId);
    if (list === undefined) this.#runs.set(runId, (list = []));
    list.push(record);
    return record;
  }

  async read(runId: string): Promise<JournalRecord[]> {
    return [...(this.#runs.get(runId) ?? [])];
  }

  async *scan(): AsyncIterable<JournalRecord> {
    for (const list of this.#runs.values()) yield* list;
  }

  forget(runId: string): void {
    this.#runs.delete(runId);
  }
}
