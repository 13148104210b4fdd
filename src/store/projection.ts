// The `builds` projection: a build's current state, folded from its events. The store applies
// `applyEvent` in the same transaction as each append, and resume can fold a whole log with it,
// so the row and the log can never tell different stories.
import type { PhaseName } from '../../machines/phases.js';
import type { Artifact, BuildEvent, BuildResources, BuildStatus, ErrorInfo, OnError, ResourceRef } from './events.js';

/** Who holds a build's lease (a LeaseOwner, api.ts) and until when. */
export interface Lease {
  token: string;
  pid: number;
  host: string;
  pidSpace: string | null;
  /** Epoch milliseconds, by the store's clock. */
  expiresAt: number;
}

export interface BuildRecord {
  id: string;
  templatePath: string;
  templateHash: string;
  builderName: string;
  status: BuildStatus;
  /** The phase the build is in (or stopped in). */
  phase: PhaseName | null;
  attempt: number;
  /** The provisioner the build is at (index into the spec's provisioner list). */
  provisionerIndex: number;
  /** The build spec with its secrets redacted (`redactSpec`). */
  spec: unknown;
  onError: OnError;
  resources: BuildResources;
  artifact: Artifact | null;
  error: ErrorInfo | null;
  lease: Lease | null;
  /** The host whose process last took the build's lease (started or resumed it). */
  host: string | null;
  createdAt: string;
  updatedAt: string;
  lastSeq: number;
}

/** What a listing of builds shows (`kiln ls`): a BuildRecord is one too. */
export interface BuildSummary extends Pick<BuildRecord, 'id' | 'templatePath' | 'builderName' | 'status' | 'phase' | 'lease' | 'host' | 'createdAt' | 'updatedAt'> {
  artifact: Pick<Artifact, 'imageId'> | null;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The volumes a server was created with, merged into those the build made before it (block volumes). */
function withServerVolumes(known: ResourceRef[] | undefined, d: Record<string, unknown>): ResourceRef[] | undefined {
  if (!Array.isArray(d.volumeIds)) return known;
  const block = new Set(Array.isArray(d.blockVolumeIds) ? d.blockVolumeIds.map(String) : []);
  const out = [...(known ?? [])];
  for (const raw of d.volumeIds) {
    const id = String(raw);
    if (!out.some((v) => v.id === id)) out.push({ id, ...(block.has(id) ? { api: 'block' as const } : {}) });
  }
  return out;
}

function markDeleted(ref: ResourceRef | undefined, id: string | undefined): ResourceRef | undefined {
  if (!ref || (id !== undefined && ref.id !== id)) return ref;
  return { ...ref, deleted: true };
}

/** Returns the record after `event` (pure; the input is not modified). */
export function applyEvent(record: BuildRecord, event: BuildEvent): BuildRecord {
  const next: BuildRecord = {
    ...record,
    resources: { ...record.resources },
    updatedAt: event.at,
    lastSeq: event.seq,
  };
  const d = event.data;
  const r = next.resources;
  switch (event.type) {
    case 'build.started':
    case 'build.resumed':
      next.status = 'running';
      next.error = null;
      break;
    case 'build.interrupted':
      next.status = 'interrupted';
      break;
    case 'build.failed':
      next.status = 'failed';
      next.error = (d.error as ErrorInfo | undefined) ?? next.error;
      // A build that failed in its post-processors has an image all the same.
      if (d.artifact) next.artifact = d.artifact as Artifact;
      break;
    case 'build.cleaned':
      next.status = 'cleaned';
      break;
    case 'build.succeeded':
      next.status = 'succeeded';
      next.artifact = (d.artifact as Artifact | undefined) ?? null;
      next.error = null;
      break;
    case 'phase.started':
      if (event.phase) next.phase = event.phase;
      next.attempt = event.attempt;
      if (typeof d.provisionerIndex === 'number') next.provisionerIndex = d.provisionerIndex;
      break;
    case 'phase.retrying':
      next.attempt = event.attempt;
      break;
    case 'phase.failed':
      next.error = (d.error as ErrorInfo | undefined) ?? next.error;
      break;
    case 'provisioner.succeeded':
      if (typeof d.index === 'number') next.provisionerIndex = d.index + 1;
      break;
    case 'server.created':
      r.server = { id: String(d.serverId), name: str(d.name) };
      r.volumes = withServerVolumes(r.volumes, d);
      break;
    case 'block_volume.created':
      if (!(r.volumes ?? []).some((v) => v.id === d.volumeId)) r.volumes = [...(r.volumes ?? []), { id: String(d.volumeId), name: str(d.name), api: 'block' }];
      break;
    case 'volume_snapshot.created':
      if (!(r.volumeSnapshots ?? []).some((v) => v.id === d.snapshotId))
        r.volumeSnapshots = [...(r.volumeSnapshots ?? []), { id: String(d.snapshotId), name: str(d.name), api: 'block', volumeId: str(d.volumeId) }];
      break;
    case 'server.running':
      if (str(d.publicIp)) r.publicIp = str(d.publicIp);
      break;
    case 'private_nic.created': {
      const nic = { id: String(d.nicId), privateNetworkId: String(d.privateNetworkId) };
      r.privateNics = [...(r.privateNics ?? []).filter((n) => n.id !== nic.id), nic];
      break;
    }
    case 'private_nic.deleted':
      if (r.privateNics) r.privateNics = r.privateNics.map((n) => (n.id === d.nicId ? { ...n, deleted: true } : n));
      break;
    case 'server.kept':
      if (r.server && r.server.id === d.serverId) r.server = { ...r.server, kept: true };
      if (r.volumes) r.volumes = r.volumes.map((v) => (v.deleted ? v : { ...v, kept: true }));
      if (r.privateNics) r.privateNics = r.privateNics.map((n) => (n.deleted ? n : { ...n, kept: true }));
      break;
    case 'snapshot.created':
      r.snapshot = { id: String(d.snapshotId), name: str(d.name), ...(d.api === 'block' ? { api: 'block' as const } : {}) };
      break;
    case 'image.created':
      r.image = { id: String(d.imageId), name: str(d.name) };
      break;
    case 'server.deleted':
      r.server = markDeleted(r.server, str(d.serverId));
      r.publicIp = undefined;
      // A server's private NICs go with it.
      if (r.privateNics) r.privateNics = r.privateNics.map((n) => ({ ...n, deleted: true }));
      // Local volumes go with a terminated server; the engine says so with `volumesDeleted`.
      // (Only local ones: terminate detaches SBS volumes.)
      if (d.volumesDeleted === true && r.volumes) r.volumes = r.volumes.map((v) => (v.api === 'block' ? v : { ...v, deleted: true }));
      break;
    case 'volume.deleted':
      if (r.volumes) r.volumes = r.volumes.map((v) => (v.id === d.volumeId ? { ...v, deleted: true } : v));
      break;
    case 'snapshot.deleted':
      r.snapshot = markDeleted(r.snapshot, str(d.snapshotId));
      if (r.volumeSnapshots) r.volumeSnapshots = r.volumeSnapshots.map((v) => (v.id === d.snapshotId ? { ...v, deleted: true } : v));
      break;
    case 'image.deleted':
      r.image = markDeleted(r.image, str(d.imageId));
      break;
    case 'resource.missing': {
      const kind = str(d.kind);
      if (kind === 'server') r.server = markDeleted(r.server, str(d.id));
      else if (kind === 'snapshot') r.snapshot = markDeleted(r.snapshot, str(d.id));
      else if (kind === 'image') r.image = markDeleted(r.image, str(d.id));
      break;
    }
    default:
      break;
  }
  return next;
}
