// `kiln build`'s build-cache flags (incremental builds): --cache, --cache-max-age,
// --checkpoint-after, as the engine's CacheSettings of each build. Flags rather than template
// keys, so that a template stays valid for Packer.
import { DEFAULT_CACHE_MAX_AGE_MS, type CacheMode, type CacheSettings } from '../../engine/index.js';
import { CheckpointFlagError, checkpointPositions } from '../../template/cache-key.js';
import { parseDuration } from '../../template/index.js';
import type { BuildSpec } from '../../template/spec.js';

export const CACHE_MODES = ['on', 'read', 'off'] as const satisfies readonly CacheMode[];

export interface CacheArgs {
  cache: CacheMode;
  'cache-max-age'?: string;
  'checkpoint-after'?: (string | number)[];
  'explain-cache': boolean;
}

/** A bad cache flag: what, and what to write instead (exit 2). */
export class CacheFlagError extends Error {
  override readonly name = 'CacheFlagError';
}

const DAY_MS = 24 * 3_600_000;

/** An age as the cache's flags take it: days (7d, 1.5d) or a Go duration (36h, 90m); undefined if neither. */
export function parseAge(text: string): number | undefined {
  const days = /^(\d+(?:\.\d+)?)d$/.exec(text.trim());
  return days ? Math.round(Number(days[1]) * DAY_MS) : parseDuration(text);
}

/** `--cache-max-age`: days (7d, 1.5d) or a Go duration (36h, 90m); a positive age. */
export function parseMaxAge(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CACHE_MAX_AGE_MS;
  const ms = parseAge(text);
  if (ms === undefined || ms <= 0) throw new CacheFlagError(`--cache-max-age "${text}" is not a positive age. Use days or a duration, such as 7d, 36h or 90m.`);
  return ms;
}

/** Each build's cache settings (the positions of --checkpoint-after depend on its provisioners). */
export function cacheSettingsOf(argv: CacheArgs, spec: BuildSpec): CacheSettings {
  const maxAgeMs = parseMaxAge(argv['cache-max-age']);
  const values = (argv['checkpoint-after'] ?? []).map(String);
  try {
    return { mode: argv.cache, maxAgeMs, checkpointAfter: values.length > 0 ? checkpointPositions(spec.provisioners, values) : [] };
  } catch (error) {
    if (error instanceof CheckpointFlagError) throw new CacheFlagError(`build ${spec.name}: ${error.message}`);
    throw error;
  }
}
