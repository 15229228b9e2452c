import { definePlugin } from '../../sdk/index.js';
import type {} from '../health/types.js';
import { createActorsHealthCheck } from './healthCheck.js';
import { LocalActorSystem } from './LocalActorSystem.js';
import { actorsOptions } from './options.js';

export default definePlugin({
  name: 'actors',
  version: '1.0.0',
  description: 'Actor runtime: spawn, tell, ask, bounded mailboxes, supervision, watch, dead letters',
  dependsOn: ['supervision'],
  optionalDependsOn: ['events', 'health'],
  options: actorsOptions,
  setup(ctx) {
    const system = new LocalActorSystem({
      options: ctx.options,
      supervision: ctx.resolve('supervision'),
      logger: ctx.logger,
      metrics: ctx.metrics,
      events: () => ctx.tryResolve('events'),
    });
    ctx.provide('actors', system);
    ctx.onStart(() => system.start());
    ctx.onStop((signal) => system.shutdown(signal));
    if (ctx.options.healthCheck) {
      const unregister = ctx.tryResolve('health')?.register('actors', createActorsHealthCheck(system), { timeoutMs: 2000 });
      if (unregister !== undefined) ctx.onStop(() => unregister());
    }
  },
});

export { LocalActorSystem } from './LocalActorSystem.js';
export type { LocalActorSystemInit } from './LocalActorSystem.js';
export { ActorErrorCodes } from './errors.js';
export type { ActorErrorCode } from './errors.js';
export { actorsOptions } from './options.js';
export type { ActorsOptions } from './options.js';
export type {
  ActorContext,
  ActorHooks,
  ActorRef,
  ActorStats,
  ActorSystem,
  AnyActorRef,
  AskOptions,
  Behavior,
  DeadLetter,
  DeadLetterReason,
  DeadLetters,
  Delivery,
  Envelope,
  MailboxOptions,
  Overflow,
  RemoteActorTransport,
  RemoteRefOptions,
  SpawnOptions,
  TerminationReason,
} from './types.js';
