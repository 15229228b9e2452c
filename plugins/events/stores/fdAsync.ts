/**
 * The file-descriptor calls the file store makes, as promises, and the two durable-write helpers
 * it needs. Raw descriptors rather than `FileHandle`: the commit path issues one positioned write
 * and one fdatasync per batch, and a handle object per segment adds nothing there.
 */
import { close, fdatasync, fstat, ftruncate, open, read, write } from 'node:fs';
import { rename } from 'node:fs/promises';
import { promisify } from 'node:util';

export const openAsync = promisify(open);
export const closeAsync = promisify(close);
export const readAsync = promisify(read);
export const writeAsync = promisify(write);
export const fdatasyncAsync = promisify(fdatasync);
export const ftruncateAsync = promisify(ftruncate);
export const fstatAsync = promisify(fstat);

/** Replaces `file` with `text` atomically: a temp file (fsynced when `sync`), then a rename. */
export async function writeFileAtomic(file: string, text: string, sync: boolean): Promise<void> {
  const tmp = `${file}.tmp`;
  const fd = await openAsync(tmp, 'w');
  try {
    await writeAsync(fd, text, 0, 'utf8');
    if (sync) await fdatasyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
  await rename(tmp, file);
}

/** Makes a created, renamed or deleted name in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fd = await openAsync(dir, 'r');
    try {
      await fdatasyncAsync(fd);
    } finally {
      await closeAsync(fd);
    }
  } catch {
    // Some platforms cannot sync a directory; the data files themselves are synced.
  }
}
