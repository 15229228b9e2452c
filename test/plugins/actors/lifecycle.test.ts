import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canTransition,
  IN_FLIGHT,
  RESTARTING,
  RUNNING,
  SCHEDULED,
  STARTING,
  STATUS_NAMES,
  statusOf,
  STOPPED,
  STOPPING,
  transition,
  type CellStatus,
} from '../../../plugins/actors/CellState.js';
import type { TerminationReason } from '../../../plugins/actors/types.js';
import { gate, startActors } from './helpers.js';

const ALL: readonly CellStatus[] = [STARTING, RUNNING, RESTARTING, STOPPING, STOPPED];

/** The lifecycle as the actors README states it, from → allowed targets. */
const ALLOWED: Record<string, readonly string[]> = {
  STARTING: ['RUNNING', 'RESTARTING', 'STOPPING', 'STOPPED'],
  RUNNING: ['RESTARTING', 'STOPPING', 'STOPPED'],
  RESTARTING: ['RUNNING', 'RESTARTING', 'STOPPING', 'STOPPED'],
  STOPPING: ['STOPPED'],
  STOPPED: [],
};

test('the transition table allows exactly the documented moves and rejects every other one', () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const name = `${STATUS_NAMES[from]} → ${STATUS_NAMES[to]}`;
      const allowed = ALLOWED[STATUS_NAMES[from]!]!.includes(STATUS_NAMES[to]!);
      assert.equal(canTransition(from, to), allowed, name);
      if (allowed) assert.equal(statusOf(transition(from, to, 'actor a')), to, name);
      else assert.throws(() => transition(from, to, "actor 'x' (actor-1)"), new RegExp(`actor 'x' \\(actor-1\\): illegal lifecycle transition ${name}`), name);
    }
  }
});

test('a transition keeps the scheduled and in-flight flags packed beside the status', () => {
  const state = RUNNING | SCHEDULED | IN_FLIGHT;
  const next = transition(state, STOPPING, 'actor a');
  assert.equal(statusOf(next), STOPPING);
  assert.equal(next & SCHEDULED, SCHEDULED);
  assert.equal(next & IN_FLIGHT, IN_FLIGHT);
  assert.throws(() => transition(STOPPED | SCHEDULED, RUNNING, 'actor a'), /STOPPED → RUNNING/);
});

test('a temporary actor that crashed for good can still be stopped: stop() resolves, nothing moves back', async (t) => {
  const { actors } = await startActors(t);
  const ref = actors.spawn<string, string>({ receive: () => { throw new Error('boom'); } }, { supervision: { restart: 'temporary' } });
  const ended = gate<TerminationReason>();
  actors.watch(ref, ended.open);
  ref.tell('crash');
  const reason = await ended.promise;
  assert.equal(reason.kind, 'crashed');
  await ref.stop();
  assert.equal(ref.alive, false);
  await assert.rejects(ref.ask('again'), { code: 'ACTOR_STOPPED' });
});

test('a restart passes through RESTARTING back to RUNNING: messages queued meanwhile are handled in order by the new incarnation', async (t) => {
  const { actors } = await startActors(t);
  const seen: string[] = [];
  const ref = actors.spawn<string, number>({
    init: () => undefined,
    receive: (m, ctx) => {
      if (m === 'crash') throw new Error('boom');
      seen.push(`${m}@${ctx.restartCount}`);
      return ctx.restartCount;
    },
  });
  ref.tell('a');
  ref.tell('crash');
  ref.tell('b');
  ref.tell('c');
  assert.equal(await ref.ask('d'), 1);
  assert.deepEqual(seen, ['a@0', 'b@1', 'c@1', 'd@1']);
});
