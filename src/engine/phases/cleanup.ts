// The cleanup phase: removes what the build made and no longer needs — after a success the server
// and its volumes (unless keep_server), after a failure the snapshots and image as well — in the
// order machines/cleanup.ts plans, each delete through tracked.ts; then the temporary key pair.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { cleanupPlan } from '../../../machines/cleanup.js';
import { deleteKeyPair } from '../keys.js';
import type { PhaseRuntime } from '../runtime.js';
import { deleteImage, deleteSnapshot } from './artifact.js';
import { deletePrivateNics } from './network.js';
import { deleteServer } from './server.js';
import { deleteVolume } from './volumes.js';

export async function cleanup(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { spec, buildId, stateDir } = rt.deps;
  rt.closeCommunicator();
  // The log is the authority on what exists (it includes results reconciled on resume).
  const resources = (await rt.build())?.resources ?? {};
  const alive = <T extends { id: string; deleted?: boolean }>(r: T | undefined) => (r && !r.deleted ? r.id : undefined);
  const notDeleted = <T extends { deleted?: boolean }>(refs: T[] | undefined) => (refs ?? []).filter((r) => !r.deleted);
  const steps = cleanupPlan(
    {
      serverId: alive(resources.server),
      volumes: notDeleted(resources.volumes),
      snapshots: notDeleted([...(resources.snapshot ? [resources.snapshot] : []), ...(resources.volumeSnapshots ?? [])]),
      imageId: alive(resources.image),
    },
    input.reason,
    spec.removeVolume,
  );
  // keep_server: after success the server stays with its volumes and NICs, recorded as kept.
  const keep = input.reason === 'success' && spec.keepServer && resources.server !== undefined && !resources.server.deleted;
  if (keep && !resources.server!.kept) await rt.record(input, 'server.kept', { serverId: resources.server!.id, volumeIds: (resources.volumes ?? []).filter((v) => !v.deleted).map((v) => v.id) });
  const serverStep = steps.find((step) => step.kind === 'server');
  if (serverStep && !keep) await deletePrivateNics(rt, input, serverStep.id, signal);
  for (const step of steps) {
    if (keep && (step.kind === 'server' || step.kind === 'volume')) continue;
    if (step.kind === 'image') await deleteImage(rt, input, step.id, signal);
    else if (step.kind === 'snapshot') await deleteSnapshot(rt, input, step.id, step.api, signal);
    else if (step.kind === 'server') await deleteServer(rt, input, step.id, signal);
    else await deleteVolume(rt, input, step.id, step.api, signal);
  }
  if (deleteKeyPair(stateDir, buildId)) await rt.record(input, 'key.deleted', {});
  return {};
}
