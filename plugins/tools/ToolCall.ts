/**
 * One call in flight: the context middleware and the handler see, and the deadline entry when the
 * handler answers asynchronously. One object per call; the AbortSignal and the call id are made
 * only if someone reads them (a signal costs ~3 µs to create, more than a whole fast call); the
 * trace context is read through from the options (or the parent call), never copied.
 */
import type { z } from 'zod';
import type { ToolError } from '../../sdk/index.js';
import type { DeadlineEntry } from '../../sdk/util/index.js';
import type { CallDeadlines, TimedEntry } from './CallDeadlines.js';
import type { CallOptions, NestedCallOptions, ToolCallContext, ToolContext } from './types.js';

/** What a call needs from the bus that runs it. */
export interface CallHost {
  nextCallId(): string;
  nested(parent: ToolCall, name: string, input: unknown, options: NestedCallOptions | undefined): Promise<unknown>;
  /** Validates a handler's result against the tool's output schema; throws TOOL_INVALID_OUTPUT. */
  checkOutput(call: ToolCall, value: unknown): unknown;
  timeoutError(call: ToolCall): ToolError;
  cancelledError(call: ToolCall, reason: unknown): ToolError;
  settled(call: ToolCall): void;
}

const EMPTY: readonly string[] = Object.freeze([]);

export class ToolCall implements ToolCallContext, ToolContext, TimedEntry {
  /** @internal deadline list links (see CallDeadlines). */ deadline = 0;
  /** @internal */ deadlineTick = 0;
  /** @internal */ prev: DeadlineEntry | undefined = undefined;
  /** @internal */ next: DeadlineEntry | undefined = undefined;
  readonly agentId: string;
  readonly tool: string;
  input: unknown;
  result: unknown = undefined;
  readonly delegation: readonly string[];
  /** @internal the call that made this one with `ctx.call`. */
  readonly parent: ToolCall | undefined;
  /** @internal */ readonly timeoutMs: number;
  /** @internal what the call is waiting for (the deadline error names it). */
  phase: 'approval' | 'handler' = 'handler';
  /** @internal the approval hook's answer. */
  decision: unknown = undefined;
  /** @internal kept from the start of the call: unregistering mid-call changes nothing. */
  readonly outputSchema: z.ZodType | undefined;

  readonly #host: CallHost;
  readonly #options: CallOptions | undefined;
  #callId: string | undefined;
  #controller: AbortController | undefined;
  #abortReason: unknown = undefined;
  #listening = false;
  #resolve: (() => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #pending = false;

  constructor(
    host: CallHost,
    agentId: string,
    tool: string,
    input: unknown,
    delegation: readonly string[] | undefined,
    options: CallOptions | undefined,
    parent: ToolCall | undefined,
    timeoutMs: number,
    outputSchema: z.ZodType | undefined,
  ) {
    this.#host = host;
    this.agentId = agentId;
    this.tool = tool;
    this.input = input;
    this.delegation = delegation ?? EMPTY;
    this.#options = options;
    this.parent = parent;
    this.timeoutMs = timeoutMs;
    this.outputSchema = outputSchema;
    this.#callId = options?.callId;
  }

  get callId(): string {
    return (this.#callId ??= this.#host.nextCallId());
  }

  get correlationId(): string {
    return this.#options?.correlationId ?? this.parent?.correlationId ?? this.callId;
  }

  /**
   * The caller's trace context: the one given, else the parent call's (a nested call inherits it).
   * An accessor, not a field: an untraced call stores nothing and pays nothing unless it is read,
   * and reads `undefined` (no own property) when neither this call nor a parent has one.
   */
  get traceparent(): string | undefined {
    return this.#options?.traceparent ?? this.parent?.traceparent;
  }

  /** The caller's signal: the one given, else the parent call's. */
  get callerSignal(): AbortSignal | undefined {
    return this.#options?.signal ?? this.parent?.signal;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
      else this.#listen();
    }
    return this.#controller.signal;
  }

  /** Whether the call was cancelled or timed out. */
  get aborted(): boolean {
    // Asks the parent instead of reading its `signal`, which would create the parent's controller.
    return this.#abortReason !== undefined || this.#options?.signal?.aborted === true || this.parent?.aborted === true;
  }

  call<T = unknown>(name: string, input: unknown, options?: NestedCallOptions): Promise<T> {
    return this.#host.nested(this, name, input, options) as Promise<T>;
  }

  /**
   * Waits for an asynchronous handler result under the deadline and the caller's signal. The
   * returned promise rejects at the deadline even if the handler never settles.
   * @internal
   */
  waitFor(result: PromiseLike<unknown>, deadlines: CallDeadlines, phase: 'approval' | 'handler' = 'handler'): Promise<void> {
    this.phase = phase;
    return new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#pending = true;
      // Always: the bus validated and capped the deadline, and `close` cancels what is on the list.
      deadlines.add(this);
      this.#listen();
      result.then(
        (value) => this.#settle(value),
        (error: unknown) => this.#fail(error),
      );
    });
  }

  /** @internal the deadline passed. */
  expire(): void {
    if (!this.#pending) return;
    const error = this.#host.timeoutError(this);
    this.#abort(error);
    this.#finish()?.(error);
  }

  /** @internal the caller gave up or the bus is stopping. */
  cancel(reason: unknown): void {
    const error = this.#host.cancelledError(this, reason);
    this.#abort(error);
    if (this.#pending) this.#finish()?.(error);
  }

  /** @internal removes the caller-signal listener once the call is over. */
  dispose(): void {
    if (this.#listening) {
      this.#listening = false;
      this.callerSignal?.removeEventListener('abort', this.#onCallerAbort);
    }
  }

  #settle(value: unknown): void {
    if (!this.#pending) return;
    const resolve = this.#resolve!;
    const reject = this.#finish()!;
    try {
      if (this.phase === 'handler') this.result = this.#host.checkOutput(this, value);
      else this.decision = value;
      resolve();
    } catch (error) {
      reject(error);
    }
  }

  #fail(error: unknown): void {
    if (this.#pending) this.#finish()?.(error);
  }

  /** Ends the pending phase; returns the reject function (undefined if already over). */
  #finish(): ((error: unknown) => void) | undefined {
    if (!this.#pending) return undefined;
    this.#pending = false;
    this.#host.settled(this);
    this.dispose();
    return this.#reject;
  }

  #abort(reason: unknown): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  #listen(): void {
    if (this.#listening) return;
    const signal = this.callerSignal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.cancel(signal.reason);
      return;
    }
    this.#listening = true;
    signal.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  // An arrow property would allocate per call; bound lazily only for calls with a caller signal.
  get #onCallerAbort(): () => void {
    return (this.#boundAbort ??= () => this.cancel(this.callerSignal?.reason));
  }
  #boundAbort: (() => void) | undefined;
}
