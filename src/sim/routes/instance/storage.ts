// The Instance API's storage: local volumes, their snapshots, and images (whose root may be an
// Instance or a Block snapshot) — request validation and wire form, as in reference/scaleway-api.md.
// What a request changes lives in storage.ts (src/sim).
import type { Arch } from '../../catalog.js';
import { invalidRequest, notFound } from '../../http.js';
import { isBlockSnapshot, isBlockVolume, presentImage, presentSnapshot, presentVolume, type SnapshotRecord } from '../../world.js';
import { jsonBody, listReply, newestFirst, ownedFilter, type Args, type Route } from '../route.js';
import { findImage, findSnapshot, findVolume } from './find.js';

const VOLUME_TYPES = ['l_ssd', 'b_ssd', 'sbs_volume'] as const;
const ARCHES: readonly Arch[] = ['x86_64', 'arm', 'arm64'];

export const STORAGE_ROUTES: Route[] = [
  // volumes
  {
    method: 'GET',
    pattern: '/volumes',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const volumeType = query.get('volume_type');
      const volumes = newestFirst(Object.values(sim.data.volumes)).filter((v) => !isBlockVolume(v) && owned(v) && (!volumeType || v.volume_type === volumeType));
      return listReply('volumes', volumes, query, (v) => presentVolume(v, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/volumes',
    create: true,
    async handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name', true);
      const owner = args.owner();
      const tags = args.tags();
      const volumeType = args.oneOf('volume_type', VOLUME_TYPES, 'l_ssd');
      const size = args.integer('size');
      const baseSnapshotId = args.string('base_snapshot');
      if (size === undefined && !baseSnapshotId)
        args.problem({ argument_name: 'size', reason: 'required', help_message: 'size (bytes) or base_snapshot is required' });
      args.done();
      const baseSnapshot = baseSnapshotId ? findSnapshot(sim, request, baseSnapshotId) : undefined;
      const volume = await sim.storage.createVolume({ zone: request.zone, name, ...owner, tags, volumeType, size: size ?? baseSnapshot!.size, baseSnapshot });
      return { status: 201, json: { volume: presentVolume(volume, sim) }, headers: { Location: request.locationOf(`/volumes/${volume.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/volumes/{id}',
    handle: (sim, request) => ({ status: 200, json: { volume: presentVolume(findVolume(sim, request), sim) } }),
  },
  {
    method: 'PATCH',
    pattern: '/volumes/{id}',
    handle(sim, request) {
      const volume = findVolume(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      args.done();
      sim.storage.updateVolume(volume, { name, tags });
      return { status: 200, json: { volume: presentVolume(volume, sim) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/volumes/{id}',
    async handle(sim, request) {
      await sim.storage.deleteVolume(findVolume(sim, request));
      return { status: 204 };
    },
  },

  // snapshots
  {
    method: 'GET',
    pattern: '/snapshots',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const baseVolumeId = query.get('base_volume_id');
      const snapshots = newestFirst(Object.values(sim.data.snapshots)).filter(
        (s) => !isBlockSnapshot(s) && owned(s) && (!baseVolumeId || s.base_volume?.id === baseVolumeId),
      );
      return listReply('snapshots', snapshots, query, presentSnapshot);
    },
  },
  {
    method: 'POST',
    pattern: '/snapshots',
    create: true,
    async handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name') ?? `snp-${Math.random().toString(36).slice(2, 10)}`;
      const volumeId = args.string('volume_id', true);
      const owner = args.owner();
      const tags = args.tags();
      args.oneOf('volume_type', ['l_ssd', 'b_ssd', 'unified'] as const, 'l_ssd');
      if (args.has('bucket') || args.has('key'))
        args.problem({ argument_name: 'bucket', reason: 'constraint', help_message: 'importing a snapshot from Object Storage is not simulated' });
      args.done();
      const volume = findVolume(sim, request, volumeId);
      const { snapshot, task } = await sim.storage.createSnapshot({ zone: request.zone, name, volume, ...owner, tags }, request.ctx);
      return { status: 201, json: { snapshot: presentSnapshot(snapshot), task }, headers: { Location: request.locationOf(`/snapshots/${snapshot.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/snapshots/{id}',
    handle: (sim, request) => ({ status: 200, json: { snapshot: presentSnapshot(findSnapshot(sim, request)) } }),
  },
  {
    method: 'PATCH',
    pattern: '/snapshots/{id}',
    handle(sim, request) {
      const snapshot = findSnapshot(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      args.done();
      sim.storage.updateSnapshot(snapshot, { name, tags });
      return { status: 200, json: { snapshot: presentSnapshot(snapshot) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/snapshots/{id}',
    async handle(sim, request) {
      await sim.storage.deleteSnapshot(findSnapshot(sim, request));
      return { status: 204 };
    },
  },

  // images
  {
    method: 'GET',
    pattern: '/images',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const isPublic = query.get('public');
      const arch = query.get('arch');
      const images = newestFirst(sim.allImages()).filter(
        (image) => owned(image) && (isPublic === null || String(image.public) === isPublic) && (!arch || image.arch === arch),
      );
      return listReply('images', images, query, (image) => presentImage(image, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/images',
    create: true,
    handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name', true);
      const rootVolume = args.string('root_volume', true);
      const arch = args.oneOf('arch', ARCHES);
      const owner = args.owner();
      const tags = args.tags();
      const bootscriptId = args.string('default_bootscript');
      args.boolean('public');
      const extraIds = extraVolumeIds(args);
      args.done();
      // The root may be an Instance (l_ssd) or a Block snapshot; extra volumes are Block snapshots.
      const snapshot = sim.snapshot(rootVolume);
      if (!snapshot || snapshot.zone !== request.zone) throw notFound('instance_snapshot', rootVolume);
      const extraSnapshots: Record<string, SnapshotRecord> = {};
      for (const [slot, id] of Object.entries(extraIds)) {
        const extra = sim.data.snapshots[id];
        if (!extra || extra.zone !== request.zone || !isBlockSnapshot(extra)) throw notFound('instance_snapshot', id);
        extraSnapshots[slot] = extra;
      }
      // Block snapshots must be ready (an l_ssd one may still be taken: Packer 1.6.6 does not wait).
      for (const used of [snapshot, ...Object.values(extraSnapshots)])
        if (isBlockSnapshot(used) && used.state !== 'available') throw invalidRequest(`snapshot ${used.id} is not available`);
      if (bootscriptId && !sim.bootscript(request.zone, bootscriptId)) throw notFound('instance_bootscript', bootscriptId);
      const image = sim.storage.createImage({ zone: request.zone, name, snapshot, extraSnapshots, arch, bootscriptId: bootscriptId ?? null, ...owner, tags }, request.ctx);
      return { status: 201, json: { image: presentImage(image, sim) }, headers: { Location: request.locationOf(`/images/${image.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/images/{id}',
    handle: (sim, request) => ({ status: 200, json: { image: presentImage(findImage(sim, request), sim) } }),
  },
  {
    method: 'PATCH',
    pattern: '/images/{id}',
    handle(sim, request) {
      const image = findImage(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      args.done();
      sim.storage.updateImage(image, { name, tags });
      return { status: 200, json: { image: presentImage(image, sim) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/images/{id}',
    handle(sim, request) {
      sim.storage.deleteImage(findImage(sim, request));
      return { status: 204 };
    },
  },
];

/** `extra_volumes` of an image create: `{"1": {"id": <block snapshot id>}, …}`. */
function extraVolumeIds(args: Args): Record<string, string> {
  const extra = args.body.extra_volumes;
  const ids: Record<string, string> = {};
  if (extra === undefined || extra === null) return ids;
  if (typeof extra !== 'object' || Array.isArray(extra)) {
    args.problem({ argument_name: 'extra_volumes', reason: 'format', help_message: 'extra_volumes must be an object keyed by slot: {"1": {"id": <snapshot id>}}' });
    return ids;
  }
  for (const [slot, value] of Object.entries(extra as Record<string, unknown>)) {
    const id = value && typeof value === 'object' ? (value as { id?: unknown }).id : undefined;
    if (!/^[1-9]\d*$/.test(slot) || typeof id !== 'string') {
      args.problem({ argument_name: `extra_volumes.${slot}`, reason: 'format', help_message: 'each extra volume is {"id": <block snapshot id>} under a slot from "1"' });
      continue;
    }
    ids[slot] = id;
  }
  return ids;
}
