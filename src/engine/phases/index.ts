// The phases of the build machine (machines/phases.ts) and what implements each: one file per group
// of phases, each a list of steps whose calls to the cloud go through tracked.ts. Every actor is
// idempotent: XState restarts it on retry, and resume re-runs an unfinished phase.
import { fromPromise } from 'xstate';
import type { BuildFacts, PhaseActorLogic, PhaseInput } from '../../../machines/build.machine.js';
import type { PhaseName } from '../../../machines/phases.js';
import { answerOf } from '../../scaleway/index.js';
import type { PhaseFn, PhaseRuntime } from '../runtime.js';
import { imageCreate, imageWait, snapshotCreate, snapshotWait } from './artifact.js';
import { checkpoint } from './checkpoint.js';
import { cleanup } from './cleanup.js';
import { machineCleanup, userDataWait } from './machine.js';
import { networkAttach } from './network.js';
import { postprocess } from './postprocess.js';
import { prepare } from './prepare.js';
import { provision } from './provision.js';
import { serverCreate, serverStart, serverStop, serverWaitRunning, serverWaitStopped } from './server.js';
import { key, sshConnect } from './ssh.js';
import { volumesCreate, volumesIops, volumeSnapshotsCreate, volumeSnapshotsWait } from './volumes.js';

const IMPLEMENTATIONS: Record<PhaseName, PhaseFn> = {
  prepare,
  key,
  'volumes.create': volumesCreate,
  'server.create': serverCreate,
  'volumes.iops': volumesIops,
  'server.start': serverStart,
  'server.wait_running': serverWaitRunning,
  'network.attach': networkAttach,
  'ssh.connect': sshConnect,
  provision,
  checkpoint,
  'user_data.wait': userDataWait,
  'machine.cleanup': machineCleanup,
  'server.stop': serverStop,
  'server.wait_stopped': serverWaitStopped,
  'snapshot.create': snapshotCreate,
  'snapshot.wait': snapshotWait,
  'volume_snapshots.create': volumeSnapshotsCreate,
  'volume_snapshots.wait': volumeSnapshotsWait,
  'image.create': imageCreate,
  'image.wait': imageWait,
  cleanup,
  postprocess,
};

/** The phase actors for one run, to give to `machine.provide({ actors: phaseActors(…) })`. */
export function createPhaseActors(rt: PhaseRuntime): Record<PhaseName, PhaseActorLogic> {
  const actors = {} as Record<PhaseName, PhaseActorLogic>;
  for (const [phase, fn] of Object.entries(IMPLEMENTATIONS) as [PhaseName, PhaseFn][]) {
    actors[phase] = fromPromise<BuildFacts, PhaseInput>(async ({ input, signal }) => {
      // Let the transition that started this phase be recorded before the phase's own events.
      await Promise.resolve();
      try {
        return await fn(rt, input, signal);
      } catch (error) {
        // What Scaleway answered goes with the error into the log: a phase that gives up says it.
        const answer = answerOf(error);
        if (answer !== undefined && error instanceof Error) Object.assign(error, { answer });
        throw error;
      }
    });
  }
  return actors;
}
