// The simulated networking a build touches (reference: scaleway-modern-api.md §3): a server's
// private NICs (`syncing` → `available`, or `syncing_error` under an `error_state` fault), the
// Instance API's security groups, and the VPC API's private networks (regional, absolute paths,
// bare objects, `page_size` paging). Records live in the world (world.ts), so they survive a restart.
import { randomUUID } from 'node:crypto';
import { Args, findServer, jsonBody, listReply, newestFirst, ownedFilter, type ApiRequest, type Route } from './api.js';
import { ZONES } from './catalog.js';
import { ApiError, invalidArguments, invalidRequest, notFound, type Reply } from './http.js';
import type { Simulation } from './simulation.js';
import { macAddressOf, presentPrivateNic, type PrivateNetworkRecord, type PrivateNicRecord, type SecurityGroupRecord } from './world.js';

const now = (): string => new Date().toISOString();

/** VPC regions: the zones' prefixes (`fr-par-1` → `fr-par`). */
const REGIONS = [...new Set(ZONES.map((zone) => zone.replace(/-\d+$/, '')))];

function nextSeq(sim: Simulation): number {
  return ++sim.data.sequence;
}

export function findSecurityGroup(sim: Simulation, request: ApiRequest, id: string): SecurityGroupRecord {
  const group = sim.data.security_groups?.[id];
  if (!group || group.zone !== request.zone) throw notFound('instance_security_group', id);
  return group;
}

function presentSecurityGroup(group: SecurityGroupRecord, sim: Simulation): Record<string, unknown> {
  const servers = Object.values(sim.data.servers)
    .filter((s) => s.security_group_id === group.id)
    .map((s) => ({ id: s.id, name: s.name }));
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    enable_default_security: true,
    inbound_default_policy: 'accept',
    outbound_default_policy: 'accept',
    organization: group.organization,
    project: group.project,
    tags: group.tags,
    organization_default: false,
    project_default: false,
    creation_date: group.creation_date,
    modification_date: group.modification_date,
    servers,
    stateful: true,
    state: 'available',
    zone: group.zone,
  };
}

function regionOf(request: ApiRequest): string {
  const region = request.params.region!;
  if (!REGIONS.includes(region)) {
    throw invalidArguments({ argument_name: 'region', reason: 'constraint', help_message: `unknown region ${region}; use one of ${REGIONS.join(', ')}` });
  }
  return region;
}

function findPrivateNetwork(sim: Simulation, region: string, id: string): PrivateNetworkRecord {
  const network = sim.data.private_networks?.[id];
  if (!network || network.region !== region) throw notFound('private_network', id);
  return network;
}

function presentPrivateNetwork(network: PrivateNetworkRecord): Record<string, unknown> {
  return {
    id: network.id,
    name: network.name,
    organization_id: network.organization_id,
    project_id: network.project_id,
    region: network.region,
    tags: network.tags,
    created_at: network.created_at,
    updated_at: network.updated_at,
    subnets: [
      {
        id: `${network.id.slice(0, 24)}${'0'.repeat(12)}`,
        created_at: network.created_at,
        updated_at: network.updated_at,
        subnet: network.subnet,
        project_id: network.project_id,
        private_network_id: network.id,
        vpc_id: network.vpc_id,
      },
    ],
    vpc_id: network.vpc_id,
    dhcp_enabled: true,
    default_route_propagation_enabled: false,
  };
}

function findNic(sim: Simulation, serverId: string, nicId: string): PrivateNicRecord {
  const nic = sim.data.private_nics?.[nicId];
  if (!nic || nic.server_id !== serverId) throw notFound('instance_private_nic', nicId);
  return nic;
}

/** VPC lists page with `page` and `page_size` and carry the total in the body. */
function vpcListReply(key: string, items: unknown[], query: URLSearchParams): Reply {
  const page = Number(query.get('page') ?? '1');
  const size = Number(query.get('page_size') ?? '50');
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 100) {
    throw invalidArguments({ argument_name: 'page_size', reason: 'constraint', help_message: 'page must be >= 1 and page_size between 1 and 100' });
  }
  return { status: 200, json: { [key]: items.slice((page - 1) * size, page * size), total_count: items.length } };
}

function ownerOf(args: Args): { project: string; organization: string } {
  return args.owner();
}

export const NETWORK_ROUTES: Route[] = [
  // security groups (Instance API)
  {
    method: 'GET',
    pattern: '/security_groups',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      return listReply('security_groups', newestFirst(Object.values(sim.data.security_groups ?? {})).filter(owned), query, (g) => presentSecurityGroup(g, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/security_groups',
    create: true,
    handle(sim, request) {
      const args = jsonBody(request.body);
      const name = args.string('name', true);
      const description = args.string('description') ?? '';
      const owner = ownerOf(args);
      const tags = args.tags();
      args.done();
      const created = now();
      const group: SecurityGroupRecord = {
        id: randomUUID(),
        name,
        description,
        ...owner,
        zone: request.zone,
        tags,
        creation_date: created,
        modification_date: created,
        seq: nextSeq(sim),
      };
      (sim.data.security_groups ??= {})[group.id] = group;
      sim.persist();
      return { status: 201, json: { security_group: presentSecurityGroup(group, sim) }, headers: { Location: request.locationOf(`/security_groups/${group.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/security_groups/{id}',
    handle: (sim, request) => ({ status: 200, json: { security_group: presentSecurityGroup(findSecurityGroup(sim, request, request.params.id!), sim) } }),
  },

  // private NICs (Instance API)
  {
    method: 'GET',
    pattern: '/servers/{id}/private_nics',
    handle(sim, request) {
      const server = findServer(sim, request);
      const tags = (request.query.get('tags') ?? '').split(',').filter((t) => t !== '');
      const nics = sim.privateNicsOf(server.id).filter((nic) => tags.every((t) => nic.tags.includes(t)));
      return listReply('private_nics', nics, request.query, presentPrivateNic);
    },
  },
  {
    method: 'POST',
    pattern: '/servers/{id}/private_nics',
    create: true,
    handle(sim, request) {
      const server = findServer(sim, request);
      const args = jsonBody(request.body);
      const networkId = args.string('private_network_id', true);
      const tags = args.tags();
      if (args.has('ipam_ip_ids')) args.problem({ argument_name: 'ipam_ip_ids', reason: 'constraint', help_message: 'reserved IPAM addresses are not simulated' });
      args.done();
      const network = sim.data.private_networks?.[networkId];
      if (!network || network.region !== request.zone.replace(/-\d+$/, '')) throw notFound('private_network', networkId);
      if (sim.privateNicsOf(server.id).some((nic) => nic.private_network_id === networkId)) {
        throw new ApiError(409, { type: 'conflict', message: `server ${server.id} already has a private NIC in private network ${networkId}` });
      }
      if (server.state === 'locked') throw invalidRequest('server is locked');
      const created = now();
      const id = randomUUID();
      const nic: PrivateNicRecord = {
        id,
        server_id: server.id,
        private_network_id: networkId,
        mac_address: macAddressOf(id).replace(/^de:00/, '02:00'),
        state: 'syncing',
        tags,
        zone: request.zone,
        creation_date: created,
        modification_date: created,
        seq: nextSeq(sim),
      };
      (sim.data.private_nics ??= {})[nic.id] = nic;
      sim.scheduleTransition({ kind: 'nic.sync', targetId: nic.id, ...(request.ctx.failing ? { outcome: 'syncing_error' } : {}) }, sim.latencyOf('nic'), request.ctx);
      sim.persist();
      return { status: 201, json: { private_nic: presentPrivateNic(nic) }, headers: { Location: request.locationOf(`/servers/${server.id}/private_nics/${nic.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/servers/{id}/private_nics/{nic_id}',
    handle(sim, request) {
      const server = findServer(sim, request);
      return { status: 200, json: { private_nic: presentPrivateNic(findNic(sim, server.id, request.params.nic_id!)) } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/servers/{id}/private_nics/{nic_id}',
    handle(sim, request) {
      const server = findServer(sim, request);
      const nic = findNic(sim, server.id, request.params.nic_id!);
      sim.forgetPrivateNic(nic.id);
      return { status: 204 };
    },
  },

  // VPC private networks (regional)
  {
    method: 'GET',
    pattern: '/vpc/v2/regions/{region}/private-networks',
    absolute: true,
    handle(sim, request) {
      const region = regionOf(request);
      const name = request.query.get('name');
      const project = request.query.get('project_id');
      const networks = Object.values(sim.data.private_networks ?? {})
        .filter((n) => n.region === region && (!name || n.name.includes(name)) && (!project || n.project_id === project))
        .sort((a, b) => a.seq - b.seq)
        .map(presentPrivateNetwork);
      return vpcListReply('private_networks', networks, request.query);
    },
  },
  {
    method: 'POST',
    pattern: '/vpc/v2/regions/{region}/private-networks',
    absolute: true,
    create: true,
    handle(sim, request) {
      const region = regionOf(request);
      const args = jsonBody(request.body);
      const name = args.string('name') ?? `pn-${Math.random().toString(36).slice(2, 10)}`;
      const project = args.string('project_id', true);
      const tags = args.tags();
      args.done();
      const created = now();
      const count = Object.keys(sim.data.private_networks ?? {}).length;
      const network: PrivateNetworkRecord = {
        id: randomUUID(),
        name,
        project_id: project,
        organization_id: project,
        region,
        vpc_id: randomUUID(),
        tags,
        subnet: `172.16.${count % 256}.0/22`,
        created_at: created,
        updated_at: created,
        seq: nextSeq(sim),
      };
      (sim.data.private_networks ??= {})[network.id] = network;
      sim.persist();
      return { status: 200, json: presentPrivateNetwork(network) };
    },
  },
  {
    method: 'GET',
    pattern: '/vpc/v2/regions/{region}/private-networks/{id}',
    absolute: true,
    handle: (sim, request) => ({ status: 200, json: presentPrivateNetwork(findPrivateNetwork(sim, regionOf(request), request.params.id!)) }),
  },
  {
    method: 'DELETE',
    pattern: '/vpc/v2/regions/{region}/private-networks/{id}',
    absolute: true,
    handle(sim, request) {
      const network = findPrivateNetwork(sim, regionOf(request), request.params.id!);
      if (Object.values(sim.data.private_nics ?? {}).some((nic) => nic.private_network_id === network.id)) {
        throw new ApiError(412, { type: 'precondition_failed', message: 'private network has attached resources', precondition: 'resource_still_in_use' });
      }
      delete sim.data.private_networks![network.id];
      sim.persist();
      return { status: 204 };
    },
  },
];
