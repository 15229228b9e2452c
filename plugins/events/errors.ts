/**
 * Every error the events plugin throws on purpose, with its stable code. Codes never change; the
 * README lists what each means and what to do about it.
 */
import { EventError } from '../../sdk/index.js';

export const EVENT_ERROR_CODES = Object.freeze({
  /** An input failed validation; the message names the field and why. */
  INVALID: 'EVENT_INVALID',
  /** A subscription pattern is malformed (`a..b`, `>` not last, `a*`). */
  INVALID_PATTERN: 'EVENT_INVALID_PATTERN',
  /** The store could not append, read or sync; the publish rejected and nothing was delivered. */
  STORE_FAILED: 'EVENT_STORE_FAILED',
  /** Another live process (or store instance) holds the store directory. */
  STORE_LOCKED: 'EVENT_STORE_LOCKED',
  /**
   * The log is damaged where cutting would lose acknowledged events (corruption with valid records
   * after it, a sealed segment missing or of the wrong size). Names the segment and the offset.
   */
  STORE_CORRUPT: 'EVENT_STORE_CORRUPT',
  /** The store was opened read-only: it never writes. */
  STORE_READ_ONLY: 'EVENT_STORE_READ_ONLY',
  /** The configured store type needs a plugin that is not loaded (e.g. `jetstream` without `nats`). */
  STORE_UNAVAILABLE: 'EVENT_STORE_UNAVAILABLE',
  /** An event encodes to more bytes than the store's `maxEventBytes`. */
  TOO_LARGE: 'EVENT_TOO_LARGE',
  /** A replay asked for sequences that retention (or a memory store's capacity) already dropped. */
  BEFORE_RETENTION: 'EVENT_BEFORE_RETENTION',
  /** No reply arrived before the request's deadline. */
  REQUEST_TIMEOUT: 'EVENT_REQUEST_TIMEOUT',
  /** The bus is stopping or stopped: nothing is published or delivered any more. */
  BUS_STOPPED: 'EVENT_BUS_STOPPED',
  /** A durable subscription with this name is already active on this bus. */
  DURABLE_IN_USE: 'EVENT_DURABLE_IN_USE',
  /** A durable handler did not settle within `ackTimeoutMs`; counted as a failed delivery. */
  HANDLER_TIMEOUT: 'EVENT_HANDLER_TIMEOUT',
  /** A bus or store was started or opened twice. */
  INVALID_STATE: 'EVENT_INVALID_STATE',
} as const);

export type EventErrorCode = (typeof EVENT_ERROR_CODES)[keyof typeof EVENT_ERROR_CODES];

/** `EVENT_INVALID` naming the offending field. */
export function invalidEvent(field: string, reason: string, value?: unknown): EventError {
  return new EventError(EVENT_ERROR_CODES.INVALID, `invalid event: ${field} ${reason}`, {
    context: value === undefined ? { field } : { field, value: describe(value) },
  });
}

export function invalidPattern(pattern: unknown, reason: string): EventError {
  return new EventError(EVENT_ERROR_CODES.INVALID_PATTERN, `invalid subscription pattern ${JSON.stringify(String(pattern))}: ${reason}`, {
    context: { pattern: String(pattern) },
  });
}

export function storeFailed(operation: string, cause: unknown, context: Record<string, unknown> = {}): EventError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new EventError(EVENT_ERROR_CODES.STORE_FAILED, `event store ${operation} failed: ${message}`, {
    cause,
    severity: 'high',
    context: { operation, ...context },
  });
}

/** `EVENT_STORE_CORRUPT` naming the segment file and the byte offset of the damage. */
export function storeCorrupt(file: string, offset: number, reason: string, hint: string): EventError {
  return new EventError(EVENT_ERROR_CODES.STORE_CORRUPT, `event log damaged: ${file} at offset ${offset}: ${reason}. ${hint}`, {
    severity: 'high',
    context: { file, offset, reason },
  });
}

export function busStopped(operation: string): EventError {
  return new EventError(EVENT_ERROR_CODES.BUS_STOPPED, `cannot ${operation}: the event bus is stopped`, { context: { operation } });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 80 ? `${value.slice(0, 77)}...` : value;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'function';
  if (typeof value === 'symbol') return value.toString();
  return String(value);
}
