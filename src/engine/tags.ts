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
