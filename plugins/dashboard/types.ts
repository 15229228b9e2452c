/**
 * Public contract of the dashboard plugin: the JSON its API under `/dashboard/api/` serves. The
 * page uses exactly these shapes; scripts may too.
 */

/** One run as the runs table shows it, rebuilt from the run's journal on the event log. */
export interface RunSummary {
  readonly runId: string;
  readonly agent: string;
  /** `queued | running | suspended | completed | failed | cancelled`, or `interrupted` (found unfinished at start). */
  readonly status: string;
  readonly parentRunId?: string;
  /** ISO-8601 time of `agent.run.started`. */
  readonly startedAt: string;
  readonly endedAt?: string;
  /** The run's input, cut to 200 characters. */
  readonly input?: string;
  /** The final reply, cut to 400 characters. */
  readonly output?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly usage: RunUsageView;
  /** Tool calls of this run waiting for `agents.approve`. */
  readonly pendingApprovals: number;
}

export interface RunUsageView {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
  readonly toolCalls: number;
  readonly turns: number;
  readonly costUsd: number;
}

/** One record of a run's journal, as the step tree shows it. */
export interface RunStep {
  readonly sequence: number;
  readonly time: string;
  /** The event type without `agent.` (`model.responded`, `tool.called`, `run.suspended`…). */
  readonly kind: string;
  readonly turn?: number;
  readonly callId?: string;
  readonly tool?: string;
  /** A short, human-readable line (reply text, tool input or output), cut to 300 characters. */
  readonly text?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface RunDetail {
  readonly summary: RunSummary;
  readonly steps: readonly RunStep[];
  readonly children: readonly RunSummary[];
}

/** A tool call suspended until someone allows or denies it. */
export interface PendingApproval {
  readonly runId: string;
  readonly agent: string;
  readonly callId: string;
  readonly tool?: string;
  readonly input?: unknown;
  /** When the run was suspended (ISO-8601). */
  readonly since: string;
}

/** A node of the supervision tree. */
export interface TreeNode {
  readonly id: string;
  readonly type: 'supervisor' | 'worker';
  readonly state: string;
  readonly restartCount: number;
  /** Last restart seen on the event log (ISO-8601), if any. */
  readonly lastRestartAt?: string;
  readonly children?: readonly TreeNode[];
}

/** A figure in the key-metrics strip. */
export interface KeyMetric {
  readonly name: string;
  readonly label: string;
  readonly value: number;
}

/** An event as the stream panel shows it. */
export interface EventView {
  readonly sequence: number;
  readonly time: string;
  readonly type: string;
  readonly source: string;
  readonly correlationId?: string;
  readonly subject?: string;
  /** The event's data as JSON, cut to 300 characters. */
  readonly summary: string;
}

/** `GET /dashboard/api/overview`: what the page needs to draw its frame. */
export interface Overview {
  readonly title: string;
  readonly features: {
    readonly events: boolean;
    readonly agents: boolean;
    readonly approvals: boolean;
    readonly supervision: boolean;
    readonly health: boolean;
    readonly metrics: boolean;
  };
  readonly links: { readonly healthz?: string; readonly metrics?: string };
}
