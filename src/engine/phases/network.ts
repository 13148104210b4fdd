// Networking of the build's server (reference: scaleway-modern-api.md §3): the prepare checks that a
// security group and the private networks exist, the `network.attach` phase (one private NIC per
// private network, each waited for until `available`; `syncing_error` fails the build, where the
// plugin counts it a success), and the NICs' part of cleanup.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import {
  AmbiguousError,
  NotFoundError,
  createPrivateNic,
  deletePrivateNic,
  getPrivateNetwork,
  getSecurityGroup,
  listPrivateNics,
  type PrivateNic,
} from '../../scaleway/index.js';
import type { BuildEvent } from '../../store/index.js';
import { crashAfterCall } from '../crash.js';
import { BuildError, getServerOrMissing, notCreated, reconcile, requireFact, waitFor, type PhaseRuntime } from '../phases.js';
import { buildTag, createdBy, resourceTags } from '../tags.js';

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

/** The log's private_nic.* events about one private network of one server. */
async function nicEvents(rt: PhaseRuntime, serverId: string, networkId: string): Promise<BuildEvent[]> {
  return (await rt.deps.log.read((store) => store.events(rt.deps.buildId))).filter((e) => e.type.startsWith('private_nic.') && e.data.serverId === serverId && e.data.privateNetworkId === networkId);
}

/** The NIC of `networkId` on the server: recorded, found by its tags, or created (intent → call → result). */
async function ensureNic(rt: PhaseRuntime, input: PhaseInput, serverId: string, networkId: string, existing: PrivateNic[], signal: AbortSignal): Promise<string> {
  const { client, buildId, spec } = rt.deps;
  const mine = (nics: PrivateNic[]) => nics.find((n) => n.private_network_id === networkId && createdBy(n.tags ?? [], buildId, 'network.attach'));
  const find = async () => mine(await listPrivateNics(client, serverId, { tags: [buildTag(buildId)] }, { signal }));
  const events = await nicEvents(rt, serverId, networkId);
  const lastIntent = events.filter((e) => e.type === 'private_nic.create.requested').at(-1);
  const lastResult = events.filter((e) => e.type === 'private_nic.created').at(-1);
  const recordResult = async (nic: PrivateNic, reconciled: boolean) => {
    if (lastResult?.data.nicId === nic.id) return;
    await rt.record(input, 'private_nic.created', { serverId, privateNetworkId: networkId, nicId: nic.id, ...(reconciled ? { reconciled } : {}) });
  };

  let nic = mine(existing);
  if (!nic && lastIntent && lastIntent.seq > (lastResult?.seq ?? 0)) nic = await reconcile(rt, 'private_nic.create.requested', find, signal);
  if (nic) {
    await recordResult(nic, lastResult?.data.nicId !== nic.id);
    return nic.id;
  }
  const tags = resourceTags(buildId, 'network.attach', spec.tags);
  await rt.record(input, 'private_nic.create.requested', { serverId, privateNetworkId: networkId, tags });
  try {
    nic = await createPrivateNic(client, serverId, { private_network_id: networkId, tags }, { signal });
  } catch (error) {
    if (!(error instanceof AmbiguousError)) throw error;
    nic = await reconcile(rt, 'private_nic.create.requested', find, signal);
    if (!nic) throw notCreated(`private NIC in ${networkId}`, error);
  }
  crashAfterCall('private_nic.created');
  await rt.record(input, 'private_nic.created', { serverId, privateNetworkId: networkId, nicId: nic.id });
  return nic.id;
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

/** Cleanup: deletes the build's private NICs the log knows to exist (intent → call → result). */
export async function deletePrivateNics(rt: PhaseRuntime, input: PhaseInput, serverId: string, signal: AbortSignal): Promise<void> {
  const nics = ((await rt.build())?.resources.privateNics ?? []).filter((n) => !n.deleted);
  for (const nic of nics) {
    await rt.record(input, 'private_nic.delete.requested', { serverId, privateNetworkId: nic.privateNetworkId, nicId: nic.id });
    let alreadyGone = false;
    try {
      await deletePrivateNic(rt.deps.client, serverId, nic.id, { signal });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      alreadyGone = true;
    }
    crashAfterCall('private_nic.deleted');
    await rt.record(input, 'private_nic.deleted', { serverId, privateNetworkId: nic.privateNetworkId, nicId: nic.id, ...(alreadyGone ? { alreadyGone } : {}) });
  }
}
