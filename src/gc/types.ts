// The vocabulary of `kiln gc`: a cloud resource as gc sees it, the facts gc needs about a build
// from the local store, and the plan/result rows that the table, --json and the store record share.
import { buildTag } from '../engine/tags.js';

export const RESOURCE_TYPES = ['server', 'volume', 'snapshot', 'image', 'ip'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** One cloud resource, reduced to what classification, the table and deletion need. Built from
 * the API's wire objects one page at a time; the page itself is not kept. */
export interface GcResource {
  type: ResourceType;
  id: string;
  name: string;
  zone: string;
  tags: readonly string[];
  /** Epoch ms; undefined when the API gives no date (IPs have none). */
  createdAt: number | undefined;
  state: string;
  /** volume, ip: the server it is attached to. */
  serverId?: string;
  /** server: its root volume (created with it, possibly before kiln could tag it). */
  rootVolumeId?: string;
  /** `block`: an SBS volume or snapshot, deleted through the Block API. */
  api?: 'block';
}

/** The lease of a build (DESIGN.md, "Concurrency"). */
export interface GcLease {
  pid: number;
  host: string;
  /** Where `pid` can be checked (store/api.ts, pidSpaceOf); null: nowhere, only expiry frees it. */
  pidSpace: string | null;
  /** Epoch ms. */
  expiresAt: number;
}

/** What gc needs to know about a build from the local store. */
export interface GcBuild {
  id: string;
  /** `running`, `succeeded`, `failed`, `interrupted`, or gc's own `cleaned`. */
  status: string;
  /** True when the build finished with an image: its snapshot and image are the user's. */
  hasArtifact: boolean;
  lease: GcLease | null;
  /** Epoch ms of the build's last event: a dead build created nothing after it. */
  updatedAt: number;
  /** The server and volumes the build kept on purpose (keep_server): never orphans. */
  keptIds?: readonly string[];
}

/** What gc will do with a resource: delete it, delete it as part of its server, or leave it. */
export type PlanAction = 'delete' | 'with-server' | 'keep';

export interface PlanItem {
  type: ResourceType;
  id: string;
  name: string;
  zone: string;
  /** The `kiln-build=<id>` tag's value. */
  buildId: string | undefined;
  createdAt: number | undefined;
  state: string;
  action: PlanAction;
  reason: string;
  /** volume, ip: the server it is attached to. */
  serverId?: string;
  /** `block`: an SBS volume or snapshot, deleted through the Block API. */
  api?: 'block';
}

export type ResultStatus = 'removed' | 'failed' | 'skipped';

export interface ItemResult {
  status: ResultStatus;
  /** Why it failed or was skipped, or a note such as "already gone". */
  reason?: string;
}

export { CACHE_TAG, KILN_TAG } from '../engine/tags.js';
/** `kiln-build=<id>` is `buildTag(id)` (src/engine/tags.ts); gc reads it back. */
export const BUILD_TAG_PREFIX = buildTag('');

/** The build id from a resource's `kiln-build=<id>` tag, if any. */
export function buildIdOf(tags: readonly string[]): string | undefined {
  const tag = tags.find((t) => t.startsWith(BUILD_TAG_PREFIX));
  return tag === undefined ? undefined : tag.slice(BUILD_TAG_PREFIX.length) || undefined;
}
