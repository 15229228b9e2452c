/**
 * Public contract of the transport-nats plugin: the `nats` service.
 */
import type { NatsConnection as Client } from '@nats-io/transport-node';
import type { Disposer } from '../../sdk/index.js';
import type { EventStore } from '../events/stores/EventStore.js';
import type { ConnectionStats } from './NatsConnection.js';
import type { JetStreamStoreOptionsInput } from './options.js';

/** A live bridge between the local event bus and the other nodes of the system. */
export interface EventBridge {
  /** The local type patterns mirrored out (and accepted in). */
  readonly patterns: readonly string[];
  /** Events sent to other nodes so far. */
  readonly sent: number;
  /** Events received from other nodes and published locally. */
  readonly received: number;
  /** Stops mirroring both ways. */
  close(): Promise<void>;
}

/** The `nats` service. */
export interface NatsService {
  /** The system name: a token of every subject this plugin uses. */
  readonly system: string;
  /** The raw client, for what the plugin does not cover (throws NATS_CLOSED when not connected). */
  readonly client: Client;
  /**
   * An `EventStore` over a JetStream stream (`{ type: 'jetstream', stream, subjectPrefix }`), for
   * the events plugin. Nodes naming the same stream share one log.
   */
  createEventStore(options?: JetStreamStoreOptionsInput): EventStore;
  /**
   * Mirrors local events whose type matches one of `patterns` to `ms.<system>.events.<type>`, and
   * publishes the ones other nodes mirror (matching the same patterns) into the local bus. An
   * event never comes back to the node it left (origin header), and one event arrives once.
   */
  bridge(patterns: string | readonly string[]): Promise<EventBridge>;
  /**
   * Serves the local tools matching `patterns` to the other nodes; they see them as tools of their
   * own (`tools.list`, `tools.call`). Grants are checked here, on the owning node, for the calling
   * agent and its delegation chain.
   */
  exposeTools(patterns: string | readonly string[]): Promise<Disposer>;
  /**
   * Registers, on the local tool bus, every tool the other nodes expose (matching `patterns`,
   * default all), as proxies calling the owning node. Done at start when the tools plugin is
   * loaded; call again to pick up tools exposed later.
   */
  importTools(patterns?: string | readonly string[]): Promise<readonly string[]>;
  /** The connection's state and counters. */
  stats(): ConnectionStats;
}

declare module '../../sdk/index.js' {
  interface Services {
    nats: NatsService;
  }
}
