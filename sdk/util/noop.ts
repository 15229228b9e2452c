/** Does nothing: the shared default callback and the handler that marks a rejection as handled. */
export function noop(): void {}
