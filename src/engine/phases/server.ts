// The build's server: created (with its volumes tagged and its user data set), powered on, waited
// for until running with a public IP, powered off, waited for until stopped, and deleted by cleanup.
// Its create, actions and delete go through tracked.ts; its waits through waits.ts.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { AmbiguousError, NotFoundError, pollUntil, refusedForItsState, type Server } from '../../scaleway/index.js';
import { portAnswers } from '../../ssh/index.js';
import type { EventType } from '../../store/index.js';
import { BuildError, imageIsId, marketplaceKey, nonEmpty, requireFact, TransientBuildError, type PhaseRuntime } from '../runtime.js';
import { buildTag } from '../tags.js';
import { settleDoneUpdate, trackedCreate, trackedDelete, trackedUpdate } from '../tracked.js';
import { waitFor } from '../waits.js';
import { serverVolumes, serverVolumesRequest, tagServerVolumes, volumeFacts } from './volumes.js';

/** The build's server as the API shows it now; gone (deleted outside kiln) is recorded and fails the build. */
export async function getServerOrMissing(rt: PhaseRuntime, input: PhaseInput, id: string, signal: AbortSignal): Promise<Server> {
  try {
    const { client, serverLooks } = rt.deps;
    return await (serverLooks ? serverLooks.look(client, id, { signal }) : client.getServer(id, { signal }));
  } catch (error) {
    if (error instanceof NotFoundError) {
      await rt.record(input, 'resource.missing', { kind: 'server', id });
      throw new BuildError(
        `server ${id} no longer exists (deleted outside kiln?). Its provisioning is lost: ` +
          `run \`kiln build\` again (and \`kiln gc --build ${rt.deps.buildId} --force\` to remove what is left).`,
      );
    }
    throw error;
  }
}

export async function serverCreate(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, buildId } = rt.deps;
  const keyTag = nonEmpty(input.facts.authorizedKeyTag);
  const volumes = serverVolumesRequest(rt, input.facts);
  const created = await trackedCreate<Server>(rt, input, signal, {
    phase: 'server.create',
    intent: 'server.create.requested',
    result: 'server.created',
    idKey: 'serverId',
    name: spec.serverName,
    extraTags: spec.serverTags,
    request: { commercialType: spec.commercialType, ...(volumes ? { volumes } : {}), ...(input.facts.cacheImageId ? { fromCheckpoint: input.facts.cacheImageId } : {}) },
    create: (tags) =>
      client.createServer(
        {
          name: spec.serverName,
          commercial_type: spec.commercialType,
          // From a checkpoint (the build cache's hit), else the source image. A label goes as it is:
          // the API picks the image's local or SBS variant for the root volume.
          image: nonEmpty(input.facts.cacheImageId) ?? (imageIsId(spec) ? requireFact(input.facts, 'sourceImageId', 'server.create') : spec.image),
          ...(volumes ? { volumes } : {}),
          boot_type: spec.bootType,
          ...(spec.bootType === 'bootscript' && spec.bootscript ? { bootscript: spec.bootscript } : {}),
          tags: keyTag ? [...tags, keyTag] : tags,
          dynamic_ip_required: true,
          ...(spec.securityGroupId ? { security_group: spec.securityGroupId } : {}),
          ...(spec.adminPasswordEncryptionSshKeyId ? { admin_password_encryption_ssh_key_id: spec.adminPasswordEncryptionSshKeyId } : {}),
        },
        { signal },
      ),
    list: () => client.listServers({ tags: [buildTag(buildId)] }, { signal }),
    resultData: (server) => ({ name: server.name, ...serverVolumes(server) }),
    // A server found missing (deleted by hand before provisioning: resume's check) is created anew.
    lost: async (result) => ((await rt.last('resource.missing'))?.seq ?? 0) > result.seq,
    // Perhaps the cached image of the label is gone: the next attempt resolves it afresh.
    onRefused: () => rt.deps.log.read((store) => store.uncache(marketplaceKey(rt))),
  });
  // The result is in the log (resume, or a retry after a later step of this phase failed): look at it.
  const server = created.how === 'recorded' ? await getServerOrMissing(rt, input, created.id, signal) : created.value;

  // Tag the volumes at once, so that gc finds them even if the server goes (PATCH: idempotent).
  await tagServerVolumes(rt, input, server, signal);
  // A server made from a checkpoint gets no user data: its effects are in the checkpoint, and
  // cloud-init would run it again on the new server (once per instance).
  if (!input.facts.cacheImageId) {
    for (const [k, value] of Object.entries(spec.userData)) {
      await client.setUserData(server.id, k, value, { signal });
    }
  }
  rt.serverStates.set(server.id, server.state);
  // The root volume's type and size are part of the waits' keys (a bigger disk snapshots slower).
  const root = server.volumes?.['0'];
  return { serverId: server.id, ...volumeFacts(server), rootVolumeType: root?.volume_type ?? null, rootVolumeSize: root?.size ?? null };
}

/**
 * Powers the build's server on or off, once: skipped when it is already past `from` (a retry or a
 * resume after the action went through). The state this process last saw (a create's answer, the
 * end of a wait) saves asking for it; if the action is then refused because the state moved on
 * (a provisioner shut the server down), the retry asks.
 */
async function serverPower(
  rt: PhaseRuntime,
  input: PhaseInput,
  signal: AbortSignal,
  o: { action: 'poweron' | 'poweroff'; phase: 'server.start' | 'server.stop'; from: string[]; requested: EventType; accepted: EventType },
): Promise<string> {
  const serverId = requireFact(input.facts, 'serverId', o.phase);
  const seen = rt.serverStates.get(serverId);
  rt.serverStates.delete(serverId);
  const state = seen ?? (await getServerOrMissing(rt, input, serverId, signal)).state;
  if (!o.from.includes(state)) {
    // Past `from`: the action went through, perhaps just before a crash that left its intent open.
    await settleDoneUpdate(rt, input, { intent: o.requested, result: o.accepted, item: { serverId } });
    return state;
  }
  await trackedUpdate(rt, input, {
    intent: o.requested,
    result: o.accepted,
    item: { serverId },
    call: async () => {
      try {
        // The API's stamp of the action (its task's start), which the wait after it measures from.
        const apiStartedAt = nonEmpty((await rt.deps.client.serverAction(serverId, o.action, { signal })).started_at);
        return apiStartedAt ? { apiStartedAt } : {};
      } catch (error) {
        // Refused because the state moved on since this process saw it: look again (a refusal of the account is not that).
        if (seen !== undefined && refusedForItsState(error) && !signal.aborted) {
          throw new TransientBuildError(`${o.action} of server ${serverId} was refused (${(error as Error).message}): its state changed since this process last saw it`, { cause: error });
        }
        // A repeated action refused because an earlier attempt worked: check the state.
        if (!(error instanceof AmbiguousError)) throw error;
        const now = await getServerOrMissing(rt, input, serverId, signal);
        if (o.from.includes(now.state)) throw new TransientBuildError(`${o.action} of server ${serverId}: ${error.message}`, { cause: error });
        return {};
      }
    },
  });
  return state;
}

export async function serverStart(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  await serverPower(rt, input, signal, {
    action: 'poweron',
    phase: 'server.start',
    from: ['stopped', 'stopped in place'],
    requested: 'server.poweron.requested',
    accepted: 'server.poweron.accepted',
  });
  return {};
}

export async function serverWaitRunning(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const serverId = requireFact(input.facts, 'serverId', 'server.wait_running');
  const { communicator: c } = rt.deps.spec;
  let address: string | undefined;
  const server = await waitFor(rt, input, signal, {
    wait: 'server.boot',
    startedBy: 'server.poweron.accepted',
    what: `server ${serverId} to be running with a public IP`,
    changedAt: (s) => s.modification_date,
    // Once a look has shown the address, its SSH port answering says when `running` is worth a look.
    ...(c.type === 'ssh' ? { sign: (s: AbortSignal) => (address ? portAnswers(address, rt.deps.sshPortOverride ?? c.port, s) : undefined) } : {}),
    check: async () => {
      const s = await getServerOrMissing(rt, input, serverId, signal);
      address = s.public_ip?.address || undefined;
      if (s.state === 'running' && s.public_ip?.address) return s;
      if (s.state === 'stopped' || s.state === 'locked') {
        throw new BuildError(`server ${serverId} is ${s.state} (${s.state_detail || 'no detail'}) instead of booting`);
      }
      return undefined;
    },
  });
  rt.serverStates.set(serverId, 'running');
  await rt.record(input, 'server.running', { serverId, publicIp: server.public_ip!.address });
  return { publicIp: server.public_ip!.address };
}

export async function serverStop(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  rt.closeCommunicator();
  const state = await serverPower(rt, input, signal, {
    action: 'poweroff',
    phase: 'server.stop',
    from: ['running', 'stopped in place'],
    requested: 'server.poweroff.requested',
    accepted: 'server.poweroff.accepted',
  });
  if (state === 'starting') {
    throw new TransientBuildError(`server ${input.facts.serverId} is still starting; it is powered off once running`);
  }
  return {};
}

export async function serverWaitStopped(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const serverId = requireFact(input.facts, 'serverId', 'server.wait_stopped');
  await waitFor(rt, input, signal, {
    wait: 'server.stop',
    startedBy: 'server.poweroff.accepted',
    what: `server ${serverId} to stop`,
    changedAt: (s) => s.modification_date,
    check: async () => {
      const s = await getServerOrMissing(rt, input, serverId, signal);
      if (s.state === 'stopped') return s;
      if (s.state === 'running') throw new TransientBuildError(`server ${serverId} is running again instead of stopping`);
      return undefined;
    },
  });
  rt.serverStates.set(serverId, 'stopped');
  await rt.record(input, 'server.stopped', { serverId });
  return {};
}

/**
 * Cleanup: deletes the server. Scaleway deletes only a stopped server; a running one (a failure
 * during provisioning) is terminated, which stops it and removes it with its local volumes;
 * starting/stopping: wait. Gone already is done.
 */
export async function deleteServer(rt: PhaseRuntime, input: PhaseInput, serverId: string, signal: AbortSignal): Promise<void> {
  const { client } = rt.deps;
  await trackedDelete(rt, input, {
    intent: 'server.delete.requested',
    result: 'server.deleted',
    item: { serverId },
    call: async () => {
      let terminated = false;
      // Seen stopped by this process (the build's own wait): delete it without asking first.
      const seen = rt.serverStates.get(serverId);
      rt.serverStates.delete(serverId);
      let deleted = false;
      if (seen === 'stopped') {
        try {
          await client.deleteServer(serverId, { signal });
          deleted = true;
        } catch (error) {
          // Gone already is done; any other refusal (its state moved on): the careful way below.
          deleted = error instanceof NotFoundError;
          if (signal.aborted) throw error;
        }
      }
      if (!deleted) {
        await pollUntil(
          async () => {
            let s: Server;
            try {
              s = await client.getServer(serverId, { signal });
            } catch (error) {
              if (error instanceof NotFoundError) return true;
              throw error;
            }
            if (s.state === 'stopped' || s.state === 'stopped in place') {
              try {
                await client.deleteServer(serverId, { signal });
              } catch (error) {
                if (!(error instanceof NotFoundError)) throw error;
              }
              return true;
            }
            if (s.state === 'running' && !terminated) {
              await client.serverAction(serverId, 'terminate', { signal });
              terminated = true;
            }
            return undefined;
          },
          { signal, deadlineAt: input.phaseDeadlineAt, what: `server ${serverId} to be deleted` },
        );
      }
      return terminated ? { terminated } : {};
    },
  });
}
