import { readFileSync } from 'node:fs';

/**
 * The framework's version (the package version): the kernel's, which plugins match with their
 * `kernel` range, and what `/healthz` reports. In the SDK so that plugins can read it too.
 */
export const KERNEL_VERSION: string = (() => {
  // One or two levels up from sdk/version.(ts|js) is the package root, both in the repo and in dist/.
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
