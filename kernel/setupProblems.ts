/**
 * What a dry run of every plugin's `setup` tells `mister-smith check` beyond what the config shows:
 * a service resolved in setup from a plugin that starts later (a forgotten `dependsOn`), one
 * service provided twice (typically one plugin loaded twice under two `name`s), and setups that
 * throw.
 */
import { KernelError, MisterSmithError } from '../sdk/index.js';

/** How one plugin's setup went in a dry run. */
export interface SetupOutcome {
  readonly plugin: string;
  /** Position in start order. */
  readonly index: number;
  readonly error?: Error;
}

/** Problems, one line each, from the outcomes of a dry run and the services it ended with. */
export function setupProblems(outcomes: readonly SetupOutcome[], providers: ReadonlyMap<string, string>): string[] {
  const failed = new Set(outcomes.filter((o) => o.error !== undefined).map((o) => o.plugin));
  const indexOf = new Map(outcomes.map((o) => [o.plugin, o.index]));
  return outcomes.flatMap(({ plugin, error }) => {
    if (error === undefined) return [];
    const context = error instanceof MisterSmithError ? error.context : {};
    const service = typeof context.service === 'string' ? context.service : undefined;
    if (error instanceof MisterSmithError && service !== undefined && (error.code === 'KERNEL_SERVICE_NOT_FOUND' || error.code === 'KERNEL_UNDECLARED_DEPENDENCY')) {
      const provider = providers.get(service) ?? (failed.has(service) ? service : undefined);
      if (provider === undefined) {
        return [`plugin '${plugin}' resolves service '${service}' in setup, which no plugin of this config provides`];
      }
      if (failed.has(provider) && !providers.has(service)) {
        return [`plugin '${plugin}' resolves service '${service}' in setup, which plugin '${provider}' would provide, but its setup failed (see its problem)`];
      }
      if ((indexOf.get(provider) ?? -1) > (indexOf.get(plugin) ?? -1)) {
        return [
          `plugin '${plugin}' resolves service '${service}' in setup, which plugin '${provider}' provides, but '${provider}' starts after '${plugin}': add '${provider}' to the dependsOn of '${plugin}'`,
        ];
      }
    }
    if (error instanceof MisterSmithError && error.code === 'KERNEL_SERVICE_CONFLICT') {
      const owner = typeof context.owner === 'string' ? context.owner : '?';
      return [
        `plugin '${plugin}' provides service '${service}', which plugin '${owner}' already provides; a plugin loaded twice under two \`name\`s must provide its services under ctx.name (or load it once)`,
      ];
    }
    return [`plugin '${plugin}' fails in setup: ${error.message}`];
  });
}

/**
 * The error for a service a plugin resolves that nobody provides (yet). When a loaded plugin that
 * has not set up yet is named like the service (built-in plugins provide a service of their own
 * name), the likely cause is a forgotten `dependsOn`: say so, and what to add where.
 */
export function missingServiceError(requester: string, service: string, notSetUp: readonly string[], provided: readonly string[]): KernelError {
  const context = { service, requester };
  if (notSetUp.includes(service)) {
    return new KernelError(
      'KERNEL_UNDECLARED_DEPENDENCY',
      `plugin '${requester}' asked for service '${service}', which plugin '${service}' provides, but '${service}' starts after '${requester}': add '${service}' to the dependsOn of '${requester}' (or to optionalDependsOn, with ctx.tryResolve)`,
      { context: { ...context, provider: service } },
    );
  }
  const hint =
    notSetUp.length > 0
      ? `; not set up yet: ${notSetUp.join(', ')} (if one of them provides it, add it to the dependsOn of '${requester}'; \`mister-smith check\` names it)`
      : '';
  return new KernelError(
    'KERNEL_SERVICE_NOT_FOUND',
    `'${requester}' asked for service '${service}', which no ${notSetUp.length > 0 ? 'plugin set up so far' : 'loaded plugin'} provides (provided: ${provided.join(', ') || 'none'})${hint}`,
    { context },
  );
}
