/**
 * The supervision tree as the page draws it: the root trees and their children from the
 * supervision service (authoritative, live), and below a child that is itself a supervisor the
 * children its events name (nested supervisors are not reachable through the service). Restart
 * times come from `supervision.child.restarted` events.
 */
import type { StoredEvent } from '../events/types.js';
import type { SupervisionService } from '../supervision/types.js';
import type { TreeNode } from './types.js';

interface SeenChild {
  state: string;
  restartCount: number;
  lastRestartAt: string | undefined;
}

/** Children per supervisor, as the events tell them; bounded per supervisor. */
const MAX_CHILDREN_PER_SUPERVISOR = 500;

export class SupervisionView {
  readonly #seen = new Map<string, Map<string, SeenChild>>();

  static wants(type: string): boolean {
    return type.startsWith('supervision.');
  }

  /** Applies a `supervision.*` event; returns true when the tree changed. */
  apply(event: StoredEvent): boolean {
    if (!SupervisionView.wants(event.type)) return false;
    const data = (event.data ?? {}) as { supervisor?: unknown; child?: unknown; restartCount?: unknown; reason?: unknown };
    if (typeof data.supervisor !== 'string' || typeof data.child !== 'string') return false;
    let children = this.#seen.get(data.supervisor);
    if (children === undefined) this.#seen.set(data.supervisor, (children = new Map()));
    let child = children.get(data.child);
    if (child === undefined) {
      if (children.size >= MAX_CHILDREN_PER_SUPERVISOR) return false;
      children.set(data.child, (child = { state: 'starting', restartCount: 0, lastRestartAt: undefined }));
    }
    if (typeof data.restartCount === 'number') child.restartCount = data.restartCount;
    switch (event.type) {
      case 'supervision.child.started':
        child.state = 'running';
        break;
      case 'supervision.child.restarted':
        child.state = 'running';
        child.lastRestartAt = event.time;
        break;
      case 'supervision.child.exited':
        child.state = data.reason === 'normal' || data.reason === 'shutdown' ? 'stopped' : 'restarting';
        break;
      case 'supervision.child.killed':
        child.state = 'stopped';
        break;
      default:
        break;
    }
    return true;
  }

  /** The restarts seen on the log, over every supervisor. */
  restarts(): number {
    let total = 0;
    for (const children of this.#seen.values()) for (const c of children.values()) total += c.restartCount;
    return total;
  }

  snapshot(service: SupervisionService | undefined): TreeNode[] {
    if (service === undefined) return [...this.#seen.keys()].filter((id) => !this.#isChild(id)).map((id) => this.#fromEvents(id, 0));
    return service.roots().map((root) => ({
      id: root.id,
      type: 'supervisor' as const,
      state: root.state,
      restartCount: 0,
      children: root.whichChildren().map((info) => {
        const seen = this.#seen.get(root.id)?.get(info.id);
        const node: TreeNode = {
          id: info.id,
          type: info.type,
          state: info.state,
          restartCount: info.restartCount,
          ...(seen?.lastRestartAt !== undefined ? { lastRestartAt: seen.lastRestartAt } : {}),
        };
        return info.type === 'supervisor' ? { ...node, children: this.#fromEvents(info.id, 1).children ?? [] } : node;
      }),
    }));
  }

  #isChild(id: string): boolean {
    for (const children of this.#seen.values()) if (children.has(id)) return true;
    return false;
  }

  #fromEvents(id: string, depth: number): TreeNode {
    const children = this.#seen.get(id);
    return {
      id,
      type: 'supervisor',
      state: 'running',
      restartCount: 0,
      children:
        children === undefined || depth > 8
          ? []
          : [...children].map(([childId, c]) => {
              const node: TreeNode = {
                id: childId,
                type: this.#seen.has(childId) ? 'supervisor' : 'worker',
                state: c.state,
                restartCount: c.restartCount,
                ...(c.lastRestartAt !== undefined ? { lastRestartAt: c.lastRestartAt } : {}),
              };
              return this.#seen.has(childId) ? { ...node, children: this.#fromEvents(childId, depth + 1).children ?? [] } : node;
            }),
    };
  }
}
