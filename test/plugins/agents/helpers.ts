/** Shared pieces of the agents tests: a gate tool the test opens, a recording provider, record waits. */
import { definePlugin, z } from '../../../sdk/index.js';
import { createTestKernel } from '../../../testing/index.js';
import agentsPlugin from '../../../plugins/agents/index.js';
import scriptedPlugin from '../../../plugins/provider-scripted/index.js';
import type { ModelProvider, ModelRequest, ModelResponse } from '../../../plugins/agents/types.js';
import type { StoredEvent } from '../../../plugins/events/types.js';

/** Calls to `gate.wait` block until the test opens their gate (by the step name in the input). */
export class Gates {
  readonly #open = new Map<string, () => void>();
  readonly #waiting = new Map<string, Promise<void>>();
  readonly ran: string[] = [];

  wait(step: string, signal: AbortSignal): Promise<void> {
    let p = this.#waiting.get(step);
    if (p === undefined) {
      p = new Promise<void>((resolve) => this.#open.set(step, resolve));
      this.#waiting.set(step, p);
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void p!.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  open(step: string): void {
    if (!this.#open.has(step)) this.#waiting.set(step, Promise.resolve());
    this.#open.get(step)?.();
  }
}

export function toolsPlugin(gates: Gates, counters: Map<string, number> = new Map()) {
  return definePlugin({
    name: 'test-tools',
    version: '1.0.0',
    dependsOn: ['tools'],
    setup(ctx) {
      const tools = ctx.resolve('tools');
      const count = (name: string) => counters.set(name, (counters.get(name) ?? 0) + 1);
      ctx.onStop(
        tools.register({
          name: 'gate.wait',
          description: 'waits for the test',
          input: z.object({ step: z.string() }),
          handler: async ({ step }, tctx) => {
            count(`gate.wait:${step}`);
            await gates.wait(step, tctx.signal);
            gates.ran.push(step);
            return `${step} passed`;
          },
        }),
      );
      ctx.onStop(
        tools.register({
          name: 'gate.idem',
          description: 'waits for the test; safe to repeat',
          input: z.object({ step: z.string() }),
          idempotent: true,
          handler: async ({ step }, tctx) => {
            count(`gate.idem:${step}`);
            await gates.wait(step, tctx.signal);
            return `${step} passed`;
          },
        }),
      );
      ctx.onStop(
        tools.register({
          name: 'pay.send',
          description: 'sends money (needs a human)',
          input: z.object({ amount: z.number() }),
          needsApproval: (input: { amount: number }) => input.amount > 10,
          handler: ({ amount }) => {
            count('pay.send');
            return `sent ${amount}`;
          },
        }),
      );
      ctx.onStop(tools.register({ name: 'math.add', description: 'adds', input: z.object({ a: z.number(), b: z.number() }), handler: ({ a, b }) => (count('math.add'), a + b) }));
    },
  });
}

/** A provider the test scripts with a function; it keeps every request it got. */
export class RecordingProvider implements ModelProvider {
  readonly name: string;
  readonly requests: ModelRequest[] = [];
  readonly #answer: (request: ModelRequest) => ModelResponse | Promise<ModelResponse>;
  constructor(name: string, answer: (request: ModelRequest) => ModelResponse | Promise<ModelResponse>) {
    this.name = name;
    this.#answer = answer;
  }
  async complete(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    return this.#answer(request);
  }
}

export interface SystemOptions {
  readonly scripts?: Record<string, unknown[]>;
  readonly agents: unknown[];
  readonly agentsOptions?: Record<string, unknown>;
  readonly events?: unknown;
  readonly extra?: unknown[];
  readonly gates?: Gates;
  readonly counters?: Map<string, number>;
}

export function system(t: { after(fn: () => unknown): void } | undefined, o: SystemOptions) {
  return createTestKernel({
    ...(t !== undefined ? { test: t } : {}),
    plugins: [
      'supervision',
      (o.events ?? 'events') as never,
      'actors',
      'tools',
      toolsPlugin(o.gates ?? new Gates(), o.counters),
      ...((o.extra ?? []) as never[]),
      { use: agentsPlugin, options: { agents: o.agents, ...o.agentsOptions } },
      { use: scriptedPlugin, options: { scripts: o.scripts ?? {} } },
    ],
  });
}

/** Resolves with the first stored event of a type for a run (looking at what is stored first). */
export async function recordOf(events: { byCorrelation(id: string): Promise<StoredEvent[]>; subscribe: Function }, runId: string, type: string, nth = 1): Promise<StoredEvent> {
  return new Promise<StoredEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} #${nth} for ${runId} within 30 s`)), 30_000);
    let done = false;
    const check = async (): Promise<void> => {
      const found = (await events.byCorrelation(runId)).filter((e) => e.type === type);
      if (!done && found.length >= nth) {
        done = true;
        clearTimeout(timer);
        void sub.unsubscribe();
        resolve(found[nth - 1]!);
      }
    };
    const sub = (events.subscribe as (f: unknown, h: () => Promise<void>) => { unsubscribe(): Promise<void> })({ types: [type], correlationId: runId }, check);
    void check();
  });
}

export function errorOf(promise: Promise<unknown>): Promise<Error & { code: string; context: Record<string, unknown>; retryable: boolean }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error & { code: string; context: Record<string, unknown>; retryable: boolean },
  );
}
