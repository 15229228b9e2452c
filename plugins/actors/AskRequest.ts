/**
 * One pending `ask`: the message plus the way back to the caller. It travels through the mailbox in
 * place of the bare message, so a tell costs nothing extra and an ask costs this one object, its
 * promise, and a timer only when a timeout is set.
 */
export class AskRequest {
  readonly message: unknown;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  settled = false;

  constructor(message: unknown) {
    this.message = message;
  }

  /**
   * A promise wired to this request. The executor is one module-level function that reads the
   * request from a variable instead of a closure per ask (the trick pino uses for its hot path).
   */
  promise<R>(): Promise<R> {
    wiring = this;
    return new Promise<R>(wire as (resolve: (value: R) => void, reject: (error: unknown) => void) => void);
  }

  succeed(value: unknown): void {
    if (this.settled) return;
    this.#finish();
    this.resolve(value);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.#finish();
    this.reject(error);
  }

  #finish(): void {
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

let wiring: AskRequest | undefined;

function wire(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  wiring!.resolve = resolve;
  wiring!.reject = reject;
  wiring = undefined;
}
