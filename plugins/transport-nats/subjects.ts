/**
 * The one subject scheme of the plugin, versioned. Everything lives under `ms.`, with the system
 * name as a token so that several systems can share a NATS server:
 *
 * | what                          | subject                                   |
 * |-------------------------------|-------------------------------------------|
 * | bridged event                 | `ms.<system>.events.<type>`               |
 * | remote actor (tell/ask)       | `ms.v1.<system>.actor.<name>`             |
 * | remote tool call              | `ms.v1.<system>.tool.<name>`              |
 * | tool directory (who serves)   | `ms.v1.<system>.tools.list`               |
 * | event store (JetStream)       | `<subjectPrefix>.<type>` (`ms.events.…`)  |
 * | run tickets (JetStream)       | `ms.<system>.runs.<agent>`                |
 *
 * The `v1` token versions the request/reply envelope (see envelope.ts): a node speaking `v2`
 * listens on other subjects, so old and new nodes never misread each other's bytes. Bridged events
 * are CloudEvents-shaped JSON, versioned by their own `specversion`.
 */
import { badSubject } from './errors.js';

export const ENVELOPE_VERSION = 'v1';

const TOKEN = /^[A-Za-z0-9_-]+$/;
/** A dotted name whose every token is a plain subject token (`math.add`, `fs.read_file`). */
const DOTTED = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Throws NATS_BAD_SUBJECT unless `value` is one plain token. */
export function checkToken(what: string, value: string): void {
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw badSubject(what, String(value), 'use letters, digits, _ and - only (no dots, spaces, * or >)');
  }
}

/** Throws NATS_BAD_SUBJECT unless `value` is dot-separated plain tokens. */
export function checkDotted(what: string, value: string): void {
  if (typeof value !== 'string' || !DOTTED.test(value) || value.length > 255) {
    throw badSubject(what, String(value), 'use dot-separated tokens of letters, digits, _ and - (no spaces, empty tokens, * or >), at most 255 characters');
  }
}

/** Subjects of one system. */
export class Subjects {
  readonly system: string;
  readonly #actorPrefix: string;
  readonly #toolPrefix: string;
  readonly #eventPrefix: string;

  constructor(system: string) {
    checkToken('system', system);
    this.system = system;
    this.#actorPrefix = `ms.${ENVELOPE_VERSION}.${system}.actor.`;
    this.#toolPrefix = `ms.${ENVELOPE_VERSION}.${system}.tool.`;
    this.#eventPrefix = `ms.${system}.events.`;
  }

  /** `ms.v1.<system>.actor.<name>`; an actor name must be one token. */
  actor(name: string): string {
    checkToken('actor name', name);
    return this.#actorPrefix + name;
  }

  /** `ms.v1.<system>.tool.<name>`; tool names are dotted (`math.add`). */
  tool(name: string): string {
    checkDotted('tool name', name);
    return this.#toolPrefix + name;
  }

  /** Where a tool directory request goes: every node serving tools answers. */
  get toolDirectory(): string {
    return `ms.${ENVELOPE_VERSION}.${this.system}.tools.list`;
  }

  /** `ms.<system>.events.<type>`. */
  event(type: string): string {
    return this.#eventPrefix + type;
  }

  /** The subscription of every bridged event of the system. */
  get allEvents(): string {
    return `${this.#eventPrefix}>`;
  }

  /** The event type of a bridged subject. */
  eventType(subject: string): string {
    return subject.slice(this.#eventPrefix.length);
  }

  /** `ms.<system>.runs.<agent>`. */
  runTicket(agent: string): string {
    checkDotted('agent name', agent);
    return `ms.${this.system}.runs.${agent}`;
  }
}

/** Throws NATS_BAD_SUBJECT unless `pattern` is an event type pattern (`a.*.c`, `tool.>`). */
export function checkPattern(what: string, pattern: string): void {
  const ok =
    typeof pattern === 'string' &&
    pattern.length > 0 &&
    !/\s/.test(pattern) &&
    pattern.split('.').every((t, i, all) => t.length > 0 && (t === '*' || (t === '>' && i === all.length - 1) || !/[*>]/.test(t)));
  if (!ok) throw badSubject(what, String(pattern), "use dot-separated tokens; '*' matches one token, '>' (last only) the rest");
}
