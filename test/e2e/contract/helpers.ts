/** Shared helpers of the contract tests. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { MisterSmithError } from '../../../sdk/index.js';
import type { Logger } from '../../../sdk/index.js';
import type { ActorRef } from '../../../plugins/actors/types.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const designDir = path.join(root, 'test', 'e2e', 'fixtures', 'design');
export const designConfig = path.join(designDir, 'mister-smith.config.json');
export const run = promisify(execFile);
export const silent = (): Logger => pino({ level: 'silent' });

/** Runs `fn` with some environment variables set, restoring them afterwards. */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export async function rejectsWithCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<MisterSmithError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MisterSmithError, `expected a MisterSmithError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Fills an actor's mailbox until `tell` throws; returns how many messages it accepted. */
export function fillUntilFull(ref: ActorRef<unknown, unknown>, limit: number): { accepted: number; error: unknown } {
  for (let i = 0; i < limit; i++) {
    try {
      ref.tell(i);
    } catch (error) {
      return { accepted: i, error };
    }
  }
  return { accepted: limit, error: undefined };
}

// ---------------------------------------------------------------------------------------------
// §2 Kernel
// ---------------------------------------------------------------------------------------------
