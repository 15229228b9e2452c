/**
 * Every error the transport-nats plugin throws on purpose, with its stable code. Remote actor errors
 * use the actors plugin's codes (`ACTOR_REMOTE_UNREACHABLE`, `ACTOR_ASK_TIMEOUT`, …) so that a caller
 * handles a remote ref exactly like a local one.
 */
import { ConfigError, EventError, NetworkError, PersistenceError, ToolError, type MisterSmithError } from '../../sdk/index.js';

export const NatsErrorCodes = Object.freeze({
  /** The first connection failed (server down, wrong URL, bad credentials, TLS mismatch). */
  NATS_CONNECT_FAILED: 'NATS_CONNECT_FAILED',
  /** The connection is closed or draining (the plugin is stopping). */
  NATS_CLOSED: 'NATS_CLOSED',
  /** A subject (or a name that becomes one subject token) is not valid. */
  NATS_BAD_SUBJECT: 'NATS_BAD_SUBJECT',
  /** A message is bigger than the server's `max_payload`. */
  NATS_PAYLOAD_TOO_LARGE: 'NATS_PAYLOAD_TOO_LARGE',
  /** A message from another node could not be decoded, or speaks another envelope version. */
  NATS_BAD_ENVELOPE: 'NATS_BAD_ENVELOPE',
  /** JetStream did not acknowledge a publish (timeout, no stream, server gone). */
  NATS_PUBLISH_FAILED: 'NATS_PUBLISH_FAILED',
  /** A JetStream stream or consumer could not be created or read. */
  NATS_JETSTREAM_FAILED: 'NATS_JETSTREAM_FAILED',
  /** A remote tool call found no node serving that tool. */
  NATS_TOOL_UNREACHABLE: 'NATS_TOOL_UNREACHABLE',
  /** `createEventStore` options that do not validate (each problem as `path: message`). */
  NATS_INVALID_STORE_OPTIONS: 'NATS_INVALID_STORE_OPTIONS',
  /** `nats.bridge` without the events plugin loaded. */
  NATS_NEEDS_EVENTS: 'NATS_NEEDS_EVENTS',
  /** Remote tools without the tools plugin loaded. */
  NATS_NEEDS_TOOLS: 'NATS_NEEDS_TOOLS',
  /** An append or read on a JetStream event store that is not open (or already closed). */
  NATS_STORE_CLOSED: 'NATS_STORE_CLOSED',
} as const);

export type NatsErrorCode = (typeof NatsErrorCodes)[keyof typeof NatsErrorCodes];

export function connectFailed(servers: readonly string[], cause: unknown): NetworkError {
  return new NetworkError(
    NatsErrorCodes.NATS_CONNECT_FAILED,
    `cannot connect to NATS at ${servers.join(', ')}: ${(cause as Error)?.message ?? String(cause)}; is nats-server running and are 'servers', 'auth' and 'tls' right?`,
    { cause, context: { servers } },
  );
}

export function connectionClosed(action: string): NetworkError {
  return new NetworkError(NatsErrorCodes.NATS_CLOSED, `cannot ${action}: the NATS connection is closed or draining`, { retryable: false });
}

export function badSubject(what: string, value: string, rule: string): NetworkError {
  return new NetworkError(NatsErrorCodes.NATS_BAD_SUBJECT, `${what} ${JSON.stringify(value)} is not valid: ${rule}`, {
    retryable: false,
    context: { what, value },
  });
}

export function payloadTooLarge(subject: string, bytes: number, maxPayload: number): NetworkError {
  return new NetworkError(
    NatsErrorCodes.NATS_PAYLOAD_TOO_LARGE,
    `message to ${subject} is ${bytes} bytes, over the server's max_payload of ${maxPayload}; send less data (or raise max_payload on the server)`,
    { retryable: false, context: { subject, bytes, maxPayload } },
  );
}

export function badEnvelope(subject: string, problem: string): NetworkError {
  return new NetworkError(NatsErrorCodes.NATS_BAD_ENVELOPE, `bad message on ${subject}: ${problem}`, { retryable: false, context: { subject } });
}

export function publishFailed(subject: string, cause: unknown): PersistenceError {
  return new PersistenceError(NatsErrorCodes.NATS_PUBLISH_FAILED, `JetStream did not acknowledge the publish to ${subject}: ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    retryable: true,
    context: { subject },
  });
}

export function jetStreamFailed(what: string, cause: unknown): PersistenceError {
  return new PersistenceError(NatsErrorCodes.NATS_JETSTREAM_FAILED, `JetStream: cannot ${what}: ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    retryable: true,
    context: { what },
  });
}

/** A tool-kind error, so the tool bus passes it to the caller as is (not wrapped in TOOL_FAILED). */
export function toolUnreachable(tool: string, cause: unknown): ToolError {
  return new ToolError(NatsErrorCodes.NATS_TOOL_UNREACHABLE, `no node answered for remote tool '${tool}': ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    retryable: true,
    context: { tool },
  });
}

/** Whether `error` is one of ours (any kind) with this code. */
export function hasCode(error: unknown, code: string): error is MisterSmithError {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

export function invalidStoreOptions(problems: readonly string[]): ConfigError {
  return new ConfigError(NatsErrorCodes.NATS_INVALID_STORE_OPTIONS, 'invalid jetstream event store options', problems);
}

export function needsPlugin(plugin: 'events' | 'tools', what: string): ConfigError {
  return new ConfigError(
    plugin === 'events' ? NatsErrorCodes.NATS_NEEDS_EVENTS : NatsErrorCodes.NATS_NEEDS_TOOLS,
    `${what} needs the ${plugin} plugin: add '${plugin}' to the config's plugins`,
  );
}

export function storeClosed(why: string): EventError {
  return new EventError(NatsErrorCodes.NATS_STORE_CLOSED, `the JetStream event store ${why}`);
}
