import { readFileSync } from 'node:fs';

/** The kernel's version: the package version, which plugins match with their `kernel` range. */
export const KERNEL_VERSION: string = (() => {
  // Two levels up from kernel/version.(ts|js) is the package root, both in the repo and in dist/.
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mister-smith' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
})();
