// Resume: where an interrupted, crashed or aborted build continues, folded from its event log.
//
// Rules (issue 6):
// - a phase that finished (phase.succeeded) never runs again; the first unfinished one runs
//   again from its start — its actor is idempotent: an intent without a result is reconciled by
//   tags, a wait polls the recorded resource again;
// - a provisioner that had not finished runs again from its start (provisioners should be
//   idempotent); `--from-provisioner N` chooses where provisioning starts over;
// - the cloud is checked first: a server deleted by hand before provisioning began is created
//   anew; deleted after that (its provisioning is lost) the build fails with a clear message;
//   once the snapshot exists the server is no longer needed and its absence is fine.
import type { BuildFacts } from '../../machines/build.machine.js';
import { PHASES, type PhaseName } from '../../machines/phases.js';
import { NotFoundError, type ScalewayClient } from '../scaleway/index.js';
import type { BuildEvent, BuildRecord } from '../store/index.js';
import type { BuildSpec } from '../template/spec.js';

export interface ResumePoint {
  phase: PhaseName;
  provisionerIndex: number;
  facts: BuildFacts;
}

/** A build that cannot be resumed, and why (the message says what to do instead). */
export class ResumeRefusedError extends Error {
  override readonly name = 'ResumeRefusedError';
}

/** Whether a spec's build goes through `phase` (the machine's own rule, for the resume point). */
export function phaseRuns(spec: Pick<BuildSpec, 'communicator' | 'provisioners' | 'postProcessors'>, phase: PhaseName): boolean {
  if (phase === 'key' || phase === 'ssh.connect') return spec.communicator.type === 'ssh';
  if (phase === 'provision') return spec.provisioners.length > 0;
  if (phase === 'postprocess') return (spec.postProcessors?.length ?? 0) > 0;
  return true;
}

function nextPhase(spec: Pick<BuildSpec, 'communicator' | 'provisioners' | 'postProcessors'>, after: PhaseName): PhaseName | undefined {
  return PHASES.slice(PHASES.indexOf(after) + 1).find((p) => phaseRuns(spec, p));
}

/** The phase (and provisioner) a resumed build starts at, with what finished phases learnt. */
export function resumePoint(events: readonly BuildEvent[], spec: Pick<BuildSpec, 'communicator' | 'provisioners' | 'postProcessors'>): ResumePoint {
  const facts: BuildFacts = {};
  let lastStart: BuildEvent | undefined;
  let lastStartDone = false;
  for (const e of events) {
    if (e.type === 'phase.succeeded' && e.data.reason !== 'failure') {
      Object.assign(facts, (e.data.facts as BuildFacts | undefined) ?? {});
    }
    if (e.type === 'phase.started' && e.data.reason !== 'failure') {
      if (!(lastStart && lastStart.phase === e.phase && lastStart.data.provisionerIndex === e.data.provisionerIndex && !lastStartDone)) {
        lastStart = e;
        lastStartDone = false;
      }
    }
    if (e.type === 'phase.started' && e.data.reason === 'failure') {
      throw new ResumeRefusedError(
        'the build was cleaning up after a failure; there is nothing to continue. ' +
          `Remove what is left with \`kiln gc --build ${e.buildId} --force\` and run \`kiln build\` again.`,
      );
    }
    if (e.type === 'phase.succeeded' && lastStart && e.phase === lastStart.phase && e.data.provisionerIndex === lastStart.data.provisionerIndex) {
      lastStartDone = true;
    }
  }
  if (!lastStart || !lastStart.phase) return { phase: 'prepare', provisionerIndex: 0, facts };
  const index = typeof lastStart.data.provisionerIndex === 'number' ? lastStart.data.provisionerIndex : 0;
  if (!lastStartDone) return { phase: lastStart.phase, provisionerIndex: index, facts };
  if (lastStart.phase === 'provision' && index + 1 < spec.provisioners.length) return { phase: 'provision', provisionerIndex: index + 1, facts };
  const next = nextPhase(spec, lastStart.phase);
  if (!next) throw new ResumeRefusedError('every phase of this build has finished; there is nothing to resume');
  return { phase: next, provisionerIndex: 0, facts };
}

/** Applies `--from-provisioner N`: provisioning starts over at N (the server must still be up). */
export function fromProvisioner(point: ResumePoint, spec: Pick<BuildSpec, 'communicator' | 'provisioners' | 'postProcessors'>, n: number): ResumePoint {
  if (!phaseRuns(spec, 'provision')) throw new ResumeRefusedError('--from-provisioner: this build has no provisioners to run');
  if (!Number.isInteger(n) || n < 0 || n >= spec.provisioners.length) {
    throw new ResumeRefusedError(`--from-provisioner ${n}: the build has provisioners 0 to ${spec.provisioners.length - 1}`);
  }
  if (PHASES.indexOf(point.phase) > PHASES.indexOf('provision')) {
    throw new ResumeRefusedError(`--from-provisioner: the build is past provisioning (at ${point.phase}); the server was already powered off`);
  }
  if (PHASES.indexOf(point.phase) < PHASES.indexOf('ssh.connect')) return point; // provisioning has not begun yet
  return { ...point, phase: 'provision', provisionerIndex: n };
}

/** What the cloud check decided. */
export type CloudCheck =
  | { action: 'continue'; point: ResumePoint }
  | { action: 'recreate-server'; point: ResumePoint; missingServerId: string }
  | { action: 'fail'; message: string; missingServerId: string };

/**
 * Checks that the server the resume point needs still exists. Before provisioning began a lost
 * server is created again; after that its work is lost and the build fails; from the snapshot
 * on, the server is no longer needed.
 */
export async function checkCloud(client: ScalewayClient, record: BuildRecord, point: ResumePoint, signal?: AbortSignal): Promise<CloudCheck> {
  const server = record.resources.server;
  const needsServer = PHASES.indexOf(point.phase) <= PHASES.indexOf('snapshot.create');
  if (!server || server.deleted || !needsServer) return { action: 'continue', point };
  try {
    await client.getServer(server.id, { signal });
    return { action: 'continue', point };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  if (PHASES.indexOf(point.phase) <= PHASES.indexOf('ssh.connect')) {
    const facts: BuildFacts = { ...point.facts, serverId: undefined, volumeIds: undefined, rootVolumeId: undefined, publicIp: undefined };
    return { action: 'recreate-server', point: { phase: 'server.create', provisionerIndex: 0, facts }, missingServerId: server.id };
  }
  return {
    action: 'fail',
    missingServerId: server.id,
    message:
      `server ${server.id} was deleted outside kiln while the build was stopped at ${point.phase}; what was provisioned on it is lost. ` +
      `Run \`kiln build\` again; \`kiln gc --build ${record.id} --force\` removes what is left of this build.`,
  };
}
