/**
 * A supervisor as the child of another (`supervisorChild`, `Supervisor.startSupervisor`): its
 * ChildSpec and its ChildHandle. Both are small classes rather than object literals with closures:
 * an actor system nests one supervisor per parent actor, and under tsx every named closure also
 * carries a property store of its own. Internal: not exported from the plugin's index.
 */
import type { BackoffOptions } from '../../sdk/index.js';
import type { SupervisorNode } from './SupervisorNode.js';
import type {
  ChildContext,
  ChildHandle,
  ChildSpec,
  ExitListener,
  NestedSupervisorOptions,
  RestartType,
  ShutdownPolicy,
  SupervisorSpec,
} from './types.js';

/** The ChildSpec of a nested supervisor; each `start` creates a new SupervisorNode from the spec. */
export class NestedSupervisorSpec implements ChildSpec {
  readonly id: string;
  readonly type = 'supervisor' as const;
  readonly restart: RestartType;
  readonly shutdown: ShutdownPolicy;
  readonly startTimeoutMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly #spec: SupervisorSpec;
  readonly #onStart: ((supervisor: SupervisorNode) => void) | undefined;
  readonly #create: (spec: SupervisorSpec) => SupervisorNode;
  /** The supervisor the last `start` created, until `takeStarted` reads it (for `startSupervisor`). */
  #started: SupervisorNode | undefined = undefined;

  /** The spec must have been validated (`validateSupervisorSpec`). */
  constructor(spec: SupervisorSpec, options: NestedSupervisorOptions, create: (spec: SupervisorSpec) => SupervisorNode) {
    this.id = spec.id;
    this.restart = options.restart ?? 'permanent';
    this.shutdown = options.shutdown ?? 'infinity';
    if (options.startTimeoutMs !== undefined) this.startTimeoutMs = options.startTimeoutMs;
    if (options.backoff !== undefined) this.backoff = options.backoff;
    this.#spec = spec;
    this.#onStart = options.onStart;
    this.#create = create;
  }

  /** Records the started node and runs `onStart`; returns what `onStart` threw (the node must then stop). */
  #begin(node: SupervisorNode): { readonly error: unknown } | undefined {
    try {
      this.#started = node;
      this.#onStart?.(node);
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  start(ctx: ChildContext): ChildHandle | Promise<ChildHandle> {
    const node = this.#create(this.#spec);
    const handle = new NestedHandle(node, ctx, this.shutdown !== 'infinity');
    const starting = node.start();
    if (node.state === 'running') {
      // Every initial child started synchronously (e.g. there are none): so does this child, which
      // spares the parent a promise hop and a start deadline (many nested supervisors start at once).
      const failed = this.#begin(node);
      if (failed !== undefined) {
        void node.stop('its onStart callback threw');
        throw failed.error;
      }
      return handle;
    }
    handle.listen();
    return starting.then(async () => {
      const failed = this.#begin(node);
      if (failed !== undefined) {
        await node.stop('its onStart callback threw');
        throw failed.error;
      }
      return handle;
    });
  }

  /** The supervisor the last successful `start` created; forgotten once read (no old tree is kept). */
  takeStarted(): SupervisorNode | undefined {
    const node = this.#started;
    this.#started = undefined;
    return node;
  }
}

/**
 * The ChildHandle of a nested supervisor. It takes the `watch` fast path, so no `exited` promise
 * and no reactions exist unless someone reads `exited`, and it holds no closure but one listener.
 */
export class NestedHandle implements ChildHandle {
  readonly #node: SupervisorNode;
  readonly #ctx: ChildContext;
  #listening = false;

  /** `listen`: whether the parent may abort us without asking first (finite or 'brutal' shutdown). */
  constructor(node: SupervisorNode, ctx: ChildContext, listen: boolean) {
    this.#node = node;
    this.#ctx = ctx;
    if (listen) this.listen();
  }

  get exited(): Promise<void> {
    return this.#node.exited;
  }

  watch(listener: ExitListener): void {
    this.#node.watch(listener);
  }

  stop(): Promise<void> {
    // With 'infinity' the parent always asks before it gives up: listening from here on is enough.
    this.listen();
    return this.#node.stop('stopped by its parent');
  }

  /**
   * When the parent gives up waiting for us (ctx.signal aborts), give up on our children at once.
   * Reading ctx.signal costs an AbortController (~1 kB) per incarnation, so this is done only when
   * the parent may abort without asking first, or once it asked (stop) — not for every idle nested
   * supervisor.
   */
  listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    const signal = this.#ctx.signal;
    if (signal.aborted) void this.#node.kill('parent killed it');
    else signal.addEventListener('abort', () => void this.#node.kill('parent killed it'), { once: true });
  }
}
