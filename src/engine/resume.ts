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
import { checkpointAfter, provisionFrom, type BuildFacts } from '../../machines/build.machine.js';
import { OPTIONAL_PHASES, PHASES, type PhaseName } from '../../machines/phases.js';
import { usesTemporaryKeyOnly } from './keys.js';
import { optionalPhasesOf, type OptionalPhaseSpec } from './phases/optional.js';
import { NotFoundError, type ScalewayClient } from '../scaleway/index.js';
import type { Artifact, BuildEvent, BuildRecord } from '../store/index.js';
import type { BuildSpec } from '../template/spec.js';

/** What of a spec decides the phases a build goes through. */
export type ResumeSpec = Pick<BuildSpec, 'communicator' | 'provisioners'> & OptionalPhaseSpec;

export interface ResumePoint {
  phase: PhaseName;
  provisionerIndex: number;
  facts: BuildFacts;
}

/** A build that cannot be resumed, and why (the message says what to do instead). */
export class ResumeRefusedError extends Error {
  override readonly name = 'ResumeRefusedError';
  constructor(
    message: string,
    /** The failure a build refused for was cleaning up after (its phase and error): a process killed in that cleanup never recorded the build's end. */
    readonly failure?: { phase: PhaseName | null; error: unknown },
  ) {
    super(message);
  }
}

/** Whether a spec's build goes through `phase` (the machine's own rule, for the resume point). */
export function phaseRuns(spec: ResumeSpec, phase: PhaseName): boolean {
  if (phase === 'key' || phase === 'ssh.connect') return spec.communicator.type === 'ssh';
  if (phase === 'provision') return spec.provisioners.length > 0;
  // Entered only from provision, after the provisioners the build's facts name.
  if (phase === 'checkpoint') return false;
  if (OPTIONAL_PHASES.includes(phase)) return optionalPhasesOf(spec).includes(phase);
  return true;
}

function nextPhase(spec: ResumeSpec, after: PhaseName): PhaseName | undefined {
  return PHASES.slice(PHASES.indexOf(after) + 1).find((p) => phaseRuns(spec, p));
}

/** The phase (and provisioner) a resumed build starts at, with what finished phases learnt. */
export function resumePoint(events: readonly BuildEvent[], spec: ResumeSpec): ResumePoint {
  const facts: BuildFacts = {};
  let lastStart: BuildEvent | undefined;
  let lastStartDone = false;
  for (const e of events) {
    // The error-cleanup-provisioner ran after a failure; where the build continues is the failed phase.
    if (e.data.errorCleanup === true) continue;
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
      const failed = events.filter((f) => f.type === 'phase.failed' && f.seq < e.seq && f.data.continued !== true).at(-1);
      throw new ResumeRefusedError(
        'the build was cleaning up after a failure; there is nothing to continue. ' +
          `Remove what is left with \`kiln gc --build ${e.buildId} --force\` and run \`kiln build\` again.`,
        { phase: failed?.phase ?? null, error: failed?.data.error },
      );
    }
    // A provisioner that failed with continue_on_error is done with, as one that succeeded.
    const continued = e.type === 'phase.failed' && e.data.continued === true;
    if ((e.type === 'phase.succeeded' || continued) && lastStart && e.phase === lastStart.phase && e.data.provisionerIndex === lastStart.data.provisionerIndex) {
      lastStartDone = true;
    }
  }
  if (!lastStart || !lastStart.phase) return { phase: 'prepare', provisionerIndex: 0, facts };
  const index = typeof lastStart.data.provisionerIndex === 'number' ? lastStart.data.provisionerIndex : 0;
  if (!lastStartDone) return { phase: lastStart.phase, provisionerIndex: index, facts };
  // A provisioner done: its checkpoint, if the build makes one there, then the next provisioner.
  if (lastStart.phase === 'provision' && checkpointAfter(facts, index, spec.provisioners.length)) return { phase: 'checkpoint', provisionerIndex: index, facts };
  if ((lastStart.phase === 'provision' || lastStart.phase === 'checkpoint') && index + 1 < spec.provisioners.length) {
    return { phase: 'provision', provisionerIndex: index + 1, facts };
  }
  const next = nextPhase(spec, lastStart.phase === 'checkpoint' ? 'provision' : lastStart.phase);
  if (!next) throw new ResumeRefusedError('every phase of this build has finished; there is nothing to resume');
  // Provisioning begins past what a checkpoint the build started from covers.
  return { phase: next, provisionerIndex: next === 'provision' ? provisionFrom(facts) : 0, facts };
}

/**
 * The facts of a build whose every phase finished — its cleanup after success included — but
 * which was killed before it recorded its success; undefined for any other build. Such a build
 * has nothing left to run: resume records its success.
 */
export function finishedFacts(events: readonly BuildEvent[], spec: ResumeSpec): BuildFacts | undefined {
  if (events.some((e) => e.type === 'cleanup.started' || (e.type === 'phase.started' && e.data.reason === 'failure'))) return undefined;
  // The build's last phase: cleanup, or postprocess when the template has post-processors.
  const last = PHASES.filter((phase) => phaseRuns(spec, phase)).at(-1)!;
  const lastStart = events.findLast((e) => e.type === 'phase.started' && e.phase === last);
  if (!lastStart || !events.some((e) => e.type === 'phase.succeeded' && e.phase === last && e.seq > lastStart.seq)) return undefined;
  const facts: BuildFacts = {};
  for (const e of events) {
    if (e.type === 'phase.succeeded' && e.data.reason !== 'failure') Object.assign(facts, (e.data.facts as BuildFacts | undefined) ?? {});
  }
  return facts;
}

/** The artifact of a finished build, printed the way Packer prints a Scaleway artifact. */
export function artifactOf(record: BuildRecord | undefined, facts: BuildFacts, spec: Pick<BuildSpec, 'imageName' | 'snapshotName' | 'zone'>): Artifact {
  const artifact: Artifact = {
    imageId: String(facts.imageId),
    imageName: record?.resources.image?.name ?? spec.imageName,
    snapshotId: String(facts.snapshotId),
    snapshotName: record?.resources.snapshot?.name ?? spec.snapshotName,
    zone: spec.zone,
  };
  // Every snapshot of the image, root first (the plugin's artifact lists them all).
  const volumeSnapshots = (record?.resources.volumeSnapshots ?? []).filter((s) => !s.deleted);
  if (volumeSnapshots.length > 0) {
    artifact.snapshots = [
      { id: artifact.snapshotId, name: artifact.snapshotName },
      ...volumeSnapshots.map((s) => ({ id: s.id, name: s.name ?? '', ...(s.volumeId ? { volumeId: s.volumeId } : {}) })),
    ];
  }
  return artifact;
}

/** Applies `--from-provisioner N`: provisioning starts over at N (the server must still be up). */
export function fromProvisioner(point: ResumePoint, spec: ResumeSpec, n: number): ResumePoint {
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

/**
 * Whether the phases left from `point` need the temporary key the build already made: its server
 * carries that key's public half, and from `key` to `machine.cleanup` kiln logs in with it. Before
 * the key exists the key phase makes one; after machine.cleanup no phase logs in.
 */
export function needsTemporaryKey(spec: Pick<BuildSpec, 'communicator'>, point: Pick<ResumePoint, 'phase'>): boolean {
  if (!usesTemporaryKeyOnly(spec)) return false;
  const at = PHASES.indexOf(point.phase);
  return at > PHASES.indexOf('key') && at <= PHASES.indexOf('machine.cleanup');
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
  if (!server || !needsServer) return { action: 'continue', point };
  // Recorded gone (resource.missing: an earlier resume found it so, and was killed before it
  // recreated it), or gone now.
  if (!server.deleted) {
    try {
      await client.getServer(server.id, { signal });
      return { action: 'continue', point };
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
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
