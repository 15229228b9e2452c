import type { CheckResult } from '../health/types.js';
import type { LocalActorSystem } from './LocalActorSystem.js';

const PROBE = { receive: (message: unknown) => message };

/**
 * The actors health check: spawn a probe actor and ask it within the check's deadline. It proves
 * the whole path works (spawn, supervisor start, scheduling, ask), not just that the object exists.
 */
export function createActorsHealthCheck(system: LocalActorSystem): (signal: AbortSignal) => Promise<CheckResult> {
  return async (signal) => {
    let probe;
    try {
      probe = system.spawn(PROBE);
    } catch (error) {
      return { status: 'unhealthy', message: `cannot spawn a probe actor: ${(error as Error).message}` };
    }
    try {
      const began = performance.now();
      await probe.ask('ping', { timeoutMs: 2000, signal });
      const stats = system.stats();
      return {
        status: 'healthy',
        details: { roundTripMs: performance.now() - began, actors: stats.actors - 1, queued: stats.queued, deadLetters: stats.deadLetters, restarts: stats.restarts },
      };
    } catch (error) {
      return { status: 'unhealthy', message: `probe actor did not answer: ${(error as Error).message}` };
    } finally {
      void probe.stop();
    }
  };
}
