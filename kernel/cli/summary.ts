/**
 * The lines a person reads at a terminal when a system starts and when it ends: what runs, what
 * failed, where the logs and the event log are. Printed only for human-readable output; JSON-line
 * logs (not a TTY) already carry the same facts in the kernel's `started`/`stopped` records.
 */
import path from 'node:path';
import type { Kernel } from '../Kernel.js';
import type { LoadedSystem } from './readConfig.js';

/** Where the event log lives, from the events plugin's options if it is loaded. */
export function eventLogLocation(system: LoadedSystem): string {
  const events = system.plugins.find((p) => p.name === 'events');
  if (events === undefined) return 'none (the events plugin is not loaded)';
  const store = (events.options as { store?: { type?: string; dir?: string; stream?: string } } | undefined)?.store;
  switch (store?.type) {
    case 'file':
      return path.resolve(system.configDir, store.dir ?? '.mister-smith/events');
    case 'jetstream':
      return `NATS JetStream stream ${store.stream ?? 'MISTER_SMITH_EVENTS'}`;
    case 'memory':
      return 'in memory (gone when the process ends)';
    default:
      return store?.type ?? 'unknown';
  }
}

function failedPlugins(kernel: Kernel): string[] {
  return [...new Set(kernel.timeline().filter((r) => r.error !== undefined).map((r) => `${r.plugin} (${r.phase}: ${r.error})`))];
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** Printed once the kernel is running. */
export function startSummary(kernel: Kernel, system: LoadedSystem, bootMs: number): string {
  const records = kernel.timeline();
  const failed = new Set(records.filter((r) => r.error !== undefined).map((r) => r.plugin));
  const running = kernel.plugins.map((p) => p.name).filter((n) => !failed.has(n));
  const lines = [
    `▶ ${kernel.config.name}: ${running.length} plugin(s) running after ${ms(bootMs)} — ${running.join(', ') || 'none'}`,
    ...(failed.size > 0 ? [`  failed (optional, running without): ${failedPlugins(kernel).join('; ')}`] : []),
    ...(system.skipped.length > 0 ? [`  not installed (optional): ${system.skipped.map((s) => s.use).join(', ')}`] : []),
    `  config:    ${system.configPath}`,
    `  event log: ${eventLogLocation(system)}`,
    `  logs:      this terminal, one line per event (JSON lines when not a TTY; MISTER_SMITH_LOG_LEVEL=debug for more)`,
    `  Ctrl-C stops gracefully; a second Ctrl-C forces exit.`,
  ];
  return lines.join('\n');
}

/** Printed when the kernel has stopped (or failed to start). */
export function finalSummary(kernel: Kernel, system: LoadedSystem, outcome: { code: number; reason: string; ranMs: number; trackedFailures: number }): string {
  const failed = failedPlugins(kernel);
  const ran = kernel.timeline().filter((r) => r.phase === 'start' && r.error === undefined).length;
  const mark = outcome.code === 0 ? '■' : '✖';
  return [
    `${mark} ${kernel.config.name}: stopped after ${ms(outcome.ranMs)} (${outcome.reason}) — exit ${outcome.code}`,
    `  ran:       ${ran} plugin(s)${failed.length > 0 ? `; failed: ${failed.join('; ')}` : '; none failed'}`,
    ...(outcome.trackedFailures > 0 ? [`  tracked work that failed: ${outcome.trackedFailures}`] : []),
    `  event log: ${eventLogLocation(system)}`,
    `  logs:      above`,
  ].join('\n');
}
