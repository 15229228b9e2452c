/**
 * Opening files and folders below the root so that what is opened is provably inside it.
 *
 * `confinePath` checks a path, but the path can change between that check and the open (a folder
 * swapped for a symlink to the outside). So every open here is followed by a check of the opened
 * descriptor itself: on Linux its real path is `readlink('/proc/self/fd/N')`, which names the
 * object actually opened whatever happened to the path since. What is read, listed or written
 * afterwards goes through the descriptor (or through `/proc/self/fd/N/…`, which resolves to the
 * opened folder, not to whatever the path names now) — Node has no `openat`, and this is its
 * Linux equivalent. A new file is created inside an opened and verified parent folder, so it can
 * never appear outside the root. Where `/proc/self/fd` does not exist, the check falls back to
 * comparing the descriptor's device and inode with those of the path's real location.
 *
 * Every open is `O_NONBLOCK | O_NOFOLLOW`, and anything that is not a regular file (or a folder,
 * where one is expected) is refused before it is read: opening a FIFO without `O_NONBLOCK` blocks
 * a libuv thread until a writer comes, and four of them wedge all file I/O of the process.
 */
import { constants, existsSync, type Stats } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BuiltinToolErrorCodes, builtinError } from './errors.js';

/** Whether descriptors can be resolved through procfs (Linux). */
const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');

const READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const DIRECTORY = READ | constants.O_DIRECTORY;

/** What kind of object a Stats describes, as error contexts name it. */
export function fileType(info: Stats): string {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'directory';
  if (info.isFIFO()) return 'fifo';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character-device';
  if (info.isBlockDevice()) return 'block-device';
  if (info.isSymbolicLink()) return 'symlink';
  return 'other';
}

export function wrongType(requested: string, type: string, expected: 'file' | 'directory'): Error {
  const what = expected === 'file' ? 'a regular file' : 'a folder';
  return builtinError(BuiltinToolErrorCodes.WRONG_FILE_TYPE, `${requested} is a ${type}, not ${what}; only regular files and folders can be used`, {
    path: requested,
    type,
    expected,
  });
}

function escaped(requested: string): Error {
  return builtinError(
    BuiltinToolErrorCodes.PATH_OUTSIDE_ROOT,
    `path ${JSON.stringify(requested)} is refused: what it named when opened is outside the root (it changed while being opened); give a path relative to the tool root`,
    { path: requested },
  );
}

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A path that resolves to the object `handle` has open (on Linux); else the fallback path. */
export function handlePath(handle: FileHandle, fallback: string): string {
  return PROC_FD ? `/proc/self/fd/${handle.fd}` : fallback;
}

/**
 * Throws `TOOL_PATH_OUTSIDE_ROOT` unless the object `handle` has open lies inside `realRoot`.
 * `expected` is the real path it was opened by (used where procfs is missing).
 */
export async function verifyInside(handle: FileHandle, realRoot: string, expected: string, requested: string): Promise<void> {
  if (PROC_FD) {
    const real = await readlink(`/proc/self/fd/${handle.fd}`);
    // A deleted object reads "<path> (deleted)": its place cannot be shown, so it is refused.
    if (real.endsWith(' (deleted)') || !path.isAbsolute(real) || !inside(realRoot, real)) throw escaped(requested);
    return;
  }
  const [opened, named] = await Promise.all([handle.stat(), realpath(expected).then((p) => (inside(realRoot, p) ? stat(p) : undefined), () => undefined)]);
  if (named === undefined || named.dev !== opened.dev || named.ino !== opened.ino) throw escaped(requested);
}

/** Opens an existing regular file for reading; refuses other types before any blocking I/O. */
export async function openFileForRead(realRoot: string, real: string, requested: string): Promise<{ handle: FileHandle; info: Stats }> {
  const handle = await openOrRefuse(real, READ, requested, 'file');
  return closedOnError(handle, async () => {
    const info = await handle.stat();
    if (!info.isFile()) throw wrongType(requested, fileType(info), 'file');
    await verifyInside(handle, realRoot, real, requested);
    return { handle, info };
  });
}

/** `fn`'s result; if it throws, `handle` is closed first (the caller never sees the handle then). */
async function closedOnError<T>(handle: FileHandle, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Opens an existing folder; refuses other types. */
export async function openDirectory(realRoot: string, real: string, requested: string): Promise<FileHandle> {
  const handle = await openOrRefuse(real, DIRECTORY, requested, 'directory');
  return closedOnError(handle, async () => {
    await verifyInside(handle, realRoot, real, requested);
    return handle;
  });
}

/**
 * Opens `name` for writing inside the opened, verified folder `dir` (creating it when missing),
 * refuses anything but a regular file, and truncates only after those checks (`O_TRUNC` at open
 * would empty whatever the path named before it was checked).
 */
export async function openFileForWrite(
  dir: FileHandle,
  dirReal: string,
  name: string,
  realRoot: string,
  requested: string,
  append: boolean,
): Promise<FileHandle> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | (append ? constants.O_APPEND : 0);
  const full = path.join(handlePath(dir, dirReal), name);
  const handle = await openOrRefuse(full, flags, requested, 'file', 0o644);
  return closedOnError(handle, async () => {
    const info = await handle.stat();
    if (!info.isFile()) throw wrongType(requested, fileType(info), 'file');
    await verifyInside(handle, realRoot, path.join(dirReal, name), requested);
    if (!append) await handle.truncate(0);
    return handle;
  });
}

/**
 * Creates the folders `names` one below the other inside the opened, verified folder `dir`, each
 * opened and verified before the next is made in it; returns the deepest. Takes ownership of `dir`:
 * it is closed here, on success (the deepest folder replaces it) and on failure alike.
 */
export async function makeDirectories(dir: FileHandle, dirReal: string, names: readonly string[], realRoot: string, requested: string): Promise<{ handle: FileHandle; real: string }> {
  let current = dir;
  let currentReal = dirReal;
  try {
    for (const name of names) {
      const next = path.join(handlePath(current, currentReal), name);
      await mkdir(next, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      const opened = await openOrRefuse(next, DIRECTORY, requested, 'directory');
      await current.close();
      current = opened;
      currentReal = path.join(currentReal, name);
      await verifyInside(current, realRoot, currentReal, requested);
    }
    return { handle: current, real: currentReal };
  } catch (error) {
    await current.close();
    throw error;
  }
}

/** `open`, with the errors a wrong kind of object gives turned into TOOL_WRONG_FILE_TYPE. */
async function openOrRefuse(target: string, flags: number, requested: string, expected: 'file' | 'directory', mode?: number): Promise<FileHandle> {
  try {
    return await open(target, flags, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENXIO: a socket (or a FIFO with no reader, opened for writing); ENOTDIR: not a folder;
    // EISDIR: a folder opened for writing; ELOOP: the last component became a symlink.
    if (code === 'ENXIO' || code === 'ENOTDIR' || code === 'EISDIR') {
      // Only when the target itself is there and of another kind (ENOTDIR may be about a parent).
      const info = await lstat(target).catch(() => undefined);
      if (info?.isSymbolicLink() === true) throw escaped(requested); // swapped in since the check
      if (info !== undefined && !(expected === 'directory' ? info.isDirectory() : info.isFile())) throw wrongType(requested, fileType(info), expected);
    }
    if (code === 'ELOOP') throw escaped(requested);
    throw error;
  }
}
