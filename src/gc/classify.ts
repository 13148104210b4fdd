// The orphan rules of `kiln gc` (issue 7), as pure functions: given a resource, what the local
// store knows of its build, the time and this host, decide whether the resource is an orphan and
// say why. Everything that touches the world (the clock, the process table) comes in as input.
import { formatDuration } from '../template/duration.js';
import { buildIdOf, CACHE_TAG, KILN_TAG, type GcBuild, type GcLease, type GcResource } from './types.js';

export interface ClassifyContext {
  /** Epoch ms: this machine's clock, against the cloud's creation dates. */
  now: number;
  /** The store's clock (epoch ms, `BuildStore.clock`), by which another host's lease expires; default `now`. */
  leaseNow?: number;
  /** Where this process's pids are (`pidSpaceOf`, store/api.ts): a lease's pid is checked only there. */
  pidSpace: string | null;
  /** Resources younger than this are left alone (ms; 0 = any age). */
  olderThanMs: number;
  /** Whether a process with this pid exists in this pid space. */
  pidAlive: (pid: number) => boolean;
  /** The build the user named with `--build`: its snapshots and images may go even when this
   * store never saw it (the user vouches that they are not an artifact). */
  namedBuild?: string;
}

export interface Verdict {
  orphan: boolean;
  reason: string;
}

export interface LeaseVerdict {
  alive: boolean;
  reason: string;
}

/** Whether a build's lease still protects it. A holder in this pid space (same boot, same pid
 * namespace: not merely the same host name, which containers share) is judged by its process (a
 * dead pid frees the lease at once, a live one keeps it even past expiry: it may just be slow to
 * renew); any other holder, which gc cannot see, is trusted until the lease expires. */
export function leaseVerdict(lease: GcLease, ctx: Pick<ClassifyContext, 'now' | 'leaseNow' | 'pidSpace' | 'pidAlive'>): LeaseVerdict {
  if (lease.pidSpace !== null && lease.pidSpace === ctx.pidSpace) {
    return ctx.pidAlive(lease.pid)
      ? { alive: true, reason: `live build: its lease is held by pid ${lease.pid} on this host` }
      : { alive: false, reason: `its process (pid ${lease.pid} on this host) is gone` };
  }
  return lease.expiresAt > (ctx.leaseNow ?? ctx.now)
    ? { alive: true, reason: `live build: its lease is held by ${lease.host} until ${new Date(lease.expiresAt).toISOString()}` }
    : { alive: false, reason: `its lease from ${lease.host} expired at ${new Date(lease.expiresAt).toISOString()}` };
}

/** Why a build's resources may go, or null when the build is alive or finished well. */
function deadBuildReason(build: GcBuild, ctx: ClassifyContext): { dead: boolean; reason: string } {
  const lease = build.lease ? leaseVerdict(build.lease, ctx) : undefined;
  if (lease?.alive) return { dead: false, reason: lease.reason };
  switch (build.status) {
    case 'succeeded':
      return { dead: false, reason: `build ${build.id} succeeded: what it left is the user's` };
    case 'failed':
      return { dead: true, reason: `build ${build.id} failed` };
    case 'cleaned':
      return { dead: true, reason: `build ${build.id} was already cleaned` };
    case 'interrupted':
      return { dead: true, reason: `build ${build.id} was interrupted and nothing holds its lease` };
    default:
      // `running` (or any state in between) without a live lease: the build was killed.
      return {
        dead: true,
        reason: lease
          ? `build ${build.id} was killed: ${lease.reason}`
          : `build ${build.id} is marked ${build.status} but nothing holds its lease`,
      };
  }
}

/** Human form of an age in ms: `45s`, `12m`, `3h`, `2d`. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/**
 * Decides whether one resource is an orphan (issue 7):
 * - an untagged resource is never touched, whatever its name;
 * - a live build (lease held) is never touched;
 * - snapshots and images of a build that finished with an artifact are the user's;
 * - checkpoints of the build cache (tagged kiln-cache) are the cache's, whatever their build became;
 * - otherwise a resource whose build failed, was interrupted or killed, was cleaned, or is unknown
 *   to this store is an orphan once it is older than `olderThanMs`.
 * Volumes and IPs attached to a server are decided by the plan, together with their server.
 * `build` is undefined when the store has no such build.
 */
export function classifyResource(resource: GcResource, build: GcBuild | undefined, ctx: ClassifyContext): Verdict {
  if (!resource.tags.includes(KILN_TAG)) return { orphan: false, reason: 'not tagged kiln: never touched' };
  const buildId = buildIdOf(resource.tags);
  if (buildId === undefined) {
    return { orphan: false, reason: 'tagged kiln but names no build (no kiln-build=<id> tag): left alone' };
  }
  // A checkpoint of the build cache outlives the build that made it, even a failed one (its last
  // provisioner failing is when a checkpoint helps most): never an orphan of that build.
  if (resource.tags.includes(CACHE_TAG)) {
    return { orphan: false, reason: `a checkpoint of the build cache (made by build ${buildId}): gc leaves checkpoints; delete one by its image and snapshots` };
  }
  if (build?.keptIds?.includes(resource.id)) {
    return { orphan: false, reason: `kept on purpose by build ${build.id} (keep_server): the user's` };
  }
  const isArtifactKind = resource.type === 'snapshot' || resource.type === 'image';

  let why: string;
  if (build) {
    if (isArtifactKind && (build.hasArtifact || build.status === 'succeeded')) {
      return { orphan: false, reason: `artifact of build ${build.id}: the user's` };
    }
    const verdict = deadBuildReason(build, ctx);
    if (!verdict.dead) return { orphan: false, reason: verdict.reason };
    why = verdict.reason;
  } else {
    if (isArtifactKind && ctx.namedBuild !== buildId) {
      return {
        orphan: false,
        reason: `build ${buildId} is unknown to this store and this may be its artifact: remove it with --build ${buildId}`,
      };
    }
    why = `build ${buildId} is unknown to this store`;
  }

  if (ctx.olderThanMs > 0) {
    // IPs carry no creation date; a dead build created nothing after its last event, so that
    // time bounds the resource's age from below.
    const createdAt = resource.createdAt ?? build?.updatedAt;
    if (createdAt === undefined) {
      return { orphan: false, reason: `${why}, but its age is unknown: kept unless --older-than 0` };
    }
    const age = ctx.now - createdAt;
    if (age < ctx.olderThanMs) {
      return { orphan: false, reason: `${why}, but it is younger than --older-than ${formatDuration(ctx.olderThanMs)}` };
    }
  }
  return { orphan: true, reason: why };
}
