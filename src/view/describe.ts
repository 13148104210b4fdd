// One sentence per build event, for people: the terminal renderers, plain output, `kiln show`,
// the HTML report and `kiln ui` all describe events through this one function.
import type { Artifact, BuildEvent, ErrorInfo } from '../store/index.js';
import { formatDuration } from '../template/duration.js';

const ERROR_CLEANUP = 'error-cleanup-provisioner';

const s = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export function describeError(e: unknown): string {
  const error = e as Partial<ErrorInfo> | undefined;
  if (!error) return 'unknown error';
  return error.name && error.name !== 'Error' ? `${error.name}: ${s(error.message)}` : s(error.message);
}

/**
 * A measured time (a phase, a wait, a retry delay, a build), rounded for reading: 450ms, 6.1s,
 * 2m05s, 1h02m. A duration the user configured is written as they would write it, with
 * template/duration.ts's `formatDuration` (10m, 1m30s).
 */
export function formatElapsed(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  const sec = ms / 1000;
  if (sec < 59.95) return `${sec.toFixed(1)}s`;
  const m = Math.floor(Math.round(sec) / 60);
  const rest = Math.round(sec) - m * 60;
  if (m < 60) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The time from `at` to a phase's deadline (an ISO string in the event), or undefined without one. */
export function timeLeft(deadlineAt: unknown, at: number): number | undefined {
  const deadline = typeof deadlineAt === 'string' ? Date.parse(deadlineAt) : NaN;
  return Number.isNaN(deadline) ? undefined : Math.max(0, deadline - at);
}

/** Packer's artifact sentence. */
export function describeArtifact(a: Artifact): string {
  const more = (a.snapshots ?? []).slice(1);
  const extra = more.length > 0 ? ` and ${more.map((x) => `'${x.name}' (ID: ${x.id})`).join(', ')}` : '';
  return `An image was created: '${a.imageName}' (ID: ${a.imageId}) in zone '${a.zone}' based on snapshot '${a.snapshotName}' (ID: ${a.snapshotId})${extra}`;
}

/** A line for the event, or null for events that are shown otherwise (output) or not at all. */
export function describeEvent(e: BuildEvent): string | null {
  const d = e.data;
  switch (e.type) {
    case 'build.started':
      return `Build ${e.buildId} started (template ${s(d.templatePath)}, builder ${s(d.builderName)}, on error: ${s(d.onError)})`;
    case 'build.resumed':
      return `Build resumed at ${s(d.fromPhase)}${d.fromProvisioner !== undefined ? ` (provisioner ${s(d.fromProvisioner)})` : ''} by process ${s(d.pid)} on ${s(d.host)}`;
    case 'build.interrupted':
      return `Build interrupted during ${s(e.phase)}: ${s(d.reason)}`;
    case 'build.failed':
      return `Build failed in ${s(e.phase)}: ${describeError(d.error)}${d.cleanedUp ? ' (everything it created was removed)' : ''}`;
    case 'build.cleaned':
      return d.by === 'simulator'
        ? 'The simulator embedded in `kiln build --sim` ended, and with it everything the build created'
        : `kiln gc removed what the build left behind`;
    case 'build.succeeded':
      return `Build finished: ${describeArtifact(d.artifact as Artifact)}`;
    case 'phase.started':
      if (d.errorCleanup) return `${ERROR_CLEANUP}: ${e.attempt > 1 ? `attempt ${e.attempt}` : 'started'}`;
      return e.attempt > 1
        ? `${e.phase}: attempt ${e.attempt}`
        : `${e.phase}${e.phase === 'provision' ? ` #${s(d.provisionerIndex)}` : ''}${d.reason === 'failure' ? ' (after the failure)' : ''}: started`;
    case 'phase.retrying': {
      const left = timeLeft(d.deadlineAt, Date.parse(e.at));
      return `${e.phase}: attempt ${e.attempt} failed (${describeError(d.error)}); retrying${typeof d.delayMs === 'number' ? ` in ${formatElapsed(d.delayMs)}` : ''}${left !== undefined ? `, ${formatElapsed(left)} left before its deadline` : ''}`;
    }
    case 'phase.succeeded':
      return `${d.errorCleanup ? ERROR_CLEANUP : `${e.phase}${e.phase === 'provision' ? ` #${s(d.provisionerIndex)}` : ''}`}: done${typeof d.durationMs === 'number' ? ` in ${formatElapsed(d.durationMs)}` : ''}`;
    case 'phase.failed':
      if (d.continued) return `provision #${s(d.provisionerIndex)}: failed: ${describeError(d.error)}; continue_on_error is set: the build goes on`;
      return `${d.errorCleanup ? ERROR_CLEANUP : e.phase}: failed: ${describeError(d.error)}`;
    case 'cleanup.started':
      return `Cleaning up after the failure: removing what the build created, newest first`;
    case 'key.created':
      return `Created a temporary SSH key pair${d.sealed ? ' (the private key sealed into the store with KILN_KEY_PASSPHRASE)' : ''}`;
    case 'key.deleted':
      return 'Deleted the temporary SSH key pair';
    case 'server.create.requested':
      return `Creating server ${s(d.name)} (${s(d.commercialType)})`;
    case 'server.created':
      return `Server ${s(d.serverId)} created${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'volume.tagged':
      return `Tagged volume ${s(d.volumeId)}`;
    case 'server.poweron.requested':
      return `Powering on server ${s(d.serverId)}`;
    case 'server.poweron.accepted':
      return `Server ${s(d.serverId)} is starting`;
    case 'server.running':
      return `Server ${s(d.serverId)} is running at ${s(d.publicIp)}`;
    case 'private_nic.create.requested':
      return `Attaching a private NIC to server ${s(d.serverId)} in private network ${s(d.privateNetworkId)}`;
    case 'private_nic.created':
      return `Private NIC ${s(d.nicId)} created in private network ${s(d.privateNetworkId)}${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'private_nic.available':
      return `Private NIC ${s(d.nicId)} is available`;
    case 'private_nic.delete.requested':
      return `Deleting private NIC ${s(d.nicId)}`;
    case 'private_nic.deleted':
      return `Private NIC ${s(d.nicId)} deleted${d.alreadyGone ? ' (it was already gone)' : ''}`;
    case 'user_data.wait.started':
      return d.mode === 'cloud-init'
        ? `Waiting for cloud-init to finish (at most ${formatDuration(Number(d.timeoutMs))})`
        : `Waiting ${formatDuration(Number(d.timeoutMs))} for the user data scripts (user_data_timeout; no SSH to ask cloud-init)`;
    case 'user_data.done':
      return `User data: ${s(d.outcome)}`;
    case 'machine.cleaned':
      return `Emptied ${(d.files as string[] | undefined)?.join(' and ') ?? 'the machine-id files'} (cleanup_machine_related_data)`;
    case 'server.kept':
      return `Server ${s(d.serverId)} kept on purpose (keep_server), with its volumes`;
    case 'ssh.connected':
      return `Connected over SSH to ${s(d.username)}@${s(d.host)}`;
    case 'provisioner.started':
      return d.errorCleanup ? `The build failed: running the ${ERROR_CLEANUP} (${s(d.type)}) before the cleanup` : `Provisioning with ${s(d.type)} (provisioner ${s(d.index)})`;
    case 'provisioner.succeeded':
      return d.errorCleanup ? `The ${ERROR_CLEANUP} finished` : `Provisioner ${s(d.index)} finished`;
    case 'postprocessor.started':
      return `Running post-processor ${s(d.type)} (post-processor ${s(d.index)})`;
    case 'postprocessor.succeeded':
      return `Post-processor ${s(d.index)} finished${d.output ? `: wrote ${s(d.output)}` : ''}`;
    case 'server.poweroff.requested':
      return `Powering off server ${s(d.serverId)}`;
    case 'server.poweroff.accepted':
      return `Server ${s(d.serverId)} is stopping`;
    case 'server.stopped':
      return `Server ${s(d.serverId)} stopped`;
    case 'snapshot.create.requested':
      return `Creating snapshot ${s(d.name)} of volume ${s(d.volumeId)}`;
    case 'snapshot.created':
      return `Snapshot ${s(d.snapshotId)} created${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'snapshot.available':
      return `Snapshot ${s(d.snapshotId)} is available`;
    case 'image.create.requested':
      return `Creating image ${s(d.name)} from snapshot ${s(d.snapshotId)}`;
    case 'image.created':
      return `Image ${s(d.imageId)} created${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'image.available':
      return `Image ${s(d.imageId)} is available`;
    case 'wait.started':
      return `Waiting for ${s(d.what)}${typeof d.expectedMs === 'number' ? ` (usually ${describeExpected(d)}, from ${s(d.samples)} past waits)` : ''}`;
    case 'wait.finished':
      return (
        `Waited ${formatElapsed(Number(d.durationMs))}${typeof d.expectedMs === 'number' ? ` (expected ${describeExpected(d)})` : ''}` +
        (typeof d.apiDurationMs === 'number' ? `, the change took ${formatElapsed(d.apiDurationMs)} by the API's clock` : '') +
        (d.looks === 0 ? ', done in the action\'s answer (no check of its state)' : `, ${s(d.looks)} check${d.looks === 1 ? '' : 's'} of its state`)
      );
    case 'server.delete.requested':
      return `Deleting server ${s(d.serverId)}`;
    case 'server.deleted':
      return `Server ${s(d.serverId)} deleted`;
    case 'volume.delete.requested':
      return `Deleting volume ${s(d.volumeId)}`;
    case 'volume.deleted':
      return `Volume ${s(d.volumeId)} deleted${d.alreadyGone ? ' (it was already gone)' : ''}`;
    case 'snapshot.delete.requested':
      return `Deleting snapshot ${s(d.snapshotId)}`;
    case 'snapshot.deleted':
      return `Snapshot ${s(d.snapshotId)} deleted${d.alreadyGone ? ' (it was already gone)' : ''}`;
    case 'image.delete.requested':
      return `Deleting image ${s(d.imageId)}`;
    case 'image.deleted':
      return `Image ${s(d.imageId)} deleted${d.alreadyGone ? ' (it was already gone)' : ''}`;
    case 'block_volume.create.requested':
      return `Creating block volume ${s(d.name)} (${d.snapshotId ? `from snapshot ${s(d.snapshotId)}` : `${s(d.sizeGb)} GB`})`;
    case 'block_volume.created':
      return `Block volume ${s(d.volumeId)} created${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'volume.iops.requested':
      return `Setting volume ${s(d.volumeId)} to ${s(d.iops)} IOPS`;
    case 'volume.iops.updated':
      return `Volume ${s(d.volumeId)} set to ${s(d.iops)} IOPS`;
    case 'volume_snapshot.create.requested':
      return `Creating block snapshot ${s(d.name)} of volume ${s(d.volumeId)}`;
    case 'volume_snapshot.created':
      return `Block snapshot ${s(d.snapshotId)} created${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'volume_snapshot.available':
      return `Block snapshot ${s(d.snapshotId)} is available`;
    case 'cache.checked':
      return describeCacheCheck(d);
    case 'key.cleared':
      return d.reconciled ? 'The temporary SSH key was already out of authorized_keys (the server refused it)' : `Took the temporary SSH key out of ${s(d.file)}`;
    case 'checkpoint.skipped':
      return `No checkpoint after provisioner ${s(d.index)}${d.givenUp ? ', the build goes on' : ''}: ${s(d.reason)}`;
    case 'checkpoint.snapshot.requested':
      return `Checkpoint: snapshotting volume ${s(d.volumeId)}${d.api === 'block' ? ' (Block API)' : ''}`;
    case 'checkpoint.snapshot.created':
      return `Checkpoint snapshot ${s(d.snapshotId)} created${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'checkpoint.image.requested':
      return `Checkpoint: creating image ${s(d.name)}`;
    case 'checkpoint.image.created':
      return `Checkpoint image ${s(d.imageId)} created${d.reconciled ? ' (found by its tags)' : ''}`;
    case 'checkpoint.made':
      return `Checkpoint after provisioner ${s(d.index)}: image ${s(d.imageId)} (key ${s(d.key).slice(0, 12)})${typeof d.reachMs === 'number' ? `, saves ~${formatElapsed(d.reachMs)} to the builds that start from it` : ''}`;
    case 'api.calls':
      return `This process made ${s(d.calls)} API call${d.calls === 1 ? '' : 's'}${Number(d.retries) > 0 ? ` (and ${s(d.retries)} retried attempt${d.retries === 1 ? '' : 's'})` : ''}`;
    case 'resource.missing':
      return `The ${s(d.kind)} ${s(d.id)} no longer exists`;
    case 'provision.output':
      return null;
  }
}

/** A wait's prediction, for people: "~8.0s (6.0s–10.0s)". */
export function describeExpected(d: Record<string, unknown>): string {
  const expected = Number(d.expectedMs);
  const spread = Number(d.spreadMs) || 0;
  return `~${formatElapsed(expected)} (${formatElapsed(Math.max(0, expected - spread))}–${formatElapsed(expected + spread)})`;
}

/** The output lines of a `provision.output` event. */
export function outputLines(e: BuildEvent): { stream: string; line: string }[] {
  return e.type === 'provision.output' && Array.isArray(e.data.lines) ? (e.data.lines as { stream: string; line: string }[]) : [];
}

/**
 * The build cache's lookup in one line: the checkpoint the build starts from and what it saves
 * (`provisioners 0–3: from checkpoint <image>, made by build <id> on <date>, saves ~12m40s`), or
 * that none matched; where the build makes checkpoints.
 */
export function describeCacheCheck(d: Record<string, unknown>): string {
  if (d.error) return `Build cache not used: ${s(d.error)}`;
  const hit = d.hit as { index: number; imageId: string; madeBy: string | null; madeAt: string | null; savesMs: number | null } | undefined;
  const after = Array.isArray(d.checkpointAfter) && d.checkpointAfter.length > 0 ? `; checkpoint${d.checkpointAfter.length > 1 ? 's' : ''} after provisioner ${d.checkpointAfter.join(', ')}` : '';
  if (!hit) return `Build cache: no checkpoint matches; every provisioner runs${after}`;
  const covered = hit.index === 0 ? 'provisioner 0' : `provisioners 0–${hit.index}`;
  const made = [hit.madeBy ? `made by build ${hit.madeBy}` : '', hit.madeAt ? `on ${hit.madeAt.slice(0, 16).replace('T', ' ')}` : ''].filter(Boolean).join(' ');
  return `${covered}: from checkpoint ${hit.imageId}${made ? `, ${made}` : ''}${typeof hit.savesMs === 'number' ? `, saves ~${formatElapsed(hit.savesMs)}` : ''}${after}`;
}

/** The build cache's part of a build, a line each: the checkpoint it started from (its lineage) and the ones it made or skipped. */
export function buildCacheLines(events: readonly BuildEvent[]): string[] {
  return events.filter((e) => CACHE_STORY.has(e.type)).map((e) => describeEvent(e) ?? e.type);
}

const CACHE_STORY: ReadonlySet<string> = new Set(['cache.checked', 'checkpoint.made', 'checkpoint.skipped']);

/** `--explain-cache`: for each provisioner, whether the cache had it and, on a miss, why. */
export function explainCacheCheck(d: Record<string, unknown>): string[] {
  const verdicts = Array.isArray(d.verdicts) ? (d.verdicts as { index: number; outcome: string; reason: string }[]) : [];
  const keys = Array.isArray(d.keys) ? d.keys : [];
  const lines = verdicts.map((v) => `  after provisioner ${v.index}: ${v.outcome === 'hit' ? 'hit' : v.outcome === 'covered' ? 'covered by the hit' : 'miss'} — ${v.reason}`);
  if (keys.length > 0) lines.push(`  after provisioner ${keys.length - 1} (the last): never a checkpoint — it always runs`);
  return [describeCacheCheck(d), ...lines];
}

/** An API call's attempt that failed and that the client tries again (the shape of the client's request report). */
export interface ClientRetry {
  method: string;
  path: string;
  attempt: number;
  /** The answer's status, or null when none came. */
  status: number | null;
  error?: string;
  retryInMs: number;
}

/**
 * A retry of the client's own, said as it happens so that no call waits in silence (a cleanup after
 * the API went away). Without an answer, the network's reason alone ("connection refused").
 */
export function describeClientRetry(r: ClientRetry): string {
  const reason = /: ([^:]+?)\. Check the network/.exec(r.error ?? '')?.[1] ?? r.error ?? 'no answer';
  return `${r.method} ${r.path}: attempt ${r.attempt} ${r.status !== null ? `answered ${r.status}` : `got no answer (${reason})`}; the client tries again in ${formatElapsed(r.retryInMs)}`;
}
