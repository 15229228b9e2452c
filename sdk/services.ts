/**
 * The built-in plugins' services, typed out of the box. Each plugin declares its service in the
 * `Services` map by declaration merging (`declare module … { interface Services { … } }` in its
 * `types.ts`); the imports below bring every one of those declarations into any program that imports
 * `mister-smith/sdk`, so `ctx.resolve('actors')` is an `ActorSystem` with no extra import. Type-only:
 * nothing here exists at run time and no plugin code is loaded.
 *
 * A new built-in plugin with a service adds its line to `BuiltinServices` (a test checks that it
 * agrees with `Services`).
 */
import type { ActorSystem } from '../plugins/actors/types.js';
import type { AgentService } from '../plugins/agents/types.js';
import type { EventBus } from '../plugins/events/types.js';
import type { HealthService } from '../plugins/health/types.js';
import type { HttpService } from '../plugins/http/types.js';
import type { PrometheusService } from '../plugins/metrics-prometheus/types.js';
import type { ResilienceService } from '../plugins/resilience/types.js';
import type { RoutingService } from '../plugins/routing/types.js';
import type { SupervisionService } from '../plugins/supervision/types.js';
import type { TaskService } from '../plugins/tasks/types.js';
import type { ToolBus } from '../plugins/tools/types.js';
import type { NatsService } from '../plugins/transport-nats/types.js';

/** The services the built-in plugins provide, by service name. */
export interface BuiltinServices {
  actors: ActorSystem;
  agents: AgentService;
  events: EventBus;
  health: HealthService;
  http: HttpService;
  prometheus: PrometheusService;
  resilience: ResilienceService;
  routing: RoutingService;
  supervision: SupervisionService;
  tasks: TaskService;
  tools: ToolBus;
  nats: NatsService;
}
