/**
 * Turns a config into an ordered list of plugins, finding every problem before any plugin code with
 * side effects runs: unknown plugins, modules that export no plugin, bad options, duplicate names,
 * kernel version mismatches, missing dependencies and cycles.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import semver from 'semver';
import { z } from 'zod';
import { isPlugin, type Plugin } from '../sdk/index.js';
import { formatPath, KernelConfigSchema, normalizeEntry, PluginEntryObjectSchema, validate, type KernelConfig } from './config.js';
import { MAX_CONFIG_DEPTH, tooDeep } from './configDepth.js';
import { applyPluginOverrides, envOverridesOf, nameVariable, pluginKey, type EnvOverride } from './envOverrides.js';
import { importModule } from './importModule.js';
import { PackageResolutionError, resolvePackage } from './resolvePackage.js';
import { KERNEL_VERSION } from '../sdk/index.js';

/** A plugin ready to set up: its definition, validated options and where it came from. */
export interface ResolvedPlugin {
  readonly name: string;
  readonly definition: Plugin;
  readonly options: unknown;
  readonly optional: boolean;
  /** A short name, a package name, a path, or `inline`. */
  readonly source: string;
  /** Its index in the config's `plugins` list, for error paths. */
  readonly configIndex: number;
}

export interface LoadResult {
  readonly config: KernelConfig;
  /** In start order (dependencies first, otherwise config order). */
  readonly plugins: readonly ResolvedPlugin[];
  readonly problems: readonly string[];
  /** `optional` plugins left out because they are not installed. */
  readonly skipped: readonly SkippedPlugin[];
}

/** An optional plugin that is not installed: the system runs without it. */
export interface SkippedPlugin {
  readonly use: string;
  readonly configIndex: number;
  readonly reason: string;
}

const MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const BUILTIN_DIR = fileURLToPath(new URL('../plugins/', import.meta.url));

/** Names of the plugins that ship with Mister Smith (`plugins/<name>/index`). */
export function builtinPluginNames(): string[] {
  if (!existsSync(BUILTIN_DIR)) return [];
  return readdirSync(BUILTIN_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(BUILTIN_DIR, d.name, `index${MODULE_EXT}`)))
    .map((d) => d.name)
    .sort();
}

function isPathSpecifier(use: string): boolean {
  return use.startsWith('./') || use.startsWith('../') || path.isAbsolute(use) || use.startsWith('file:');
}

interface EntryModule {
  readonly plugin?: Plugin;
  readonly problem?: string;
  /** The module does not exist (as opposed to existing and failing). */
  readonly notFound?: boolean;
  readonly source: string;
}

async function importEntry(use: string | Plugin, at: string, configDir: string, builtins: readonly string[]): Promise<EntryModule> {
  if (typeof use !== 'string') return { plugin: use, source: 'inline' };
  let url: string;
  if (builtins.includes(use)) {
    url = pathToFileURL(path.join(BUILTIN_DIR, use, `index${MODULE_EXT}`)).href;
  } else if (isPathSpecifier(use)) {
    const file = use.startsWith('file:') ? fileURLToPath(use) : path.resolve(configDir, use);
    if (!existsSync(file)) return { problem: `${at}: plugin file '${use}' not found (resolved to ${file})`, notFound: true, source: use };
    url = pathToFileURL(file).href;
  } else {
    let resolved: string;
    try {
      resolved = resolvePackage(use, configDir);
    } catch (error) {
      if (error instanceof PackageResolutionError && !error.notFound) {
        return { problem: `${at}: cannot import plugin '${use}': ${error.message}`, source: use };
      }
      return {
        problem: `${at}: unknown plugin '${use}': not a built-in plugin (${builtins.join(', ')}) nor an installed npm package`,
        notFound: true,
        source: use,
      };
    }
    url = pathToFileURL(resolved).href;
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(url);
  } catch (error) {
    return { problem: `${at}: cannot import plugin '${use}': ${(error as Error).message}`, source: use };
  }
  if (!isPlugin(mod.default)) {
    return {
      problem: `${at}: module '${use}' does not default-export a plugin definition (export default definePlugin({ … }))`,
      source: use,
    };
  }
  return { plugin: mod.default, source: use };
}

/**
 * Loads and checks every plugin of a config (an object, or what `loadConfig` returned). Returns the
 * problems instead of throwing.
 */
export async function loadPlugins(rawConfig: unknown, configDir: string): Promise<LoadResult> {
  const problems: string[] = [];
  // Validate the top level with `plugins` left raw, then each entry on its own, so that one bad
  // entry does not hide the problems of the others.
  // A config object handed straight to createKernel gets the same guard loadConfig applies.
  const deep = tooDeep(rawConfig);
  if (deep !== undefined) {
    return { config: KernelConfigSchema.parse({}) as KernelConfig, plugins: [], problems: [`${deep}: nested deeper than ${MAX_CONFIG_DEPTH} levels`], skipped: [] };
  }
  const overrides = envOverridesOf(rawConfig);
  // What `loadConfig` returned may be passed as is: where it was read from is no config key.
  if (rawConfig !== null && typeof rawConfig === 'object' && 'configPath' in rawConfig) {
    const { configPath: _omit, ...rest } = rawConfig as Record<string, unknown>;
    rawConfig = rest;
  }
  const topLevelOverrides = overrides.flatMap((o) => (o.path !== undefined ? [{ variable: o.variable, path: o.path }] : []));
  const topLevel = validate(KernelConfigSchema.extend({ plugins: z.array(z.unknown()).default([]) }), rawConfig);
  if (!topLevel.success) problems.push(...topLevel.problems.map((p) => nameVariable(p, topLevelOverrides, [], formatPath)));
  const pluginOverrides = overrides.filter((o) => o.plugin !== undefined);
  const matchedOverrides = new Set<EnvOverride>();
  const rawEntries: unknown[] = topLevel.success
    ? topLevel.data.plugins
    : Array.isArray((rawConfig as { plugins?: unknown } | null)?.plugins)
      ? ((rawConfig as { plugins: unknown[] }).plugins)
      : [];

  const builtins = builtinPluginNames();
  const candidates: ResolvedPlugin[] = [];
  const skipped: SkippedPlugin[] = [];
  const entries = rawEntries.map((raw, index) => ({ index, parsed: validate(PluginEntryObjectSchema, normalizeEntry(raw), ['plugins', index]) }));
  const imported = await Promise.all(
    entries.map(async ({ index, parsed }) => {
      if (!parsed.success) {
        problems.push(...parsed.problems);
        return undefined;
      }
      const entry = parsed.data;
      if (!entry.enabled) {
        // An override for a disabled plugin has something to match, just nothing to change.
        const guess = entry.name ?? (typeof entry.use === 'string' ? shortName(entry.use) : entry.use.name);
        for (const o of pluginOverrides) if (pluginKey(o.plugin!) === pluginKey(guess)) matchedOverrides.add(o);
        return undefined;
      }
      const at = formatPath(['plugins', index]);
      const mod = await importEntry(entry.use, `${at}.use`, configDir, builtins);
      return { index, entry, mod, at };
    }),
  );

  const byName = new Map<string, number>();
  for (const item of imported) {
    if (item === undefined) continue;
    const { index, entry, mod, at } = item;
    if (mod.problem !== undefined || mod.plugin === undefined) {
      if (entry.optional && mod.notFound === true) {
        skipped.push({ use: String(entry.use), configIndex: index, reason: isPathSpecifier(String(entry.use)) ? 'file not found' : 'not a built-in plugin nor an installed npm package' });
        const guess = entry.name ?? shortName(String(entry.use));
        for (const o of pluginOverrides) if (pluginKey(o.plugin!) === pluginKey(guess)) matchedOverrides.add(o);
      } else problems.push(mod.problem!);
      continue;
    }
    const definition = mod.plugin;
    const name = entry.name ?? definition.name;
    const seen = byName.get(name);
    if (seen !== undefined) {
      problems.push(`${at}: two plugins named '${name}' (plugins[${seen}] and plugins[${index}]); give one a different \`name\``);
      continue;
    }
    byName.set(name, index);
    if (definition.kernel !== undefined && !semver.satisfies(KERNEL_VERSION, definition.kernel, { includePrerelease: true })) {
      problems.push(`${at}: plugin '${name}' supports kernel ${definition.kernel}, but this kernel is ${KERNEL_VERSION}`);
    }
    const mine = pluginOverrides.filter((o) => pluginKey(o.plugin!) === pluginKey(name));
    for (const o of mine) matchedOverrides.add(o);
    const noPath = mine.filter((o) => o.segments.length === 0);
    for (const o of noPath) problems.push(`${o.variable}: names plugin '${name}' but no option (write ${o.variable}__<OPTION>)`);
    const { options: rawOptions, applied } = applyPluginOverrides(entry.options ?? {}, mine.filter((o) => o.segments.length > 0), definition.options);
    const prefix = ['plugins', index, 'options'];
    let options: unknown = rawOptions;
    if (definition.options !== undefined) {
      const parsed = validate(definition.options, rawOptions, prefix);
      if (parsed.success) options = parsed.data;
      else problems.push(...parsed.problems.map((p) => nameVariable(p, applied, prefix, formatPath)));
    } else if (Object.keys(rawOptions).length > 0) {
      // A plugin without an options schema takes no options: any key is a typo or a leftover.
      problems.push(
        ...Object.keys(rawOptions).map((k) => nameVariable(`${formatPath([...prefix, k])}: unknown key (plugin '${name}' takes no options)`, applied, prefix, formatPath)),
      );
    }
    candidates.push({ name, definition, options, optional: entry.optional, source: mod.source, configIndex: index });
  }

  const names = new Set(candidates.map((p) => p.name));
  for (const o of pluginOverrides) {
    if (matchedOverrides.has(o)) continue;
    problems.push(`${o.variable}: no plugin named '${o.plugin!.toLowerCase()}' in the config (plugins: ${[...names].join(', ') || 'none'}); the segment after PLUGINS is a plugin's name, \`-\` written as \`_\``);
  }
  for (const plugin of candidates) {
    for (const dep of plugin.definition.dependsOn ?? []) {
      if (!names.has(dep)) {
        problems.push(
          `${formatPath(['plugins', plugin.configIndex])}: plugin '${plugin.name}' depends on '${dep}', which is not loaded (loaded: ${[...names].join(', ') || 'none'})`,
        );
      }
    }
  }
  const { ordered, cycle } = orderPlugins(candidates);
  if (cycle !== undefined) problems.push(`plugins: dependency cycle ${cycle.join(' → ')}`);

  const config = (topLevel.success ? { ...topLevel.data, plugins: [] } : KernelConfigSchema.parse({})) as KernelConfig;
  return { config, plugins: ordered, problems, skipped };
}

/** `./plugins/greeter.ts` → `greeter`; `./greeter/index.ts` → `greeter`; `@scope/pkg` → `pkg`. */
function shortName(use: string): string {
  const base = path.basename(use).replace(/\.(ts|js|mjs)$/, '');
  return base === 'index' ? path.basename(path.dirname(use)) : base;
}

/**
 * Topological order over `dependsOn` and the `optionalDependsOn` that are loaded; among plugins
 * whose dependencies are met, config order wins, so an unconstrained config starts as written.
 * Optional dependencies only order. Where they form a cycle (events and health each optionally
 * use the other), the cycle is ordered as a group: every plugin outside it that depends on any
 * member (supervision optionally wanting events) starts after the whole group, whatever the config
 * order, and inside it the first plugin in config order whose required dependencies are met goes
 * first. So a plugin that optionally depends on X starts after X whenever that makes no cycle.
 * Only a cycle of required dependencies is an error.
 */
export function orderPlugins(plugins: readonly ResolvedPlugin[]): { ordered: ResolvedPlugin[]; cycle?: string[] } {
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const indexOf = new Map(plugins.map((p, i) => [p.name, i]));
  // A plugin naming itself is the shortest cycle (`a → a`), not something to drop quietly.
  const required = new Map(plugins.map((p) => [p.name, (p.definition.dependsOn ?? []).filter((d) => byName.has(d))]));
  const n = plugins.length;
  const requiredOf: number[][] = plugins.map((p) => required.get(p.name)!.map((d) => indexOf.get(d)!));
  const allOf: number[][] = plugins.map((p, i) => [
    ...requiredOf[i]!,
    ...(p.definition.optionalDependsOn ?? []).filter((d) => byName.has(d)).map((d) => indexOf.get(d)!),
  ]);
  // Groups: strongly connected components over all edges. Between groups every edge orders; only
  // inside a group (a cycle made by optional edges) must one be broken.
  const { component, count } = stronglyConnected(allOf);
  const members: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < n; i++) members[component[i]!]!.push(i); // ascending config order
  // Kahn's algorithm over the groups and, inside each, over its own edges, with ready sets kept
  // as min-heaps of config positions, so picking "the first in config order whose dependencies
  // are met" costs O(log n) instead of a scan: boot stays linear in the number of plugins.
  const pendingGroup = new Int32Array(count);
  const dependentGroups: number[][] = Array.from({ length: count }, () => []);
  const pendingAll = new Int32Array(n);
  const pendingRequired = new Int32Array(n);
  const dependentsAll: number[][] = plugins.map(() => []);
  const dependentsRequired: number[][] = plugins.map(() => []);
  for (let i = 0; i < n; i++) {
    const c = component[i]!;
    for (const d of allOf[i]!) {
      if (component[d] === c) {
        pendingAll[i]!++;
        dependentsAll[d]!.push(i);
      } else {
        pendingGroup[c]!++;
        dependentGroups[component[d]!]!.push(c);
      }
    }
    for (const d of requiredOf[i]!) {
      if (component[d] !== c) continue;
      pendingRequired[i]!++;
      dependentsRequired[d]!.push(i);
    }
  }
  const readyGroups = new MinHeap(); // keyed by the group's first config position
  for (let c = 0; c < count; c++) if (pendingGroup[c] === 0) readyGroups.push(members[c]![0]!);
  const placed = new Uint8Array(n);
  const ordered: ResolvedPlugin[] = [];
  const popUnplaced = (heap: MinHeap): number => {
    while (heap.size > 0) {
      const i = heap.pop();
      if (placed[i] === 0) return i;
    }
    return -1;
  };
  while (readyGroups.size > 0) {
    const c = component[readyGroups.pop()]!;
    const group = members[c]!;
    const readyAll = new MinHeap();
    const readyRequired = new MinHeap();
    for (const i of group) {
      if (pendingAll[i] === 0) readyAll.push(i);
      if (pendingRequired[i] === 0) readyRequired.push(i);
    }
    for (let left = group.length; left > 0; left--) {
      // All dependencies met first; when optional ones alone form a cycle (events and health each
      // optionally use the other), the first plugin whose required dependencies are met goes.
      let next = popUnplaced(readyAll);
      if (next === -1) next = popUnplaced(readyRequired);
      if (next === -1) {
        const remaining = group.filter((i) => placed[i] === 0).map((i) => plugins[i]!);
        return { ordered, cycle: findCycle(remaining, (p) => required.get(p.name)!, byName) };
      }
      placed[next] = 1;
      ordered.push(plugins[next]!);
      for (const d of dependentsAll[next]!) if (--pendingAll[d]! === 0) readyAll.push(d);
      for (const d of dependentsRequired[next]!) if (--pendingRequired[d]! === 0) readyRequired.push(d);
    }
    for (const g of dependentGroups[c]!) if (--pendingGroup[g]! === 0) readyGroups.push(members[g]![0]!);
  }
  return { ordered };
}

/**
 * Tarjan's strongly connected components of the graph `edges` (node → the nodes it points at),
 * iterative so a long dependency chain cannot overflow the call stack.
 */
function stronglyConnected(edges: readonly (readonly number[])[]): { component: Int32Array; count: number } {
  const n = edges.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const component = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const next = new Int32Array(n); // the next edge of each node to explore
  const stack: number[] = [];
  const path: number[] = [];
  let counter = 0;
  let count = 0;
  const enter = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    path.push(v);
  };
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    enter(root);
    while (path.length > 0) {
      const v = path[path.length - 1]!;
      const out = edges[v]!;
      if (next[v]! < out.length) {
        const w = out[next[v]!++]!;
        if (index[w] === -1) enter(w);
        else if (onStack[w] === 1 && index[w]! < low[v]!) low[v] = index[w]!;
        continue;
      }
      path.pop();
      const parent = path[path.length - 1];
      if (parent !== undefined && low[v]! < low[parent]!) low[parent] = low[v]!;
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component[w] = count;
        } while (w !== v);
        count++;
      }
    }
  }
  return { component, count };
}

/** A binary min-heap of numbers (config positions). */
class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const a = this.#items;
    let i = a.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= value) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = value;
  }

  pop(): number {
    const a = this.#items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function findCycle(
  remaining: readonly ResolvedPlugin[],
  depsOf: (p: ResolvedPlugin) => string[],
  byName: ReadonlyMap<string, ResolvedPlugin>,
): string[] {
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visited = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    if (onStack.has(name)) return [...stack.slice(stack.indexOf(name)), name];
    if (visited.has(name)) return undefined;
    visited.add(name);
    stack.push(name);
    onStack.add(name);
    for (const dep of depsOf(byName.get(name)!)) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    onStack.delete(name);
    return undefined;
  };
  for (const p of remaining) {
    const cycle = visit(p.name);
    if (cycle) return cycle;
  }
  return remaining.map((p) => p.name);
}
