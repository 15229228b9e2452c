/**
 * The registered tools: definitions checked once at `register`, with everything a call needs
 * resolved ahead (deadline, policy name, approval rule, per-tool label objects and counters), and
 * their descriptions for `list` and `describe` (JSON Schemas computed once per tool).
 */
import { z } from 'zod';
import type { Labels } from '../../sdk/index.js';
import type { Policy } from '../resilience/types.js';
import { checkTimeoutSetting } from './callOptions.js';
import { ToolErrorCodes, toolError } from './errors.js';
import { assertToolName } from './patterns.js';
import type { JsonSchema, ToolDefinition, ToolDescription, ToolInfo, ToolStats } from './types.js';

/** Per-tool overrides from the config file. */
export interface ToolOverride {
  readonly policy?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

/** How a call ended, as `tool_calls_total` labels it. */
export type Outcome = 'ok' | 'error' | 'timeout' | 'denied' | 'rejected' | 'replayed';

/** A tool's counters, bumped in place on the hot path. */
export interface MutableStats {
  calls: number;
  successes: number;
  errors: number;
  timeouts: number;
  replays: number;
  /** Calls whose duration was measured (see `latencySampleEvery`). */
  timed: number;
  totalLatencyMs: number;
  maxLatencyMs: number;
}

/** A registered tool. */
export interface RegisteredTool {
  readonly name: string;
  readonly definition: ToolDefinition<z.ZodType, z.ZodType>;
  readonly input: z.ZodType;
  readonly output: z.ZodType | undefined;
  readonly timeoutMs: number;
  readonly policyName: string | undefined;
  readonly idempotent: boolean;
  /** `false` (the common case, one comparison on the hot path), `true`, or the tool's predicate. */
  readonly needsApproval: boolean | ((input: unknown) => boolean);
  /** Resolved on first call: a Policy, or null when resilience is absent (warned once). */
  policy: Policy | null | undefined;
  readonly stats: MutableStats;
  /** Label objects made once per tool: the hot path must not allocate them per call. */
  readonly labels: Readonly<Record<Outcome, Labels>>;
  readonly durationLabels: Labels;
  info: ToolInfo | undefined;
  description: ToolDescription | undefined;
}

/** Frozen `{ tool, outcome }` label objects for every outcome of one tool name. */
export function outcomeLabels(tool: string): Readonly<Record<Outcome, Labels>> {
  const make = (outcome: Outcome): Labels => Object.freeze({ tool, outcome });
  return Object.freeze({
    ok: make('ok'),
    error: make('error'),
    timeout: make('timeout'),
    denied: make('denied'),
    rejected: make('rejected'),
    replayed: make('replayed'),
  });
}

/** Whether a call with this (validated) input needs approval; a predicate that throws means yes. */
export function approvalNeeded(rule: boolean | ((input: unknown) => boolean), input: unknown): boolean {
  if (typeof rule === 'boolean') return rule;
  try {
    return rule(input) !== false;
  } catch {
    return true;
  }
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  try {
    return z.toJSONSchema(schema) as JsonSchema;
  } catch {
    // Transforms and the like have no JSON Schema; describe what can be described.
    return z.toJSONSchema(schema, { unrepresentable: 'any' }) as JsonSchema;
  }
}

function invalid(name: unknown, message: string): Error {
  return toolError(ToolErrorCodes.INVALID_DEFINITION, `tool '${String(name)}': ${message}`, { name });
}

export class ToolRegistry {
  readonly #tools = new Map<string, RegisteredTool>();
  readonly #overrides: Readonly<Record<string, ToolOverride>>;
  readonly #defaultTimeoutMs: number;

  constructor(defaultTimeoutMs: number, overrides: Readonly<Record<string, ToolOverride>>) {
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#overrides = overrides;
  }

  /** Checks and adds a definition; throws TOOL_INVALID_NAME, TOOL_INVALID_DEFINITION or TOOL_NAME_TAKEN. */
  add(definition: ToolDefinition<z.ZodType, z.ZodType>): RegisteredTool {
    const def = definition;
    assertToolName(def?.name);
    if (typeof def.description !== 'string' || typeof def.handler !== 'function' || !(def.input instanceof z.ZodType)) {
      throw toolError(
        ToolErrorCodes.INVALID_DEFINITION,
        `tool '${def.name}' needs a description (string), an input zod schema and a handler function`,
        { name: def.name },
      );
    }
    if (def.output !== undefined && !(def.output instanceof z.ZodType)) throw invalid(def.name, 'output must be a zod schema');
    if (def.idempotent !== undefined && typeof def.idempotent !== 'boolean') throw invalid(def.name, 'idempotent must be a boolean');
    const needsApproval = def.needsApproval ?? false;
    if (typeof needsApproval !== 'boolean' && typeof needsApproval !== 'function') {
      throw invalid(def.name, 'needsApproval must be a boolean or a function (input) => boolean');
    }
    const badTimeout = (message: string): Error => invalid(def.name, message);
    const ownTimeout = def.timeoutMs === undefined ? undefined : checkTimeoutSetting(def.timeoutMs, badTimeout);
    if (this.#tools.has(def.name)) {
      throw toolError(ToolErrorCodes.NAME_TAKEN, `a tool named '${def.name}' is already registered; unregister it first or pick another name`, {
        name: def.name,
      });
    }
    const override = this.#overrides[def.name];
    const entry: RegisteredTool = {
      name: def.name,
      definition: def,
      input: def.input,
      output: def.output,
      timeoutMs: override?.timeoutMs === undefined ? (ownTimeout ?? this.#defaultTimeoutMs) : checkTimeoutSetting(override.timeoutMs, badTimeout),
      policyName: override?.policy ?? def.policy,
      idempotent: def.idempotent === true,
      needsApproval: needsApproval as boolean | ((input: unknown) => boolean),
      policy: undefined,
      stats: { calls: 0, successes: 0, errors: 0, timeouts: 0, replays: 0, timed: 0, totalLatencyMs: 0, maxLatencyMs: 0 },
      labels: outcomeLabels(def.name),
      durationLabels: Object.freeze({ tool: def.name }),
      info: undefined,
      description: undefined,
    };
    this.#tools.set(def.name, entry);
    return entry;
  }

  /** Removes `entry` if it is still the one registered under its name (a disposer run late is harmless). */
  removeEntry(entry: RegisteredTool): boolean {
    if (this.#tools.get(entry.name) !== entry) return false;
    return this.#tools.delete(entry.name);
  }

  remove(name: string): boolean {
    return this.#tools.delete(name);
  }

  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  values(): IterableIterator<RegisteredTool> {
    return this.#tools.values();
  }

  /** `entry` as `tools.list` shows it (computed once). */
  info(entry: RegisteredTool): ToolInfo {
    return (entry.info ??= Object.freeze({
      name: entry.name,
      description: entry.definition.description,
      inputSchema: jsonSchemaOf(entry.input),
      outputSchema: entry.output === undefined ? undefined : jsonSchemaOf(entry.output),
    }));
  }

  /** `tools.describe(name)`: undefined when no such tool. */
  describe(name: string): ToolDescription | undefined {
    const entry = this.#tools.get(name);
    if (entry === undefined) return undefined;
    return (entry.description ??= describeTool(entry, this.info(entry)));
  }
}

function describeTool(entry: RegisteredTool, info: ToolInfo): ToolDescription {
  const rule = entry.needsApproval;
  return Object.freeze({
    name: entry.name,
    description: entry.definition.description,
    idempotent: entry.idempotent,
    needsApproval(input: unknown): boolean {
      if (typeof rule === 'boolean') return rule;
      let parsed: z.ZodSafeParseResult<unknown>;
      try {
        parsed = entry.input.safeParse(input);
      } catch {
        return true; // only an async schema can tell: ask
      }
      return parsed.success && approvalNeeded(rule, parsed.data);
    },
    inputSchema: info.inputSchema,
    outputSchema: info.outputSchema,
  });
}

/** A tool's counters as `tools.stats` reports them. */
export function snapshot(tool: RegisteredTool): ToolStats {
  const s = tool.stats;
  return {
    tool: tool.name,
    calls: s.calls,
    successes: s.successes,
    errors: s.errors,
    timeouts: s.timeouts,
    replays: s.replays,
    latencySamples: s.timed,
    meanLatencyMs: s.timed === 0 ? 0 : s.totalLatencyMs / s.timed,
    maxLatencyMs: s.maxLatencyMs,
    totalLatencyMs: s.totalLatencyMs,
  };
}
