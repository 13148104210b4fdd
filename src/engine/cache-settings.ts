// The build cache's settings (incremental builds): what `kiln build --cache`, `--cache-max-age` and
// `--checkpoint-after` ask for, and how a resume finds them again in the build's log. Apart from
// cache.ts so that the runtime can carry them without importing the lookup.
import type { BuildEvent } from '../store/index.js';

/** `--cache`: on (use checkpoints and make them), read (use, never make), off (neither). */
export type CacheMode = 'on' | 'read' | 'off';

export interface CacheSettings {
  mode: CacheMode;
  /** `--cache-max-age`: an older checkpoint is a miss (non-deterministic provisioners drift). */
  maxAgeMs: number;
  /** `--checkpoint-after`, as provisioner positions of the build (cache-key.ts's checkpointPositions). */
  checkpointAfter: number[];
}

export const DEFAULT_CACHE_MAX_AGE_MS = 7 * 24 * 3_600_000;

/** The cache settings a build started with (its build.started event): a resume goes on with them. */
export function recordedCacheSettings(events: readonly BuildEvent[]): CacheSettings | undefined {
  const recorded = events.find((e) => e.type === 'build.started')?.data.cache as Partial<CacheSettings> | undefined;
  if (!recorded || !['on', 'read', 'off'].includes(String(recorded.mode))) return undefined;
  return {
    mode: recorded.mode!,
    maxAgeMs: typeof recorded.maxAgeMs === 'number' ? recorded.maxAgeMs : DEFAULT_CACHE_MAX_AGE_MS,
    checkpointAfter: Array.isArray(recorded.checkpointAfter) ? recorded.checkpointAfter.filter((n) => typeof n === 'number') : [],
  };
}
