import { z } from '../../sdk/index.js';

/** The routing plugin's options; `{}` validates. */
export const routingOptions = z.object({
  /** Strategy of a pool created without one. */
  defaultStrategy: z.enum(['round-robin', 'least-loaded', 'consistent-hash', 'broadcast', 'random']).default('round-robin'),
  /** Routees of a behaviour pool created without `size`. */
  defaultSize: z.number().int().min(0).max(100_000).default(4),
  /** Points per routee on a consistent-hash ring: more = evener spread, slower resize. */
  virtualNodes: z.number().int().min(1).max(10_000).default(100),
});

export type RoutingOptions = z.output<typeof routingOptions>;
