// The Instance API's lookups by id: a resource of another zone, or of another API (a Block
// volume or snapshot), is not found here, and the answer is Scaleway's 404 for its kind.
import { notFound } from '../../http.js';
import type { Simulation } from '../../simulation.js';
import { isBlockSnapshot, isBlockVolume, type ImageRecord, type IpRecord, type SecurityGroupRecord, type ServerRecord, type SnapshotRecord, type VolumeRecord } from '../../world.js';
import type { ApiRequest } from '../route.js';

export function findServer(sim: Simulation, request: ApiRequest, id = request.params.id!): ServerRecord {
  const server = sim.server(id);
  if (!server || server.zone !== request.zone) throw notFound('instance_server', id);
  return server;
}

export function findVolume(sim: Simulation, request: ApiRequest, id = request.params.id!): VolumeRecord {
  const volume = sim.volume(id);
  // SBS volumes live in the Block API: the Instance API answers 404 for them.
  if (!volume || volume.zone !== request.zone || isBlockVolume(volume)) throw notFound('instance_volume', id);
  return volume;
}

export function findSnapshot(sim: Simulation, request: ApiRequest, id = request.params.id!): SnapshotRecord {
  const snapshot = sim.snapshot(id);
  if (!snapshot || snapshot.zone !== request.zone || isBlockSnapshot(snapshot)) throw notFound('instance_snapshot', id);
  return snapshot;
}

export function findImage(sim: Simulation, request: ApiRequest, id = request.params.id!): ImageRecord {
  const image = sim.image(id);
  if (!image || image.zone !== request.zone) throw notFound('instance_image', id);
  return image;
}

export function findIp(sim: Simulation, request: ApiRequest, id = request.params.id!): IpRecord {
  const ip = sim.data.ips[id];
  if (!ip || ip.zone !== request.zone) throw notFound('instance_ip', id);
  return ip;
}

export function findSecurityGroup(sim: Simulation, request: ApiRequest, id: string): SecurityGroupRecord {
  const group = sim.data.security_groups?.[id];
  if (!group || group.zone !== request.zone) throw notFound('instance_security_group', id);
  return group;
}
