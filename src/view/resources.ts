// The resources a build created and what became of them (deleted, kept, missing), folded from its
// events: `kiln show`'s Resources table, the HTML report's and `kiln ui`'s.
import type { BuildEvent } from '../store/index.js';

export interface ResourceFate {
  kind: 'server' | 'volume' | 'private_nic' | 'snapshot' | 'image';
  id: string;
  createdAt: string;
  /** `kept`: still there (`onPurpose`: keep_server kept it). */
  fate: 'kept' | 'deleted' | 'missing';
  onPurpose?: boolean;
  reconciled: boolean;
  /** `block` for SBS volumes and snapshots (the Block API's). */
  api?: 'block';
}

/** The resources the build created and what became of them. */
export function resourceFates(events: readonly BuildEvent[]): ResourceFate[] {
  const out = new Map<string, ResourceFate>();
  const add = (kind: ResourceFate['kind'], id: unknown, at: string, reconciled: boolean, block = false) => {
    if (typeof id === 'string' && !out.has(id)) out.set(id, { kind, id, createdAt: at, fate: 'kept', reconciled, ...(block ? { api: 'block' as const } : {}) });
  };
  for (const e of events) {
    const d = e.data;
    if (e.type === 'server.created') {
      add('server', d.serverId, e.at, d.reconciled === true);
      const block = Array.isArray(d.blockVolumeIds) ? d.blockVolumeIds : [];
      if (Array.isArray(d.volumeIds)) for (const v of d.volumeIds) add('volume', v, e.at, d.reconciled === true, block.includes(v));
    } else if (e.type === 'block_volume.created') add('volume', d.volumeId, e.at, d.reconciled === true, true);
    else if (e.type === 'volume_snapshot.created') add('snapshot', d.snapshotId, e.at, d.reconciled === true, true);
    else if (e.type === 'private_nic.created') add('private_nic', d.nicId, e.at, d.reconciled === true);
    else if (e.type === 'server.kept') {
      for (const r of out.values()) if ((r.kind === 'server' || r.kind === 'volume' || r.kind === 'private_nic') && r.fate === 'kept') r.onPurpose = true;
    } else if (e.type === 'snapshot.created') add('snapshot', d.snapshotId, e.at, d.reconciled === true, d.api === 'block');
    else if (e.type === 'image.created') add('image', d.imageId, e.at, d.reconciled === true);
    else if (e.type.endsWith('.deleted')) {
      const id = d.nicId ?? d.serverId ?? d.volumeId ?? d.snapshotId ?? d.imageId;
      const r = typeof id === 'string' ? out.get(id) : undefined;
      if (r) r.fate = 'deleted';
      // terminate deletes local volumes only: SBS ones are detached.
      if (e.type === 'server.deleted' && d.terminated) for (const v of out.values()) if (v.kind === 'volume' && !v.api) v.fate = 'deleted';
      // A server's private NICs go with it.
      if (e.type === 'server.deleted') for (const v of out.values()) if (v.kind === 'private_nic') v.fate = 'deleted';
    } else if (e.type === 'resource.missing') {
      const r = typeof d.id === 'string' ? out.get(d.id) : undefined;
      if (r) r.fate = 'missing';
    }
  }
  return [...out.values()];
}
