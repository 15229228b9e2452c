/**
 * Symbol keys of the actor runtime's internals. A cell is the `ActorRef` users hold (one object per
 * actor keeps idle actors small), so what only the runtime may call — run a turn, start or end an
 * incarnation, terminate, escalate — is keyed by these symbols instead of by name, as pino and
 * Fastify keep their internals: no string key of a ref reaches them, and this module is not
 * exported by the plugin.
 */
export const kRun: unique symbol = Symbol('actors.run');
export const kIncarnate: unique symbol = Symbol('actors.incarnate');
export const kIncarnated: unique symbol = Symbol('actors.incarnated');
export const kRetire: unique symbol = Symbol('actors.retire');
export const kFinalize: unique symbol = Symbol('actors.finalize');
export const kEscalate: unique symbol = Symbol('actors.escalate');
export const kConfig: unique symbol = Symbol('actors.config');
export const kParent: unique symbol = Symbol('actors.parent');
export const kChildren: unique symbol = Symbol('actors.children');
export const kAdopt: unique symbol = Symbol('actors.adopt');
export const kDisown: unique symbol = Symbol('actors.disown');
export const kReason: unique symbol = Symbol('actors.reason');
export const kBusy: unique symbol = Symbol('actors.busy');
export const kAddWatcher: unique symbol = Symbol('actors.addWatcher');
export const kRemoveWatcher: unique symbol = Symbol('actors.removeWatcher');
export const kSignal: unique symbol = Symbol('actors.signal');
export const kStopIncarnation: unique symbol = Symbol('actors.stopIncarnation');
