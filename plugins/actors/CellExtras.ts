import type { ActorCell } from './ActorCell.js';
import type { TerminationReason } from './types.js';

/** What few actors need: kept off the cell so that an idle actor stays small. */
export class CellExtras {
  name: string | undefined = undefined;
  parent: ActorCell | undefined = undefined;
  children: Set<ActorCell> | undefined = undefined;
  /** The in-flight receive was given up on (forced stop); its settlement is to be ignored. */
  abandoned = false;
  /** The supervisor asked the incarnation to end while a receive was in flight. */
  endRequested = false;
  controller: AbortController | undefined = undefined;
  watchers: Array<(reason: TerminationReason) => void> | undefined = undefined;
  reason: TerminationReason | undefined = undefined;
  stopping: Promise<void> | undefined = undefined;
}
