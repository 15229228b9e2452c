/**
 * Keeps fs tools inside their root. A requested path must be relative, without `..` segments, and
 * — after resolving symlinks with `realpath` — still inside the root's real path. For a file that
 * does not exist yet (a write), the deepest existing ancestor is checked the same way, so a
 * symlinked parent directory pointing out of the root is refused too.
 *
 * What remains is the window between this check and the open, in which the path can change: the
 * fs tools therefore open through `openConfined.ts`, which verifies the opened descriptor itself.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { BuiltinToolErrorCodes, builtinError } from './errors.js';

export interface ConfinedPath {
  /** The root's real path. */
  readonly root: string;
  /** The real path of the target (or, when it does not exist, its real parent joined with the rest). */
  readonly real: string;
  /** Whether the target exists. */
  readonly exists: boolean;
  /** The real path of the deepest part of the target that exists (the target itself when it does). */
  readonly existing: string;
  /** The components below `existing` that do not exist yet, outermost first (empty when the target exists). */
  readonly missing: readonly string[];
  /** The path relative to the root, with `/` separators (what results report back). */
  readonly relative: string;
}

function outside(requested: string, why: string): Error {
  return builtinError(BuiltinToolErrorCodes.PATH_OUTSIDE_ROOT, `path ${JSON.stringify(requested)} is refused: ${why}; give a path relative to the tool root`, {
    path: requested,
  });
}

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Resolves `requested` under `root`, or throws `TOOL_PATH_OUTSIDE_ROOT`. */
export async function confinePath(root: string, requested: string): Promise<ConfinedPath> {
  if (requested.includes('\0')) throw outside(requested, 'it contains a NUL byte');
  if (path.isAbsolute(requested) || path.win32.isAbsolute(requested)) throw outside(requested, 'absolute paths are not allowed');
  const segments = requested.split(/[\\/]+/);
  if (segments.includes('..')) throw outside(requested, "'..' segments are not allowed");
  const realRoot = await realpath(root);
  const target = path.resolve(realRoot, requested);
  if (!inside(realRoot, target)) throw outside(requested, 'it resolves outside the root');

  // Find the deepest part of the path that exists and make sure its real location is inside.
  let existing = target;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await realpath(existing);
      if (!inside(realRoot, real)) throw outside(requested, 'it leads out of the root through a symbolic link');
      const missing = rest.reverse();
      const full = missing.length === 0 ? real : path.join(real, ...missing);
      return { root: realRoot, real: full, exists: missing.length === 0, existing: real, missing, relative: toRelative(realRoot, target) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || existing === realRoot) throw error;
      // ENOENT from realpath may mean a dangling symlink, whose target could be anywhere.
      const link = await lstat(existing).catch(() => undefined);
      if (link?.isSymbolicLink()) throw outside(requested, 'it is a symbolic link whose target does not exist');
      rest.push(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
}

function toRelative(root: string, target: string): string {
  const rel = path.relative(root, target);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}
