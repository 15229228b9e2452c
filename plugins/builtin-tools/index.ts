/**
 * The builtin-tools plugin: `echo`, `clock.now`, `fs.*` confined to `options.fs.root`, and
 * `http.fetch` limited to `options.http.allowHosts`, registered on the `tools` service.
 */
import path from 'node:path';
import { definePlugin, type Disposer } from '../../sdk/index.js';
import type {} from '../tools/types.js';
import { clockTool } from './clock.js';
import { echoTool } from './echo.js';
import { fsTools } from './fs.js';
import { httpFetchTool } from './httpFetch.js';
import { builtinToolsOptions } from './options.js';

export default definePlugin({
  name: 'builtin-tools',
  version: '1.0.0',
  description: 'echo, clock.now, fs.* confined to a root folder, http.fetch to allowed hosts',
  dependsOn: ['tools'],
  options: builtinToolsOptions,
  setup(ctx) {
    const tools = ctx.resolve('tools');
    const o = ctx.options;
    const disposers: Disposer[] = [];
    if (o.echo) disposers.push(tools.register(echoTool));
    if (o.clock) disposers.push(tools.register(clockTool));
    if (o.fs.enabled) {
      const root = path.resolve(ctx.configDir, o.fs.root);
      const [read, write, list] = fsTools({ root, maxBytes: o.fs.maxBytes });
      disposers.push(tools.register(read), tools.register(write), tools.register(list));
      ctx.logger.debug({ root }, 'fs tools confined to root');
    }
    if (o.http.enabled) disposers.push(tools.register(httpFetchTool(o.http)));
    ctx.onStop(async () => {
      for (const dispose of disposers.reverse()) await dispose();
    });
  },
});

export { echoTool } from './echo.js';
export { clockTool } from './clock.js';
export { fsTools, MAX_LIST_ENTRIES } from './fs.js';
export type { FsToolsOptions } from './fs.js';
export { httpFetchTool, checkUrl, forwardableHeaders, MAX_REDIRECTS } from './httpFetch.js';
export type { HttpToolOptions } from './httpFetch.js';
export { confinePath } from './confinePath.js';
export type { ConfinedPath } from './confinePath.js';
export { BuiltinToolErrorCodes } from './errors.js';
export type { BuiltinToolErrorCode } from './errors.js';
export { builtinToolsOptions } from './options.js';
export type { BuiltinToolsOptions } from './options.js';
