// The tags by which kiln finds what a build owns (resume's reconcile, gc's discovery).
import type { PhaseName } from '../../machines/phases.js';

export const KILN_TAG = 'kiln';
export const buildTag = (buildId: string): string => `kiln-build=${buildId}`;
export const phaseTag = (phase: PhaseName): string => `kiln-phase=${phase}`;

/** Tags for a resource a phase creates: kiln's own, then the user's (deduplicated, in order). */
export function resourceTags(buildId: string, phase: PhaseName | null, userTags: readonly string[]): string[] {
  const own = [KILN_TAG, buildTag(buildId), ...(phase ? [phaseTag(phase)] : [])];
  return [...new Set([...own, ...userTags])];
}

/** True when `tags` mark a resource created by this build's `phase`. */
export function createdBy(tags: readonly string[], buildId: string, phase: PhaseName): boolean {
  return tags.includes(buildTag(buildId)) && tags.includes(phaseTag(phase));
}

// The build cache (incremental builds): a checkpoint's snapshots and image carry these besides the
// build's own tags, so that any runner finds them by key (and gc tells them from a build's leftovers).
export const CACHE_TAG = 'kiln-cache';
const CACHE_KEY_PREFIX = 'kiln-cache-key=';
const CACHE_STEP_PREFIX = 'kiln-cache-step=';
const CACHE_REACH_PREFIX = 'kiln-cache-reach-ms=';
/** A final image's lineage: the checkpoint it was built from, by key and by image. */
const CACHE_FROM_PREFIX = 'kiln-cache-from=';
const CACHE_FROM_IMAGE_PREFIX = 'kiln-cache-from-image=';

export const cacheKeyTag = (key: string): string => `${CACHE_KEY_PREFIX}${key}`;

/** The store's answer-cache key of a zone's list of checkpoint images (the hit lookup's; gc forgets it after a removal). */
export const checkpointListCacheKey = (apiUrl: string, zone: string): string => `${apiUrl} ${zone} images tagged ${CACHE_TAG}`;

/** The tags of a checkpoint's snapshots and image: the key, the provisioner it follows, and what it saves. */
export function checkpointTags(key: string, provisionerIndex: number, reachMs: number | null): string[] {
  return [CACHE_TAG, cacheKeyTag(key), `${CACHE_STEP_PREFIX}${provisionerIndex}`, ...(reachMs !== null ? [`${CACHE_REACH_PREFIX}${Math.round(reachMs)}`] : [])];
}

/** The lineage tags of a final image built from a checkpoint. */
export const lineageTags = (key: string, imageId: string): string[] => [`${CACHE_FROM_PREFIX}${key}`, `${CACHE_FROM_IMAGE_PREFIX}${imageId}`];

/** What a checkpoint's tags say of it (undefined for a resource that is not one). */
export function checkpointOf(tags: readonly string[]): { key: string; provisionerIndex: number | undefined; reachMs: number | undefined } | undefined {
  if (!tags.includes(CACHE_TAG)) return undefined;
  const value = (prefix: string) => tags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
  const key = value(CACHE_KEY_PREFIX);
  if (!key) return undefined;
  const number = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);
  return { key, provisionerIndex: number(value(CACHE_STEP_PREFIX)), reachMs: number(value(CACHE_REACH_PREFIX)) };
}

/** The checkpoint a final image was built from, from its lineage tags. */
export function lineageOf(tags: readonly string[]): { key: string; imageId: string } | undefined {
  const key = tags.find((t) => t.startsWith(CACHE_FROM_PREFIX))?.slice(CACHE_FROM_PREFIX.length);
  const imageId = tags.find((t) => t.startsWith(CACHE_FROM_IMAGE_PREFIX))?.slice(CACHE_FROM_IMAGE_PREFIX.length);
  return key && imageId ? { key, imageId } : undefined;
}
