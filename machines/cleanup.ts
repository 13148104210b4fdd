// What the cleanup phase removes, and in which order. Pure, so the order is unit-tested; the
// engine's cleanup actor carries the steps out.
//
// Reverse creation order: the image (it refers to the snapshot), then the snapshot, then the
// server with its volumes. After success only the server (and its volumes, per remove_volume)
// goes: the image and its snapshot are the artifact.

export interface CleanupResources {
  serverId?: string;
  /** Volumes attached to the build's server (the root volume first). */
  volumeIds?: string[];
  snapshotId?: string;
  imageId?: string;
}

export type CleanupStep =
  | { kind: 'image'; id: string }
  | { kind: 'snapshot'; id: string }
  | { kind: 'server'; id: string }
  | { kind: 'volume'; id: string };

export function cleanupPlan(resources: CleanupResources, reason: 'success' | 'failure', removeVolume: boolean): CleanupStep[] {
  const steps: CleanupStep[] = [];
  if (reason === 'failure') {
    if (resources.imageId) steps.push({ kind: 'image', id: resources.imageId });
    if (resources.snapshotId) steps.push({ kind: 'snapshot', id: resources.snapshotId });
  }
  if (resources.serverId) steps.push({ kind: 'server', id: resources.serverId });
  // After a failure nothing of the build may stay, whatever remove_volume says.
  if (reason === 'failure' || removeVolume) {
    for (const id of resources.volumeIds ?? []) steps.push({ kind: 'volume', id });
  }
  return steps;
}
