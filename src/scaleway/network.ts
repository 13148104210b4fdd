// Networking calls a build needs beyond servers and images (reference: scaleway-modern-api.md §3):
// the Instance API's private NICs and security groups, and the VPC API's private networks (a
// regional API: `/vpc/v2/regions/<region>`). They go through the client's shared retry loop,
// so their errors are the client's typed errors (NotFoundError, AmbiguousError on a create, …).
import type { ScalewayClient } from './client.js';
import { commaList, enc, type CallOptions } from './wire.js';

/** PrivateNICState: `syncing` is transient; `available` and `syncing_error` are where waits stop. */
export type PrivateNicState = 'available' | 'syncing' | 'syncing_error';

export interface PrivateNic {
  id: string;
  server_id: string;
  private_network_id: string;
  mac_address: string;
  state: PrivateNicState;
  tags: string[];
  creation_date: string;
  modification_date: string;
  zone: string;
}

export interface SecurityGroup {
  id: string;
  name: string;
  project: string;
  organization: string;
  zone: string;
}

export interface PrivateNetwork {
  id: string;
  name: string;
  project_id: string;
  organization_id: string;
  region: string;
  vpc_id: string;
  tags: string[];
}

function field<T>(body: Record<string, unknown>, key: string): T {
  return body[key] as T;
}

export async function getSecurityGroup(client: ScalewayClient, id: string, o?: CallOptions): Promise<SecurityGroup> {
  const body = await client.callApi({ method: 'GET', path: client.instancePath(`/security_groups/${enc(id)}`), kind: 'read' }, o);
  return field<SecurityGroup>(body, 'security_group');
}

/** VPC v2 answers the private network itself, with no wrapper. */
export async function getPrivateNetwork(client: ScalewayClient, id: string, o?: CallOptions): Promise<PrivateNetwork> {
  const body = await client.callApi({ method: 'GET', path: `/vpc/v2/regions/${client.region}/private-networks/${enc(id)}`, kind: 'read' }, o);
  return body as unknown as PrivateNetwork;
}

function nicsPath(client: ScalewayClient, serverId: string, suffix = ''): string {
  return client.instancePath(`/servers/${enc(serverId)}/private_nics${suffix}`);
}

/** Never retried once it may have reached Scaleway: AmbiguousError on timeout, reset or 5xx. */
export async function createPrivateNic(
  client: ScalewayClient,
  serverId: string,
  body: { private_network_id: string; tags?: string[] },
  o?: CallOptions,
): Promise<PrivateNic> {
  const answer = await client.callApi(
    { method: 'POST', path: nicsPath(client, serverId), json: body, kind: 'create', createName: body.private_network_id, createTags: body.tags },
    o,
  );
  return field<PrivateNic>(answer, 'private_nic');
}

export async function getPrivateNic(client: ScalewayClient, serverId: string, nicId: string, o?: CallOptions): Promise<PrivateNic> {
  const body = await client.callApi({ method: 'GET', path: nicsPath(client, serverId, `/${enc(nicId)}`), kind: 'read' }, o);
  return field<PrivateNic>(body, 'private_nic');
}

export function listPrivateNics(client: ScalewayClient, serverId: string, filter: { tags?: string[] } = {}, o?: CallOptions): Promise<PrivateNic[]> {
  return client.listAll<PrivateNic>(nicsPath(client, serverId), 'private_nics', { tags: commaList(filter.tags) }, o);
}

export async function deletePrivateNic(client: ScalewayClient, serverId: string, nicId: string, o?: CallOptions): Promise<void> {
  await client.callApi({ method: 'DELETE', path: nicsPath(client, serverId, `/${enc(nicId)}`), kind: 'delete' }, o);
}
