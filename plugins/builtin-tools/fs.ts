/**
 * `fs.read`, `fs.write`, `fs.list`: file access confined to one root folder (see confinePath.ts).
 * Every path argument is relative to the root; results report paths relative to it too. Opening goes
 * through openConfined.ts: only regular files and folders, and what was opened is verified inside.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from '../../sdk/index.js';
import type { ToolDefinition } from '../tools/types.js';
import { confinePath } from './confinePath.js';
import { BuiltinToolErrorCodes, builtinError } from './errors.js';
import { handlePath, makeDirectories, openDirectory, openFileForRead, openFileForWrite } from './openConfined.js';

export interface FsToolsOptions {
  /** Absolute path of the root folder. */
  readonly root: string;
  /** Largest file read or written, in bytes. */
  readonly maxBytes: number;
}

/** Most entries `fs.list` returns; the rest is reported as `truncated`. */
export const MAX_LIST_ENTRIES = 10_000;

const encoding = z.enum(['utf8', 'base64']).default('utf8');
const relativePath = z.string().min(1).describe('Path relative to the tool root, e.g. "notes/today.txt"');

const readInput = z.object({ path: relativePath, encoding });
const readOutput = z.object({ path: z.string(), content: z.string(), bytes: z.number().int() });
const writeInput = z.object({
  path: relativePath,
  content: z.string(),
  encoding,
  append: z.boolean().default(false),
  createDirs: z.boolean().default(false).describe('Create missing parent folders'),
});
const writeOutput = z.object({ path: z.string(), bytes: z.number().int() });
const listInput = z.object({ path: relativePath.default('.') });
const entry = z.object({ name: z.string(), type: z.enum(['file', 'directory', 'symlink', 'other']) });
const listOutput = z.object({ path: z.string(), entries: z.array(entry), truncated: z.boolean() });

function tooLarge(requested: string, bytes: number, maxBytes: number): Error {
  return builtinError(BuiltinToolErrorCodes.TOO_LARGE, `${requested} is ${bytes} bytes, over the limit of ${maxBytes}`, { path: requested, bytes, maxBytes });
}

/** The three fs tools for `options.root`. */
export function fsTools(options: FsToolsOptions): [
  ToolDefinition<typeof readInput, typeof readOutput>,
  ToolDefinition<typeof writeInput, typeof writeOutput>,
  ToolDefinition<typeof listInput, typeof listOutput>,
] {
  const { root, maxBytes } = options;
  return [
    {
      name: 'fs.read',
      description: `Reads a file (at most ${maxBytes} bytes) below the tool root.`,
      input: readInput,
      output: readOutput,
      async handler(input, ctx) {
        const target = await confinePath(root, input.path);
        const { handle, info } = await openFileForRead(target.root, target.real, input.path);
        try {
          if (info.size > maxBytes) throw tooLarge(input.path, info.size, maxBytes);
          const data = await handle.readFile({ signal: ctx.signal });
          if (data.length > maxBytes) throw tooLarge(input.path, data.length, maxBytes);
          return { path: target.relative, content: data.toString(input.encoding), bytes: data.length };
        } finally {
          await handle.close();
        }
      },
    },
    {
      name: 'fs.write',
      description: `Writes (or appends to) a file below the tool root, at most ${maxBytes} bytes.`,
      input: writeInput,
      output: writeOutput,
      async handler(input, ctx) {
        const data = Buffer.from(input.content, input.encoding);
        if (data.length > maxBytes) throw tooLarge(input.path, data.length, maxBytes);
        const target = await confinePath(root, input.path);
        if (target.relative === '.') throw new Error('cannot write to the root folder itself');
        // The folder the file goes in is opened and verified first; the file is created inside that
        // descriptor's folder, so a path swapped meanwhile cannot put it anywhere else.
        const folders = target.exists ? [] : target.missing.slice(0, -1);
        if (folders.length > 0 && !input.createDirs) {
          throw Object.assign(new Error(`ENOENT: no such folder for ${input.path} (pass createDirs: true to create it)`), { code: 'ENOENT' });
        }
        const parentReal = target.exists ? path.dirname(target.real) : target.existing;
        let dir = await openDirectory(target.root, parentReal, input.path);
        let dirReal = parentReal;
        // makeDirectories owns `dir` from here: it closes it, replaced or failed.
        if (folders.length > 0) ({ handle: dir, real: dirReal } = await makeDirectories(dir, dirReal, folders, target.root, input.path));
        try {
          ctx.signal.throwIfAborted();
          const handle = await openFileForWrite(dir, dirReal, path.basename(target.real), target.root, input.path, input.append);
          try {
            await handle.writeFile(data, { signal: ctx.signal });
          } finally {
            await handle.close();
          }
        } finally {
          await dir.close();
        }
        return { path: target.relative, bytes: data.length };
      },
    },
    {
      name: 'fs.list',
      description: 'Lists a folder below the tool root ("." for the root itself).',
      input: listInput,
      output: listOutput,
      async handler(input) {
        const target = await confinePath(root, input.path);
        const dir = await openDirectory(target.root, target.real, input.path);
        let dirents: Dirent[];
        try {
          // Through the verified descriptor: the folder listed is the one that was checked.
          dirents = await readdir(handlePath(dir, target.real), { withFileTypes: true });
        } finally {
          await dir.close();
        }
        dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const entries = dirents.slice(0, MAX_LIST_ENTRIES).map((d) => ({
          name: d.name,
          type: d.isFile() ? ('file' as const) : d.isDirectory() ? ('directory' as const) : d.isSymbolicLink() ? ('symlink' as const) : ('other' as const),
        }));
        return { path: target.relative, entries, truncated: dirents.length > MAX_LIST_ENTRIES };
      },
    },
  ];
}
