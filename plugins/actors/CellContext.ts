import type { ActorCell } from './ActorCell.js';
import { kSignal } from './internals.js';
import type { ActorContext } from './types.js';

/** What `receive` sees as `ctx`: one per incarnation, so a restart starts from fresh state. */
export class CellContext implements ActorContext<unknown> {
  state: unknown = undefined;
  readonly self: ActorCell;
  readonly restartCount: number;
  constructor(cell: ActorCell, restartCount: number) {
    this.self = cell;
    this.restartCount = restartCount;
  }
  get signal(): AbortSignal {
    return this.self[kSignal]();
  }
}
