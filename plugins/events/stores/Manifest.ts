/**
 * `MANIFEST`: what the file store knows about its log beyond what the segment files say.
 * - `sealed`: the exact sequence range and byte size of every sealed segment, so a sealed segment
 *   that is deleted, truncated or grown is found on open instead of silently skipped on replay;
 * - `reservedThrough`: a high-water mark of handed-out sequences, raised in blocks before a write
 *   goes past it, so after a tail was cut the log continues above every sequence that could ever
 *   have reached the disk (a sequence is never handed out twice);
 * - `skipped`: ranges that hold no events on purpose (cut by repair, quarantined), which are
 *   holes by decision, not losses;
 * - `start`: the first sequence retention keeps (segment files below it are leftovers to delete).
 * Written rarely (rollover, retention, reservation, repair) and always atomically: a temp file,
 * fsync, rename, directory fsync.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { syncDir, writeFileAtomic } from './fdAsync.js';


export interface SealedEntry {
  /** File name, e.g. `00000000000000000001.log`. */
  readonly file: string;
  readonly first: number;
  readonly last: number;
  readonly bytes: number;
}

export interface SkippedRange {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

export interface ManifestData {
  readonly version: 1;
  readonly start: number;
  readonly reservedThrough: number;
  readonly sealed: readonly SealedEntry[];
  readonly skipped: readonly SkippedRange[];
}

export const MANIFEST_FILE = 'MANIFEST';

/** Reads the manifest; undefined when there is none (a new store, or one written before manifests). */
export async function readManifest(dir: string): Promise<ManifestData | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const raw = JSON.parse(text) as Partial<ManifestData>;
  if (raw.version !== 1 || !Array.isArray(raw.sealed) || !Array.isArray(raw.skipped) || typeof raw.reservedThrough !== 'number') {
    throw new Error(`${path.join(dir, MANIFEST_FILE)} is not a manifest this version understands`);
  }
  return { version: 1, start: typeof raw.start === 'number' ? raw.start : 1, reservedThrough: raw.reservedThrough, sealed: raw.sealed, skipped: raw.skipped };
}

/** Replaces the manifest atomically and durably. */
export async function writeManifest(dir: string, data: ManifestData): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(data), true);
  await syncDir(dir);
}

export { syncDir };

/** Whether every sequence in [from, to] lies in a skipped range. */
export function isSkipped(skipped: readonly SkippedRange[], from: number, to: number): boolean {
  let next = from;
  for (const r of [...skipped].sort((a, b) => a.from - b.from)) {
    if (r.from > next) break;
    if (r.to >= next) next = r.to + 1;
    if (next > to) return true;
  }
  return next > to;
}
