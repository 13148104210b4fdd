// The Instance API's networking a build touches (reference: scaleway-modern-api.md §3): flexible
// IPs, security groups, and a server's private NICs (`syncing` → `available`, or `syncing_error`
// under an `error_state` fault). Records live in the world (world.ts), so they survive a restart.
import { randomUUID } from 'node:crypto';
import { regionOfZone } from '../../catalog.js';
import { ApiError, invalidRequest, notFound } from '../../http.js';
import type { Simulation } from '../../simulation.js';
import { macAddressOf, nextSeq, now, presentIp, presentPrivateNic, type PrivateNicRecord, type SecurityGroupRecord } from '../../world.js';
import { jsonBody, listReply, newestFirst, ownedFilter, type Route } from '../route.js';
import { findIp, findSecurityGroup, findServer } from './find.js';

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
    project_default: group.project_default ?? false,
    creation_date: group.creation_date,
    modification_date: group.modification_date,
    servers,
    stateful: true,
    state: 'available',
    zone: group.zone,
  };
}

function findNic(sim: Simulation, serverId: string, nicId: string): PrivateNicRecord {
  const nic = sim.data.private_nics?.[nicId];
  if (!nic || nic.server_id !== serverId) throw notFound('instance_private_nic', nicId);
  return nic;
}

export const NETWORK_ROUTES: Route[] = [
  // flexible IPs
  {
    method: 'GET',
    pattern: '/ips',
    handle(sim, { zone, query }) {
      const owned = ownedFilter(query, zone);
      return listReply('ips', newestFirst(Object.values(sim.data.ips)).filter(owned), query, (ip) => presentIp(ip, sim));
    },
  },
  {
    method: 'POST',
    pattern: '/ips',
    create: true,
    handle(sim, request) {
      const args = jsonBody(request.body);
      const owner = args.owner();
      const tags = args.tags();
      args.oneOf('type', ['routed_ipv4', 'nat', 'routed_ipv6'] as const, 'routed_ipv4');
      if (args.has('server')) args.problem({ argument_name: 'server', reason: 'constraint', help_message: 'attach the IP at server creation (public_ip) instead' });
      args.done();
      const ip = sim.createIp({ zone: request.zone, ...owner, tags });
      return { status: 201, json: { ip: presentIp(ip, sim) }, headers: { Location: request.locationOf(`/ips/${ip.id}`) } };
    },
  },
  {
    method: 'GET',
    pattern: '/ips/{id}',
    handle: (sim, request) => ({ status: 200, json: { ip: presentIp(findIp(sim, request), sim) } }),
  },
  {
    method: 'DELETE',
    pattern: '/ips/{id}',
    handle(sim, request) {
      sim.deleteIp(findIp(sim, request));
      return { status: 204 };
    },
  },

  // security groups
  {
    method: 'GET',
    pattern: '/security_groups',
    handle(sim, { zone, query }) {
      // A project's default group exists from its first look at the zone's groups.
      const project = query.get('project');
      if (project) sim.defaultSecurityGroup({ project, organization: query.get('organization') ?? project, zone });
      const owned = ownedFilter(query, zone);
      const defaultOnly = query.get('project_default');
      const groups = newestFirst(Object.values(sim.data.security_groups ?? {})).filter(
        (g) => owned(g) && (defaultOnly === null || (g.project_default ?? false) === (defaultOnly === 'true')),
      );
      return listReply('security_groups', groups, query, (g) => presentSecurityGroup(g, sim));
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
      const owner = args.owner();
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
        seq: nextSeq(sim.data),
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

  // private NICs
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
      if (!network || network.region !== regionOfZone(request.zone)) throw notFound('private_network', networkId);
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
        seq: nextSeq(sim.data),
      };
      (sim.data.private_nics ??= {})[nic.id] = nic;
      sim.syncPrivateNic({ kind: 'nic.sync', targetId: nic.id, ...(request.ctx.failing ? { outcome: 'syncing_error' } : {}) }, request.ctx);
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
];
