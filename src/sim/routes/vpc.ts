// The VPC API's private networks: regional (`/vpc/v2/regions/{region}/…`, absolute paths that
// need the token), bare objects in answers, `page`/`page_size` paging with the total in the body.
import { randomUUID } from 'node:crypto';
import { REGIONS } from '../catalog.js';
import { ApiError, invalidArguments, notFound, type Reply } from '../http.js';
import type { Simulation } from '../simulation.js';
import { nextSeq, now, type PrivateNetworkRecord } from '../world.js';
import { jsonBody, type ApiRequest, type Route } from './route.js';

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

/** VPC lists page with `page` and `page_size` and carry the total in the body. */
function vpcListReply(key: string, items: unknown[], query: URLSearchParams): Reply {
  const page = Number(query.get('page') ?? '1');
  const size = Number(query.get('page_size') ?? '50');
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 100) {
    throw invalidArguments({ argument_name: 'page_size', reason: 'constraint', help_message: 'page must be >= 1 and page_size between 1 and 100' });
  }
  return { status: 200, json: { [key]: items.slice((page - 1) * size, page * size), total_count: items.length } };
}

export const VPC_ROUTES: Route[] = [
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
        seq: nextSeq(sim.data),
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
