// What the cleanup phase removes, and in which order. Pure, so the order is unit-tested; the
// engine's cleanup actor carries the steps out.
//
// Reverse creation order: the image (it refers to the snapshots), then the snapshots, then the
// server, then its volumes. After success only the server (and its volumes, per remove_volume)
// goes: the image and its snapshots are the artifact. Block (SBS) volumes and snapshots are
// deleted through the Block API (`api: 'block'`), the others through the Instance API.

export interface CleanupResource {
  id: string;
  api?: 'block';
}

export interface CleanupResources {
  serverId?: string;
  /** Volumes of the build: the server's (root first) and the block volumes made before it. */
  volumes?: CleanupResource[];
  /** The root snapshot, then one block snapshot per extra volume. */
  snapshots?: CleanupResource[];
  imageId?: string;
}

export type CleanupStep =
  | { kind: 'image'; id: string }
  | { kind: 'snapshot'; id: string; api?: 'block' }
  | { kind: 'server'; id: string }
  | { kind: 'volume'; id: string; api?: 'block' };

export function cleanupPlan(resources: CleanupResources, reason: 'success' | 'failure', removeVolume: boolean): CleanupStep[] {
  const steps: CleanupStep[] = [];
  if (reason === 'failure') {
    if (resources.imageId) steps.push({ kind: 'image', id: resources.imageId });
    for (const s of resources.snapshots ?? []) steps.push({ kind: 'snapshot', id: s.id, ...(s.api ? { api: s.api } : {}) });
  }
  if (resources.serverId) steps.push({ kind: 'server', id: resources.serverId });
  // After a failure nothing of the build may stay, whatever remove_volume says.
  if (reason === 'failure' || removeVolume) {
    for (const v of resources.volumes ?? []) steps.push({ kind: 'volume', id: v.id, ...(v.api ? { api: v.api } : {}) });
  }
  return steps;
}
