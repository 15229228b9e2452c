/** The routing plugin's error codes; messages name the router and the offending value. */
import { ActorError } from '../../sdk/index.js';

export const RoutingErrorCodes = Object.freeze({
  /** A message to a router that has no routees (all stopped, or a pool of zero refs). */
  ROUTING_NO_ROUTEES: 'ROUTING_NO_ROUTEES',
  /** `resize` on a pool of existing refs (only behaviour pools can spawn routees). */
  ROUTING_NOT_RESIZABLE: 'ROUTING_NOT_RESIZABLE',
  /** Pool options that cannot work (unknown strategy, size < 0, key not a function). */
  ROUTING_INVALID_OPTIONS: 'ROUTING_INVALID_OPTIONS',
  /** A message to a router that was stopped. */
  ROUTING_ROUTER_STOPPED: 'ROUTING_ROUTER_STOPPED',
} as const);

export type RoutingErrorCode = (typeof RoutingErrorCodes)[keyof typeof RoutingErrorCodes];

export function noRoutees(router: string): ActorError {
  return new ActorError(RoutingErrorCodes.ROUTING_NO_ROUTEES, `router ${router} has no routees; resize it or add live refs`, { context: { router } });
}

export function notResizable(router: string): ActorError {
  return new ActorError(RoutingErrorCodes.ROUTING_NOT_RESIZABLE, `router ${router} routes to given refs and cannot be resized; only a pool over a behaviour can`, {
    context: { router },
  });
}

export function invalidPoolOptions(problem: string): ActorError {
  return new ActorError(RoutingErrorCodes.ROUTING_INVALID_OPTIONS, `invalid pool options: ${problem}`, { context: { problem } });
}

export function routerStopped(router: string): ActorError {
  return new ActorError(RoutingErrorCodes.ROUTING_ROUTER_STOPPED, `router ${router} has stopped`, { context: { router } });
}
