import { definePlugin } from '../../sdk/index.js';
import type {} from '../actors/types.js';
import { routingOptions } from './options.js';
import { Routing } from './Routing.js';

export default definePlugin({
  name: 'routing',
  version: '1.0.0',
  description: 'Pool routers (round-robin, least-loaded, consistent-hash, broadcast, random) and message middleware over actors',
  dependsOn: ['actors'],
  options: routingOptions,
  setup(ctx) {
    ctx.provide('routing', new Routing(ctx.resolve('actors'), ctx.options, ctx.logger));
  },
});

export { Routing } from './Routing.js';
export { PoolRouter } from './PoolRouter.js';
export { HashRing, fnv1a } from './HashRing.js';
export { RoutingErrorCodes } from './errors.js';
export type { RoutingErrorCode } from './errors.js';
export { routingOptions } from './options.js';
export type { RoutingOptions } from './options.js';
export type { MessageContext, Middleware, PoolOptions, ProcessedContext, Router, RoutingService, RoutingStrategy } from './types.js';
