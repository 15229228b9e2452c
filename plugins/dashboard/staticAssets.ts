/**
 * The page's files, shipped in `public/` next to this module (the build copies them to dist/), read
 * once and kept in memory: there are a handful and they are small.
 */
import { readFile } from 'node:fs/promises';

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
};

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/** Serves `public/<name>`; names are matched against a fixed pattern, so no path can escape the folder. */
export class StaticAssets {
  readonly #dir: URL;
  readonly #cache = new Map<string, Promise<Asset | undefined>>();

  constructor(dir: URL = new URL('./public/', import.meta.url)) {
    this.#dir = dir;
  }

  get(name: string): Promise<Asset | undefined> {
    if (!/^[a-z0-9][a-z0-9_-]*\.(html|css|js|svg|png)$/i.test(name)) return Promise.resolve(undefined);
    let found = this.#cache.get(name);
    if (found === undefined) {
      found = readFile(new URL(name, this.#dir)).then(
        (body) => ({ body, type: TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()]! }),
        () => undefined,
      );
      this.#cache.set(name, found);
    }
    return found;
  }
}
