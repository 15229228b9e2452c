/**
 * The transport-nats plugin: one Mister Smith system across
 * processes and machines, on NATS and JetStream. Provides the `nats` service.
 */
import { definePlugin } from '../../sdk/index.js';
import type {} from '../health/types.js';
import { NatsTransport } from './NatsTransport.js';
import { natsOptions } from './options.js';

export default definePlugin({
  name: 'nats',
  version: '1.0.0',
  description: 'NATS/JetStream transport: event store, event bridge, remote actors, remote tools, distributed agent runs',
  // Nothing is required at setup: actors, tools, events and agents are looked up at start, so the
  // events plugin may depend on us (its jetstream store) without a cycle.
  optionalDependsOn: ['health'],
  options: natsOptions,
  setup(ctx) {
    const transport = new NatsTransport(ctx);
    ctx.provide('nats', transport);
    ctx.onStart((signal) => transport.start(signal));
    ctx.onStop((signal, phase) => transport.stop(signal, phase.deadline));
  },
});

export { NatsTransport } from './NatsTransport.js';
export { NatsConnection } from './NatsConnection.js';
export type { ConnectionStats, ConnectionState } from './NatsConnection.js';
export { NatsErrorCodes } from './errors.js';
export type { NatsErrorCode } from './errors.js';
export { natsOptions, jetStreamStoreOptions } from './options.js';
export type { JetStreamStoreOptions, JetStreamStoreOptionsInput, NatsOptions, NatsOptionsInput } from './options.js';
export { Subjects, ENVELOPE_VERSION } from './subjects.js';
export type { EventBridge, NatsService } from './types.js';
