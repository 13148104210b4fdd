// Discovery: reads every page of every list gc cares about in one zone and hands each resource,
// reduced to a GcResource, to the plan. Servers come first (attached volumes and IPs follow
// their server's verdict), images before snapshots only for a stable table order.
import type { ScalewayClient } from '../scaleway/index.js';
import type { BlockSnapshot, BlockVolume, Image, Ip, Server, Snapshot, Volume } from '../scaleway/index.js';
import { buildTag } from '../engine/tags.js';
import { KILN_TAG, type GcResource } from './types.js';

function time(date: string | null | undefined): number | undefined {
  if (!date) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : ms;
}

/** What every listed resource but an IP reduces to: its identity, tags, age and state. */
function owned(
  type: GcResource['type'],
  r: { id: string; name: string; zone: string; tags?: string[] | null; creation_date?: string | null; state: string },
): GcResource {
  return { type, id: r.id, name: r.name, zone: r.zone, tags: r.tags ?? [], createdAt: time(r.creation_date), state: r.state };
}

export function fromServer(server: Server): GcResource {
  const root = server.volumes?.['0'];
  return { ...owned('server', server), ...(root ? { rootVolumeId: root.id } : {}) };
}

export function fromVolume(volume: Volume): GcResource {
  return { ...owned('volume', volume), ...(volume.server ? { serverId: volume.server.id } : {}) };
}

export const fromSnapshot = (snapshot: Snapshot): GcResource => owned('snapshot', snapshot);

/** A block (SBS) volume: attached while a server references it. */
export function fromBlockVolume(volume: BlockVolume): GcResource {
  const server = volume.references.find((r) => r.product_resource_type === 'instance_server' && r.status !== 'detached');
  return {
    ...owned('volume', { ...volume, creation_date: volume.created_at, state: volume.status }),
    api: 'block',
    ...(server ? { serverId: server.product_resource_id } : {}),
  };
}

export function fromBlockSnapshot(snapshot: BlockSnapshot): GcResource {
  return { ...owned('snapshot', { ...snapshot, creation_date: snapshot.created_at, state: snapshot.status }), api: 'block' };
}

export const fromImage = (image: Image): GcResource => owned('image', image);

export function fromIp(ip: Ip): GcResource {
  return {
    type: 'ip',
    id: ip.id,
    name: ip.address,
    zone: ip.zone,
    tags: ip.tags ?? [],
    // The Instance API gives IPs no creation date.
    createdAt: undefined,
    state: ip.server ? 'attached' : 'detached',
    ...(ip.server ? { serverId: ip.server.id } : {}),
  };
}

/**
 * Every resource of one zone, page by page. Only servers are filtered by tag on the API side
 * (the filter the reference documents for them); the other lists are read whole and the plan
 * skips what is not kiln's. With a project, only that project's resources are listed.
 */
export async function* discoverZone(client: ScalewayClient, buildFilter?: string, project?: string): AsyncGenerator<GcResource[]> {
  const zone = client.zone;
  const inProject = project ? { project } : {};
  // The zone that was asked is the zone gc deletes in (an answer may spell it the legacy way).
  const withZone = (r: GcResource): GcResource => (r.zone === zone ? r : { ...r, zone });
  const serverTags = buildFilter === undefined ? [KILN_TAG] : [KILN_TAG, buildTag(buildFilter)];
  for await (const page of client.listServersPaged({ tags: serverTags, ...inProject })) yield page.map((s) => withZone(fromServer(s)));
  for await (const page of client.listVolumesPaged(inProject)) yield page.map((v) => withZone(fromVolume(v)));
  for await (const page of client.listIpsPaged(inProject)) yield page.map((ip) => withZone(fromIp(ip)));
  for await (const page of client.listImagesPaged({ public: false, ...inProject })) yield page.map((i) => withZone(fromImage(i)));
  for await (const page of client.listSnapshotsPaged(inProject)) yield page.map((s) => withZone(fromSnapshot(s)));
  // SBS volumes and snapshots live in the Block API.
  const inBlockProject = project ? { project_id: project } : {};
  for await (const page of client.block.listVolumesPaged(inBlockProject)) yield page.map((v) => withZone(fromBlockVolume(v)));
  for await (const page of client.block.listSnapshotsPaged(inBlockProject)) yield page.map((s) => withZone(fromBlockSnapshot(s)));
}
