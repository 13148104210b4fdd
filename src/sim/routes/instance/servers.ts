// The Instance API's servers: create (the root volume from an image, extra block volumes),
// read, change, delete, actions and user data — request validation and wire form, as in
// reference/scaleway-api.md. What a request changes lives in servers.ts (src/sim).
import { bootscripts, COMMERCIAL_TYPES, isWindowsType } from '../../catalog.js';
import { invalidArguments, invalidRequest, notFound } from '../../http.js';
import type { RootVolumeRequest } from '../../servers.js';
import type { Simulation } from '../../simulation.js';
import { isBlockSnapshot, isBlockVolume, presentServer, SERVER_ACTIONS, type ImageRecord, type IpRecord, type ServerAction, type VolumeRecord } from '../../world.js';
import { jsonBody, listReply, newestFirst, ownedFilter, type ApiRequest, type Args, type Route } from '../route.js';
import { findImage, findIp, findSecurityGroup, findServer } from './find.js';

export const SERVER_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: '/servers',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      const state = query.get('state');
      const commercialType = query.get('commercial_type');
      // `servers`: a comma-separated list of ids (Scaleway's ListServersRequest.Servers).
      const ids = query.get('servers')?.split(',').filter((id) => id !== '');
      const servers = newestFirst(Object.values(sim.data.servers)).filter(
        (s) => owned(s) && (!state || s.state === state) && (!commercialType || s.commercial_type === commercialType) && (!ids || ids.includes(s.id)),
      );
      return listReply('servers', servers, query, (s) => presentServer(s, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/servers',
    create: true,
    async handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name') ?? `srv-${Math.random().toString(36).slice(2, 10)}`;
      const commercialType = args.string('commercial_type', true);
      const imageId = args.string('image', true);
      const owner = args.owner();
      const tags = args.tags();
      const bootType = args.oneOf('boot_type', ['local', 'bootscript', 'rescue'] as const, 'local');
      const bootscriptId = args.string('bootscript');
      const dynamicIpRequired = args.boolean('dynamic_ip_required') ?? true;
      const enableIpv6 = args.boolean('enable_ipv6') ?? false;
      const publicIpId = args.string('public_ip');
      const isProtected = args.boolean('protected') ?? false;
      const securityGroupId = args.string('security_group');
      const adminPasswordKeyId = args.string('admin_password_encryption_ssh_key_id');
      args.string('placement_group');
      const type = commercialType ? COMMERCIAL_TYPES[commercialType] : undefined;
      if (commercialType && !type)
        args.problem({ argument_name: 'commercial_type', reason: 'constraint', help_message: `unknown commercial type ${commercialType}; GET /products/servers lists them` });
      const requested = volumeTemplates(args, sim, request);
      args.done();
      // Without volumes["0"] the API picks: an SBS root on types without local storage.
      const root: RootVolumeRequest = requested.root ?? { volumeType: type!.localStorage ? 'l_ssd' : 'sbs_volume', size: undefined };
      if (root.volumeType === 'l_ssd' && !type!.localStorage)
        throw invalidArguments({ argument_name: 'volumes.0.volume_type', reason: 'constraint', help_message: `${commercialType} has no local storage: l_ssd volumes are not supported. Create volumes with volume_type=sbs_volume instead.` });
      // The API resolves a label itself, to the local or the SBS variant the root volume needs.
      const image = UUID.test(imageId) ? findImage(sim, request, imageId) : sim.imageByLabel(request.zone, imageId, type!.arch, root.volumeType);
      if (!image) throw notFound('instance_image', imageId);
      if (image.state !== 'available') throw invalidRequest(`image ${image.id} is ${image.state}, not available`);
      // Without one, the server goes into its project's default group, as on Scaleway.
      const securityGroup = securityGroupId ? findSecurityGroup(sim, request, securityGroupId) : undefined;
      checkWindows(sim, image, commercialType);
      const rootSnapshot = sim.snapshot(image.root_snapshot_id);
      const imageIsSbs = rootSnapshot !== undefined && isBlockSnapshot(rootSnapshot);
      if (imageIsSbs !== (root.volumeType === 'sbs_volume'))
        throw invalidArguments({
          argument_name: 'volumes.0.volume_type',
          reason: 'constraint',
          help_message: `cannot create a volume of type ${root.volumeType} from a base of type ${imageIsSbs ? 'sbs_snapshot' : 'l_ssd'}`,
        });
      const baseSize = rootSnapshot?.size ?? 0;
      if (root.size !== undefined && root.size < baseSize)
        throw invalidArguments({ argument_name: 'volumes.0.size', reason: 'constraint', help_message: `the root volume must be at least the image's ${baseSize} bytes` });
      if (root.volumeType === 'l_ssd' && root.size !== undefined && root.size > type!.volumes_constraint.max_size)
        throw invalidArguments({ argument_name: 'volumes.0.size', reason: 'constraint', help_message: `local volumes of ${commercialType} total at most ${type!.volumes_constraint.max_size} bytes` });
      if (type!.arch !== image.arch)
        throw invalidRequest(`image ${image.id} is for ${image.arch} but commercial type ${commercialType} is ${type!.arch}`);
      let bootscript: string | null = null;
      if (bootscriptId) {
        if (!sim.bootscript(request.zone, bootscriptId)) throw notFound('instance_bootscript', bootscriptId);
        bootscript = bootscriptId;
      } else if (bootType === 'bootscript') {
        bootscript = bootscripts(request.zone).find((b) => b.architecture === type!.arch && b.default)?.id ?? null;
      }
      let flexibleIp: IpRecord | null = null;
      if (publicIpId) {
        flexibleIp = findIp(sim, request, publicIpId);
        if (flexibleIp.server_id) throw invalidRequest(`ip ${flexibleIp.id} is already attached to a server`);
      }
      const server = await sim.servers.create({
        zone: request.zone,
        name,
        ...owner,
        commercialType,
        image,
        bootType,
        bootscriptId: bootscript,
        tags,
        dynamicIpRequired,
        enableIpv6,
        flexibleIp,
        isProtected,
        root,
        extraVolumes: requested.extras,
        securityGroupId: (securityGroup ?? sim.defaultSecurityGroup({ ...owner, zone: request.zone })).id,
        ...(adminPasswordKeyId ? { adminPasswordEncryptionSshKeyId: adminPasswordKeyId } : {}),
      });
      return { status: 201, json: { server: presentServer(server, sim) }, headers: { Location: request.locationOf(`/servers/${server.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/servers/{id}',
    handle: (sim, request) => ({ status: 200, json: { server: presentServer(findServer(sim, request), sim) } }),
  },
  {
    method: 'PATCH',
    pattern: '/servers/{id}',
    handle(sim, request) {
      const server = findServer(sim, request);
      const args = jsonBody(request.body);
      const name = args.string('name');
      const tags = args.has('tags') ? args.tags() : undefined;
      const isProtected = args.boolean('protected');
      args.done();
      sim.servers.update(server, { name, tags, protected: isProtected });
      return { status: 200, json: { server: presentServer(server, sim) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/servers/{id}',
    handle(sim, request) {
      sim.servers.delete(findServer(sim, request));
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/servers/{id}/action',
    handle(sim, request) {
      const server = findServer(sim, request);
      return { status: 200, json: { actions: presentServer(server, sim).allowed_actions } };
    },
  },
  {
    method: 'POST',
    pattern: '/servers/{id}/action',
    async handle(sim, request) {
      const server = findServer(sim, request);
      const args = jsonBody(request.body);
      const action = args.oneOf<ServerAction>('action', SERVER_ACTIONS);
      const name = args.string('name');
      args.done();
      const task = await sim.servers.action(server, action, request.ctx, name);
      return { status: 202, json: { task } };
    },
  },
  {
    method: 'GET',
    pattern: '/servers/{id}/user_data',
    handle: (sim, request) => ({ status: 200, json: { user_data: Object.keys(findServer(sim, request).user_data) } }),
  },
  {
    method: 'GET',
    pattern: '/servers/{id}/user_data/{key}',
    handle(sim, request) {
      const server = findServer(sim, request);
      const value = server.user_data[request.params.key!];
      if (value === undefined) throw notFound('instance_user_data', request.params.key!);
      return { status: 200, text: value };
    },
  },
  {
    method: 'PATCH',
    pattern: '/servers/{id}/user_data/{key}',
    handle(sim, request) {
      sim.servers.setUserData(findServer(sim, request), request.params.key!, request.body);
      return { status: 204 };
    },
  },
  {
    method: 'DELETE',
    pattern: '/servers/{id}/user_data/{key}',
    handle(sim, request) {
      const server = findServer(sim, request);
      if (server.user_data[request.params.key!] === undefined) throw notFound('instance_user_data', request.params.key!);
      sim.servers.deleteUserData(server, request.params.key!);
      return { status: 204 };
    },
  },
];

/** `-WIN` types boot Windows images only, and Windows images need a `-WIN` type (user images are not checked). */
function checkWindows(sim: Simulation, image: ImageRecord, commercialType: string): void {
  const os = sim.imageOs(image);
  if (!os) return;
  const windowsImage = os.os.id === 'windows';
  if (windowsImage && !isWindowsType(commercialType)) throw invalidRequest(`image ${image.id} (${os.label}) runs only on Windows commercial types (-WIN), not ${commercialType}`);
  if (!windowsImage && isWindowsType(commercialType)) throw invalidRequest(`commercial type ${commercialType} runs only Windows images; ${os.label} is not one`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `volumes` map of a server create: slot "0" asks for the root volume (`l_ssd` or
 * `sbs_volume`, with an optional size), further slots attach existing detached block volumes by id.
 */
function volumeTemplates(args: Args, sim: Simulation, request: ApiRequest): { root: RootVolumeRequest | undefined; extras: Record<string, VolumeRecord> } {
  const volumes = args.body.volumes;
  const extras: Record<string, VolumeRecord> = {};
  if (volumes === undefined || volumes === null) return { root: undefined, extras };
  if (typeof volumes !== 'object' || Array.isArray(volumes)) {
    args.problem({ argument_name: 'volumes', reason: 'format', help_message: 'volumes must be an object keyed by slot ("0" is the root volume)' });
    return { root: undefined, extras };
  }
  let root: RootVolumeRequest | undefined;
  for (const [slot, raw] of Object.entries(volumes as Record<string, unknown>)) {
    const at = `volumes.${slot}`;
    if (!/^\d+$/.test(slot) || raw === null || typeof raw !== 'object') {
      args.problem({ argument_name: at, reason: 'format', help_message: `${at} must be a volume template keyed by a slot number` });
      continue;
    }
    const template = raw as { id?: unknown; size?: unknown; volume_type?: unknown };
    const volumeType = typeof template.volume_type === 'string' ? template.volume_type : 'l_ssd';
    if (volumeType === 'b_ssd') {
      args.problem({ argument_name: `${at}.volume_type`, reason: 'constraint', help_message: 'b_ssd volumes are no longer supported. Create volumes with volume_type=sbs_volume instead.' });
      continue;
    }
    if (volumeType !== 'l_ssd' && volumeType !== 'sbs_volume') {
      args.problem({ argument_name: `${at}.volume_type`, reason: 'constraint', help_message: `${at}.volume_type must be one of l_ssd, sbs_volume` });
      continue;
    }
    const size = template.size;
    if (size !== undefined && size !== null && (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)) {
      args.problem({ argument_name: `${at}.size`, reason: 'format', help_message: `${at}.size must be a number of bytes` });
      continue;
    }
    if (slot === '0') {
      if (typeof template.id === 'string')
        args.problem({ argument_name: `${at}.id`, reason: 'constraint', help_message: 'the simulator creates the root volume from the image; attach existing volumes in slots 1 and up' });
      root = { volumeType, size: typeof size === 'number' ? size : undefined };
      continue;
    }
    if (typeof template.id !== 'string' || volumeType !== 'sbs_volume') {
      args.problem({ argument_name: at, reason: 'constraint', help_message: `${at} must name an existing block volume: {"id": "<volume id>", "volume_type": "sbs_volume"}` });
      continue;
    }
    const volume = sim.volume(template.id);
    if (!volume || volume.zone !== request.zone || !isBlockVolume(volume)) throw notFound('instance_volume', template.id);
    if (volume.server_id) throw invalidRequest(`volume ${volume.id} is already attached to server ${volume.server_id}`);
    extras[slot] = volume;
  }
  return { root, extras };
}
