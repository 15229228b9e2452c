/**
 * Finds the ES module an npm package specifier (`name`, `@scope/name`, `name/sub/path`) names,
 * as `import` would from a file in `fromDir` — exports maps with conditions and `"./*"` patterns
 * included.
 *
 * Node's own resolver does this (`import.meta.resolve(specifier, parent)`), but on Node 20 the
 * parent argument needs `--experimental-import-meta-resolve`: without it the resolution is relative
 * to this file, not to the config. So: when the running Node honours the parent, Node resolves;
 * otherwise the same algorithm as the ESM spec (LOAD_NODE_MODULES, PACKAGE_EXPORTS_RESOLVE with
 * the `import`, `node` and `default` conditions) runs here, the way `import-meta-resolve` does.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Why a specifier did not resolve: no such package, or the package does not export that path. */
export class PackageResolutionError extends Error {
  constructor(
    message: string,
    readonly notFound: boolean,
  ) {
    super(message);
  }
}

const CONDITIONS = ['import', 'node', 'default'] as const;

let nativeTakesParent: boolean | undefined;

/** Whether `import.meta.resolve` honours its parent argument in this Node (flag or version). */
function nodeResolvesFromParent(): boolean {
  if (nativeTakesParent === undefined) {
    try {
      const probe = (import.meta.resolve as (s: string, p?: string) => string)('./probe.js', 'file:///mister-smith-probe/dir/x.js');
      nativeTakesParent = probe === 'file:///mister-smith-probe/dir/probe.js';
    } catch {
      nativeTakesParent = false;
    }
  }
  return nativeTakesParent;
}

/** The file `specifier` resolves to from `fromDir`; throws `PackageResolutionError`. */
export function resolvePackage(specifier: string, fromDir: string): string {
  if (nodeResolvesFromParent()) {
    try {
      const url = (import.meta.resolve as (s: string, p: string) => string)(specifier, pathToFileURL(path.join(fromDir, 'mister-smith.config.js')).href);
      return fileURLToPath(url);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new PackageResolutionError((error as Error).message, code === 'ERR_MODULE_NOT_FOUND');
    }
  }
  return resolveFromNodeModules(specifier, fromDir);
}

/** LOAD_NODE_MODULES + PACKAGE_RESOLVE of the ESM resolution algorithm. */
export function resolveFromNodeModules(specifier: string, fromDir: string): string {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = `.${parts.length > nameLength ? `/${parts.slice(nameLength).join('/')}` : ''}`;
  if (name === '' || (specifier.startsWith('@') && parts.length < 2)) throw new PackageResolutionError(`'${specifier}' is not a valid package name`, true);
  for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
    const pkgDir = path.join(dir, 'node_modules', name);
    const pkgJson = path.join(pkgDir, 'package.json');
    if (existsSync(pkgJson)) {
      const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { exports?: unknown; main?: unknown };
      if (pkg.exports !== undefined && pkg.exports !== null) return exportsResolve(pkgDir, subpath, pkg.exports, specifier);
      if (subpath !== '.') return path.join(pkgDir, subpath);
      return path.join(pkgDir, typeof pkg.main === 'string' ? pkg.main : 'index.js');
    }
    if (path.dirname(dir) === dir) throw new PackageResolutionError(`cannot find package '${name}' from ${fromDir}`, true);
  }
}

/** PACKAGE_EXPORTS_RESOLVE: exact keys first, then `*` patterns, most specific first. */
function exportsResolve(pkgDir: string, subpath: string, exports: unknown, specifier: string): string {
  const map = exportsMap(exports);
  const notExported = (): never => {
    throw new PackageResolutionError(`package subpath '${subpath}' is not defined by "exports" in ${path.join(pkgDir, 'package.json')} (imported as '${specifier}')`, false);
  };
  if (map === undefined) return notExported();
  if (Object.hasOwn(map, subpath) && !subpath.includes('*')) {
    return resolveTarget(pkgDir, map[subpath], undefined) ?? notExported();
  }
  const patterns = Object.keys(map)
    .filter((k) => k.indexOf('*') !== -1 && k.indexOf('*') === k.lastIndexOf('*'))
    .sort(patternKeyCompare);
  for (const key of patterns) {
    const star = key.indexOf('*');
    const base = key.slice(0, star);
    const trailer = key.slice(star + 1);
    if (subpath.startsWith(base) && subpath !== base && subpath.length >= key.length && subpath.endsWith(trailer)) {
      const match = subpath.slice(base.length, subpath.length - trailer.length);
      // Node refuses `..`, `.` and `node_modules` segments in what a pattern matched.
      if (match.split(/[\\/]/).some((s) => s === '..' || s === '.' || s.toLowerCase() === 'node_modules')) return notExported();
      return resolveTarget(pkgDir, map[key], match) ?? notExported();
    }
  }
  return notExported();
}

/** `"exports": "./x.js"` and `"exports": { "import": … }` are sugar for `{ ".": … }`. */
function exportsMap(exports: unknown): Record<string, unknown> | undefined {
  if (typeof exports === 'string' || Array.isArray(exports)) return { '.': exports };
  if (exports === null || typeof exports !== 'object') return undefined;
  const keys = Object.keys(exports);
  return keys.length > 0 && keys.every((k) => !k.startsWith('.')) ? { '.': exports } : (exports as Record<string, unknown>);
}

/** PATTERN_KEY_COMPARE: the longer prefix before `*` wins, then the longer key. */
function patternKeyCompare(a: string, b: string): number {
  const baseA = a.indexOf('*');
  const baseB = b.indexOf('*');
  if (baseA !== baseB) return baseB - baseA;
  return b.length - a.length;
}

/** PACKAGE_TARGET_RESOLVE: strings (with `*` replaced), arrays (first that resolves), conditions. */
function resolveTarget(pkgDir: string, target: unknown, match: string | undefined): string | undefined {
  if (typeof target === 'string') {
    if (!target.startsWith('./')) return undefined;
    const resolved = match === undefined ? target : target.replaceAll('*', match);
    const file = path.resolve(pkgDir, resolved);
    // A target must stay inside its package.
    return file === pkgDir || file.startsWith(pkgDir + path.sep) ? file : undefined;
  }
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = resolveTarget(pkgDir, t, match);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (target !== null && typeof target === 'object') {
    for (const [condition, value] of Object.entries(target)) {
      if (!(CONDITIONS as readonly string[]).includes(condition)) continue;
      const found = resolveTarget(pkgDir, value, match);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
