import { readFileSync } from 'node:fs';

/**
 * The Mister Smith version, for `/healthz`. Read here rather than imported from the kernel because
 * plugins may not import kernel internals; the lookup mirrors the kernel's (source tree and dist/).
 */
export const FRAMEWORK_VERSION: string = (() => {
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mister-smith' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  return '0.0.0';
})();
