// The persist-every-transition observer: what it appends for a run, and that a failing store
// never throws into XState.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise } from 'xstate';
import { createBuildMachine, phaseActors, type BuildFacts, type PhaseActorLogic, type PhaseInput } from '../../machines/build.machine.js';
import { OPTIONAL_PHASES, PHASES, type PhaseName } from '../../machines/phases.js';
import { DEFAULT_PHASE_POLICIES } from '../../machines/policy.js';
import { persistObserver } from '../../src/engine/persist.js';
import type { NewEvent } from '../../src/store/index.js';

function run(append: (events: NewEvent[]) => void, onError: (e: unknown) => void, failIn?: PhaseName): Promise<string> {
  const actors = {} as Record<PhaseName, PhaseActorLogic>;
  for (const phase of PHASES) {
    actors[phase] = fromPromise<BuildFacts, PhaseInput>(async ({ input }) => {
      if (input.phase === failIn && input.reason === 'success') throw Object.assign(new Error('boom'), { name: 'Boom', retryable: false });
      return phase === 'server.create' ? { serverId: 's-1' } : {};
    });
  }
  const machine = createBuildMachine({ retryDelay: () => 0 }).provide({ actors: phaseActors(actors) });
  const actor = createActor(machine, {
    input: { buildId: 'b', onError: 'cleanup', policies: DEFAULT_PHASE_POLICIES, communicator: 'none', provisionerPolicies: [] },
    inspect: persistObserver(append, onError, () => undefined),
  });
  return new Promise((resolve) => {
    actor.subscribe({ complete: () => resolve(String(actor.getSnapshot().value)) });
    actor.start();
  });
}

test('each phase run is recorded as started then succeeded, in order, with what it learnt', async () => {
  const events: NewEvent[] = [];
  assert.equal(await run((e) => events.push(...e), (e) => assert.fail(String(e))), 'done');
  // (No SSH, no provisioners — so no checkpoint —, no optional phase, no extra volumes: those phases are skipped.)
  const phases = PHASES.filter((p) => !['key', 'ssh.connect', 'provision', 'checkpoint', 'volume_snapshots.create', 'volume_snapshots.wait', ...OPTIONAL_PHASES].includes(p));
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.phase}`),
    phases.flatMap((p) => [`phase.started ${p}`, `phase.succeeded ${p}`]),
  );
  assert.deepEqual(events.find((e) => e.type === 'phase.succeeded' && e.phase === 'server.create')!.data!.facts, { serverId: 's-1' });
});

test('a failure is recorded before the cleanup that follows it', async () => {
  const events: NewEvent[] = [];
  assert.equal(await run((e) => events.push(...e), () => {}, 'snapshot.create'), 'failed');
  const seq = events.map((e) => `${e.type} ${e.phase}`);
  const failed = seq.indexOf('phase.failed snapshot.create');
  assert.ok(failed > 0);
  assert.deepEqual(seq.slice(failed, failed + 3), ['phase.failed snapshot.create', 'cleanup.started cleanup', 'phase.started cleanup']);
});

test('a store that throws never throws into the machine: the error goes to onError', async () => {
  const errors: unknown[] = [];
  const end = await run(
    () => {
      throw new Error('disk full');
    },
    (e) => errors.push(e),
  );
  assert.equal(end, 'done');
  assert.ok(errors.length > 0 && errors.every((e) => (e as Error).message === 'disk full'));
});
