// The one definition of a build event — the spine of kiln (DESIGN.md, "The spine").
// Every renderer, `kiln show`, `kiln ls`, `--json` and resume read this type; the engine is the
// only writer. Event data is plain JSON and never holds a secret.
import type { PhaseName } from '../../machines/phases.js';

/** The catalogue of event types. Intent/result pairs follow DESIGN.md's crash-safety protocol:
 * the intent is appended before an API call, the result right after it returns. */
export const EVENT_TYPES = [
  // build lifecycle
  'build.started',
  'build.resumed',
  'build.interrupted',
  'build.failed',
  'build.succeeded',
  // `kiln gc` removed everything a failed or interrupted build left behind
  'build.cleaned',
  // machine transitions (derived from the running machine by the engine's inspection observer)
  'phase.started',
  'phase.retrying',
  'phase.succeeded',
  'phase.failed',
  'cleanup.started',
  // side effects: intent → result
  'key.created',
  'key.deleted',
  'server.create.requested',
  'server.created',
  'volume.tagged',
  'server.poweron.requested',
  'server.poweron.accepted',
  'server.running',
  // private_network_ids: one NIC per network, attached once the server runs (network.attach)
  'private_nic.create.requested',
  'private_nic.created',
  'private_nic.available',
  'ssh.connected',
  'provisioner.started',
  'provisioner.succeeded',
  'provision.output',
  // user data: the wait for cloud-init (user_data.wait) and its outcome
  'user_data.wait.started',
  'user_data.done',
  // cleanup_machine_related_data: the machine-id files were truncated (machine.cleanup)
  'machine.cleaned',
  'server.poweroff.requested',
  'server.poweroff.accepted',
  'server.stopped',
  'snapshot.create.requested',
  'snapshot.created',
  'snapshot.available',
  'image.create.requested',
  'image.created',
  'image.available',
  // a wait on a state change: its key and prediction when it starts, how long it took when it ends
  // (the history later waits with the same key learn from; see src/scaleway/predict.ts)
  'wait.started',
  'wait.finished',
  'server.delete.requested',
  'server.deleted',
  // keep_server: after a successful build the server (and its volumes, NICs) stay, on purpose
  'server.kept',
  'private_nic.delete.requested',
  'private_nic.deleted',
  'volume.delete.requested',
  'volume.deleted',
  'snapshot.delete.requested',
  'snapshot.deleted',
  'image.delete.requested',
  'image.deleted',
  // SBS block volumes and snapshots (issue 11): extra volumes before the server, the root's IOPS,
  // one block snapshot per extra volume. Block resources carry `api: "block"` in their events.
  'block_volume.create.requested',
  'block_volume.created',
  'volume.iops.requested',
  'volume.iops.updated',
  'volume_snapshot.create.requested',
  'volume_snapshot.created',
  'volume_snapshot.available',
  // the build cache (issue 24): the keys and what the cache holds for them (prepare); a checkpoint
  // between two provisioners — the temporary key taken out of root's authorized_keys (as before the
  // final image's snapshot too), a snapshot per volume, an image, recorded available — or why none
  // was made (another build makes it, it exists) or given up (a cache problem: the build goes on)
  'cache.checked',
  'key.cleared',
  'checkpoint.skipped',
  'checkpoint.snapshot.requested',
  'checkpoint.snapshot.created',
  'checkpoint.image.requested',
  'checkpoint.image.created',
  'checkpoint.made',
  // post-processors (manifest, shell-local), once the image exists
  'postprocessor.started',
  'postprocessor.succeeded',
  // the API calls one process made for the build, appended when it stops driving it (build or
  // resume; a process killed before that records none): the report's and the UI's summary
  'api.calls',
  // a resource the build needs was found gone (deleted outside kiln). (One found by its tags
  // after an intent without a result is recorded as that intent's result, with `reconciled: true`.)
  'resource.missing',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** An error as stored: plain strings, never an Error object (JSON would drop its fields). */
export interface ErrorInfo {
  name: string;
  message: string;
  /** Transient: trying the same step again (later) may succeed. */
  retryable: boolean;
  /** What the Scaleway API answered, when the error came from it ('502', 'connection reset'). */
  answer?: string;
}

/** `cleaned`: a failed or interrupted build whose leftovers `kiln gc` removed (nothing to resume). */
export type BuildStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'cleaned';
export const BUILD_STATUSES: readonly BuildStatus[] = ['running', 'succeeded', 'failed', 'interrupted', 'cleaned'];

/** Packer's -on-error values (run-cleanup-provisioner: the error-cleanup-provisioner, then as abort). */
export type OnError = 'cleanup' | 'abort' | 'ask' | 'run-cleanup-provisioner';

/** A resource a build created, and whether it has been deleted since. */
export interface ResourceRef {
  id: string;
  name?: string;
  deleted?: boolean;
  /** `block` for SBS volumes and snapshots (deleted through the Block API); absent: Instance API. */
  api?: 'block';
  /** For an extra volume's snapshot: the volume it was taken of. */
  volumeId?: string;
  /** Left in place on purpose (keep_server): never an orphan for `kiln gc`. */
  kept?: boolean;
}

/** A private NIC of the build's server, in the private network it joins. */
export interface PrivateNicRef extends ResourceRef {
  privateNetworkId: string;
}

/** What a build owns in the cloud, as far as the event log knows. */
export interface BuildResources {
  server?: ResourceRef;
  volumes?: ResourceRef[];
  privateNics?: PrivateNicRef[];
  publicIp?: string;
  snapshot?: ResourceRef;
  /** Block snapshots of the extra volumes, in volume order. */
  volumeSnapshots?: ResourceRef[];
  image?: ResourceRef;
}

/** The build's result, printed the way Packer prints a Scaleway artifact. */
export interface Artifact {
  imageId: string;
  imageName: string;
  snapshotId: string;
  snapshotName: string;
  zone: string;
  /** Every snapshot of the image, root first (as the plugin's artifact lists them). */
  snapshots?: { id: string; name: string; volumeId?: string }[];
}

export type EventData = Record<string, unknown>;

export interface BuildEvent {
  buildId: string;
  /** 1-based, per build, gap-free. */
  seq: number;
  /** ISO 8601 time of the append. */
  at: string;
  type: EventType;
  phase: PhaseName | null;
  /** The phase attempt the event belongs to (0 when not inside an attempt). */
  attempt: number;
  data: EventData;
}

/** What a caller supplies to append; the store fills in buildId, seq and at. */
export interface NewEvent {
  type: EventType;
  phase?: PhaseName | null;
  attempt?: number;
  data?: EventData;
}

/** Intent events and the result that completes each (crash-safety protocol). */
export const INTENT_RESULT: Readonly<Partial<Record<EventType, EventType>>> = {
  'server.create.requested': 'server.created',
  'server.poweron.requested': 'server.poweron.accepted',
  'server.poweroff.requested': 'server.poweroff.accepted',
  'snapshot.create.requested': 'snapshot.created',
  'image.create.requested': 'image.created',
  'private_nic.create.requested': 'private_nic.created',
  'private_nic.delete.requested': 'private_nic.deleted',
  'server.delete.requested': 'server.deleted',
  'volume.delete.requested': 'volume.deleted',
  'snapshot.delete.requested': 'snapshot.deleted',
  'image.delete.requested': 'image.deleted',
  'block_volume.create.requested': 'block_volume.created',
  'volume.iops.requested': 'volume.iops.updated',
  'volume_snapshot.create.requested': 'volume_snapshot.created',
  'checkpoint.snapshot.requested': 'checkpoint.snapshot.created',
  'checkpoint.image.requested': 'checkpoint.image.created',
};

/** The build's lifecycle events: its start, its end, a resume, a clean-up by `kiln gc`. */
const LIFECYCLE: readonly EventType[] = ['build.started', 'build.resumed', 'build.interrupted', 'build.failed', 'build.succeeded', 'build.cleaned'];

/**
 * Whether an append holding this event must reach the disk before it returns (SQLite
 * `synchronous=FULL`: it survives power loss). The others are committed with NORMAL, which a
 * process crash cannot lose but power loss can, and cost no fsync (~3 ms each, 50 appends a
 * build). An intent must be on disk before the call it announces; in WAL mode its commit takes
 * every earlier event to disk with it. A result lost with the power is an intent without a
 * result, which resume already reconciles. The lifecycle events are kept too, so that the
 * start and the end of a build survive.
 */
export function mustReachDisk(type: EventType): boolean {
  return type in INTENT_RESULT || LIFECYCLE.includes(type);
}

/** The results that record an API call which changed the cloud: each is a point where a crash
 * leaves a change the log does not know of (KILN_CRASH_AFTER_CALL, src/engine/crash.ts). */
export const CLOUD_CHANGE_RESULTS: readonly EventType[] = [...new Set([...Object.values(INTENT_RESULT), 'volume.tagged' as const])];

/** `build.started`'s `simulator` for a build run by `kiln build --sim`: its cloud lived in that process. */
export const EMBEDDED_SIMULATOR = 'embedded';
