/**
 * The request/reply envelope, version 1 (the `v1` token of the subject), shared by remote actors and
 * remote tools. JSON, short keys, one object per message:
 *
 * - actor request: `{ "v": 1, "k": "ask" | "tell", "m": <message>, "t"?: <timeout ms> }`
 * - tool request: `{ "v": 1, "agent": <agent id>, "delegation": [<agent id>…], "input": <input>,
 *   "callId"?: <id>, "t"?: <timeout ms>, "traceparent"?: <W3C trace context> }` (a traced call
 *   also has the `traceparent` message header)
 * - reply: `{ "v": 1, "ok": true, "r": <reply> }` or `{ "v": 1, "ok": false, "e": <error> }`, where
 *   `<error>` is a MisterSmithError's JSON (`code`, `kind`, `message`, `retryable`, `context`) so the
 *   caller rethrows it with the same code.
 */
import { MisterSmithError, type ErrorKind } from '../../sdk/index.js';
import { badEnvelope } from './errors.js';

export const ENVELOPE_V = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface ErrorJson {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly retryable: boolean;
  readonly context?: Record<string, unknown>;
  readonly name?: string;
}

export type Reply = { readonly v: 1; readonly ok: true; readonly r: unknown } | { readonly v: 1; readonly ok: false; readonly e: ErrorJson };

/** JSON bytes of `value`; throws NATS_BAD_ENVELOPE naming `what` when it is not serialisable. */
export function encode(subject: string, value: unknown, what: string): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw badEnvelope(subject, `${what} is not JSON-serialisable: ${(error as Error).message}`);
  }
  return encoder.encode(text ?? 'null');
}

/** Parses a v1 object; throws NATS_BAD_ENVELOPE for bad JSON or another version. */
export function decode<T extends { v: number }>(subject: string, data: Uint8Array): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw badEnvelope(subject, `not JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object') throw badEnvelope(subject, 'not an object');
  const v = (value as { v?: unknown }).v;
  if (v !== ENVELOPE_V) throw badEnvelope(subject, `envelope version ${JSON.stringify(v)}, expected ${ENVELOPE_V}`);
  return value as T;
}

export function okReply(subject: string, reply: unknown): Uint8Array {
  return encode(subject, { v: ENVELOPE_V, ok: true, r: reply === undefined ? null : reply }, 'the reply');
}

export function errorReply(error: unknown): Uint8Array {
  return encoder.encode(JSON.stringify({ v: ENVELOPE_V, ok: false, e: errorJson(error) }));
}

export function errorJson(error: unknown): ErrorJson {
  if (error instanceof MisterSmithError) {
    return { code: error.code, kind: error.kind, message: error.message, retryable: error.retryable, context: safeContext(error.context), name: error.name };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { code: 'UNKNOWN', kind: 'unknown', message: e.message, retryable: false, name: e.name };
}

/** Rebuilds the error a remote node replied with: same code, kind and message; `context.remote` says where. */
export function remoteError(e: ErrorJson, where: Record<string, unknown>): MisterSmithError {
  const err = new MisterSmithError(e.code, e.message, { kind: e.kind, retryable: e.retryable, context: { ...(e.context ?? {}), remote: where } });
  if (typeof e.name === 'string') err.name = e.name;
  return err;
}

function safeContext(context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(context)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
