// Networking of the build's server (reference: scaleway-modern-api.md §3): the prepare checks that a
// security group and the private networks exist, the `network.attach` phase (one private NIC per
// private network, each waited for until `available`; `syncing_error` fails the build, where the
// plugin counts it a success), and the NICs' part of cleanup. Creates and deletes go through
// tracked.ts, one NIC (one private network) at a time.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { NotFoundError, createPrivateNic, deletePrivateNic, getPrivateNetwork, getSecurityGroup, listPrivateNics, type PrivateNic } from '../../scaleway/index.js';
import { BuildError, requireFact, type PhaseRuntime } from '../runtime.js';
import { buildTag } from '../tags.js';
import { trackedCreate, trackedDelete } from '../tracked.js';
import { waitFor } from '../waits.js';
import { getServerOrMissing } from './server.js';

/** prepare: everything the server will be attached to exists, before anything is created. */
export async function checkNetworkSettings(rt: PhaseRuntime, signal: AbortSignal): Promise<void> {
  const { client, spec } = rt.deps;
  const checks: Promise<void>[] = [];
  if (spec.securityGroupId) {
    const id = spec.securityGroupId;
    checks.push(
      getSecurityGroup(client, id, { signal }).then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof NotFoundError) {
            throw new BuildError(`security_group_id ${id} is not a security group of zone ${client.zone}: set it to one that exists (scw instance security-group list zone=${client.zone}) or remove it to use the project's default group`);
          }
          throw error;
        },
      ),
    );
  }
  for (const id of spec.privateNetworkIds) {
    checks.push(
      getPrivateNetwork(client, id, { signal }).then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof NotFoundError) {
            throw new BuildError(`private_network_ids: ${id} is not a private network of region ${client.region}: create it (scw vpc private-network create region=${client.region}) or remove it from private_network_ids`);
          }
          throw error;
        },
      ),
    );
  }
  const outcomes = await Promise.allSettled(checks);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * The NIC of `networkId` on the server: the one recorded if it is still there (`existing`: the
 * build's NICs on the server now), else found by its tags or created.
 */
async function ensureNic(rt: PhaseRuntime, input: PhaseInput, serverId: string, networkId: string, existing: readonly PrivateNic[], signal: AbortSignal): Promise<string> {
  const { client, buildId } = rt.deps;
  const created = await trackedCreate<PrivateNic>(rt, input, signal, {
    phase: 'network.attach',
    intent: 'private_nic.create.requested',
    result: 'private_nic.created',
    item: { serverId, privateNetworkId: networkId },
    idKey: 'nicId',
    kind: `private NIC in ${networkId}`,
    create: (tags) => createPrivateNic(client, serverId, { private_network_id: networkId, tags }, { signal }),
    list: () => listPrivateNics(client, serverId, { tags: [buildTag(buildId)] }, { signal }),
    matches: (nic) => nic.private_network_id === networkId,
    // A recorded NIC no longer on the server is made anew.
    lost: (result) => !existing.some((nic) => nic.id === result.data.nicId),
  });
  return created.id;
}

/** network.attach: one NIC per private network, all `available` before SSH and provisioning. */
export async function networkAttach(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec } = rt.deps;
  const serverId = requireFact(input.facts, 'serverId', input.phase);
  await getServerOrMissing(rt, input, serverId, signal);
  const existing = await listPrivateNics(client, serverId, { tags: [buildTag(rt.deps.buildId)] }, { signal });
  const nics: { id: string; networkId: string }[] = [];
  for (const networkId of spec.privateNetworkIds) nics.push({ id: await ensureNic(rt, input, serverId, networkId, existing, signal), networkId });

  const pending = new Set(nics.map((n) => n.id));
  // Learns from past NIC syncs (the key has no volume: a NIC's sync does not depend on the disk).
  await waitFor(rt, input, signal, {
    wait: 'nic.sync',
    startedBy: 'private_nic.created',
    what: `private NIC(s) ${[...pending].join(', ')} to be available`,
    key: { volumeType: '', sizeClass: '' },
    check: async () => {
      const onServer = await listPrivateNics(client, serverId, {}, { signal });
      for (const nic of nics.filter((n) => pending.has(n.id))) {
        const now = onServer.find((n) => n.id === nic.id);
        if (!now) throw new BuildError(`private NIC ${nic.id} (private network ${nic.networkId}) disappeared from server ${serverId} while it was syncing`);
        if (now.state === 'syncing_error') {
          throw new BuildError(
            `private NIC ${nic.id} failed to join private network ${nic.networkId} (state syncing_error). The server cannot reach that network; check the network (scw vpc private-network get ${nic.networkId}) and build again`,
          );
        }
        if (now.state === 'available') {
          pending.delete(nic.id);
          await rt.record(input, 'private_nic.available', { serverId, privateNetworkId: nic.networkId, nicId: nic.id });
        }
      }
      return pending.size === 0 ? true : undefined;
    },
  });
  return { privateNicIds: nics.map((n) => n.id) };
}

/** Cleanup: deletes the build's private NICs the log knows to exist. */
export async function deletePrivateNics(rt: PhaseRuntime, input: PhaseInput, serverId: string, signal: AbortSignal): Promise<void> {
  const nics = ((await rt.build())?.resources.privateNics ?? []).filter((n) => !n.deleted);
  for (const nic of nics) {
    await trackedDelete(rt, input, {
      intent: 'private_nic.delete.requested',
      result: 'private_nic.deleted',
      item: { serverId, privateNetworkId: nic.privateNetworkId, nicId: nic.id },
      call: () => deletePrivateNic(rt.deps.client, serverId, nic.id, { signal }),
    });
  }
}
