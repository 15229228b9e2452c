/**
 * Imports a module by URL. TypeScript files import natively under tsx (dev, tests); from plain Node
 * (an installed package running `dist/`) they go through tsx's API when tsx is installed.
 */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?tsx?$/.test(url)) throw error;
    let tsImport: (specifier: string, parent: string) => Promise<Record<string, unknown>>;
    try {
      ({ tsImport } = (await import('tsx/esm/api')) as { tsImport: typeof tsImport });
    } catch {
      throw new Error(`cannot import TypeScript module ${url}: install tsx, or point at compiled JavaScript`, { cause: error });
    }
    return tsImport(url, import.meta.url);
  }
}
