/**
 * Every error the transport-nats plugin throws on purpose, with its stable code. Remote actor errors
 * use the actors plugin's codes (`ACTOR_REMOTE_UNREACHABLE`, `ACTOR_ASK_TIMEOUT`, …) so that a caller
 * handles a remote ref exactly like a local one.
 */
import { NetworkError, PersistenceError, ToolError, type MisterSmithError } from '../../sdk/index.js';

export const NatsErrorCodes = Object.freeze({
  /** The first connection failed (server down, wrong URL, bad credentials, TLS mismatch). */
  CONNECT_FAILED: 'NATS_CONNECT_FAILED',
  /** The connection is closed or draining (the plugin is stopping). */
  CLOSED: 'NATS_CLOSED',
  /** A subject (or a name that becomes one subject token) is not valid. */
  BAD_SUBJECT: 'NATS_BAD_SUBJECT',
  /** A message is bigger than the server's `max_payload`. */
  PAYLOAD_TOO_LARGE: 'NATS_PAYLOAD_TOO_LARGE',
  /** A message from another node could not be decoded, or speaks another envelope version. */
  BAD_ENVELOPE: 'NATS_BAD_ENVELOPE',
  /** JetStream did not acknowledge a publish (timeout, no stream, server gone). */
  PUBLISH_FAILED: 'NATS_PUBLISH_FAILED',
  /** A JetStream stream or consumer could not be created or read. */
  JETSTREAM_FAILED: 'NATS_JETSTREAM_FAILED',
  /** A remote tool call found no node serving that tool. */
  TOOL_UNREACHABLE: 'NATS_TOOL_UNREACHABLE',
} as const);

export type NatsErrorCode = (typeof NatsErrorCodes)[keyof typeof NatsErrorCodes];

export function connectFailed(servers: readonly string[], cause: unknown): NetworkError {
  return new NetworkError(
    NatsErrorCodes.CONNECT_FAILED,
    `cannot connect to NATS at ${servers.join(', ')}: ${(cause as Error)?.message ?? String(cause)}; is nats-server running and are 'servers', 'auth' and 'tls' right?`,
    { cause, context: { servers } },
  );
}

export function connectionClosed(action: string): NetworkError {
  return new NetworkError(NatsErrorCodes.CLOSED, `cannot ${action}: the NATS connection is closed or draining`, { retryable: false });
}

export function badSubject(what: string, value: string, rule: string): NetworkError {
  return new NetworkError(NatsErrorCodes.BAD_SUBJECT, `${what} ${JSON.stringify(value)} is not valid: ${rule}`, {
    retryable: false,
    context: { what, value },
  });
}

export function payloadTooLarge(subject: string, bytes: number, maxPayload: number): NetworkError {
  return new NetworkError(
    NatsErrorCodes.PAYLOAD_TOO_LARGE,
    `message to ${subject} is ${bytes} bytes, over the server's max_payload of ${maxPayload}; send less data (or raise max_payload on the server)`,
    { retryable: false, context: { subject, bytes, maxPayload } },
  );
}

export function badEnvelope(subject: string, problem: string): NetworkError {
  return new NetworkError(NatsErrorCodes.BAD_ENVELOPE, `bad message on ${subject}: ${problem}`, { retryable: false, context: { subject } });
}

export function publishFailed(subject: string, cause: unknown): PersistenceError {
  return new PersistenceError(NatsErrorCodes.PUBLISH_FAILED, `JetStream did not acknowledge the publish to ${subject}: ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    retryable: true,
    context: { subject },
  });
}

export function jetStreamFailed(what: string, cause: unknown): PersistenceError {
  return new PersistenceError(NatsErrorCodes.JETSTREAM_FAILED, `JetStream: cannot ${what}: ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    retryable: true,
    context: { what },
  });
}

/** A tool-kind error, so the tool bus passes it to the caller as is (not wrapped in TOOL_FAILED). */
export function toolUnreachable(tool: string, cause: unknown): ToolError {
  return new ToolError(NatsErrorCodes.TOOL_UNREACHABLE, `no node answered for remote tool '${tool}': ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
    retryable: true,
    context: { tool },
  });
}

/** Whether `error` is one of ours (any kind) with this code. */
export function hasCode(error: unknown, code: string): error is MisterSmithError {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
