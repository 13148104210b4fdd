// Wait predictions: how long a state change (a boot, a stop, a snapshot, an image…) usually takes,
// learnt from the waits kiln recorded before with the same key. A pure function of the recorded
// waits, feeding the polling schedule next to it (poll.ts): with a prediction, a wait sleeps until
// the early end of the expected window, places a few looks across it, then backs off as without one.

/** What makes two waits comparable: same zone, machine, root volume and kind of wait. */
export interface WaitKey {
  /** The kind of wait: "server.boot", "server.stop", "snapshot", "image", … */
  wait: string;
  zone: string;
  /** The server's commercial type ("DEV1-S"), or "" when the wait does not depend on it. */
  commercialType: string;
  /** The volume type ("l_ssd", "b_ssd", "sbs_5k"), or "" when not relevant. */
  volumeType: string;
  /** The volume size rounded up to a power of two GB ("32GB"), or "". */
  sizeClass: string;
}

/** One past wait, as recorded in a `wait.finished` event. */
export interface WaitRecord {
  key: WaitKey;
  /** From the action that started the change to the look that saw it done. */
  durationMs: number;
  /** From the action to the last look that saw it not done yet (the change happened after it). */
  lastMissMs?: number;
  /**
   * The duration on the API's own clock, when the answers carried it: from the API's stamp of the
   * action (a power task's `started_at`, a created resource's `creation_date`) to its stamp of the
   * change (the resource's `modification_date` or `updated_at` in the look that saw it done). Exact
   * however late the look came, so it is preferred to the look-based durations above — when it is
   * no longer than `durationMs` (else it cannot be right, and the looks count).
   */
  apiDurationMs?: number;
  /** False when the wait did not see the change from its start (a resumed build): not a sample. */
  whole: boolean;
}

/** When a change is expected: `expectedMs ± spreadMs` after the action that started it. */
export interface WaitPrediction {
  expectedMs: number;
  spreadMs: number;
  /** How many past waits it is based on. */
  samples: number;
}

/** Fewer past waits than this: no prediction, the plain schedule. */
export const MIN_SAMPLES = 3;
/** Only the most recent waits count: the cloud's speed drifts. */
export const MAX_SAMPLES = 20;
/** The window never gets narrower than this share of the expected duration on each side. */
const MIN_SPREAD_FRACTION = 0.05;

/** The smallest power of two ≥ `gb`, as a size class ("32GB"); "" for an unknown size. */
export function sizeClassOf(bytes: number | undefined): string {
  if (!bytes || bytes <= 0) return '';
  const gb = bytes / 1e9;
  return `${2 ** Math.max(0, Math.ceil(Math.log2(gb)))}GB`;
}

export function sameWaitKey(a: WaitKey, b: WaitKey): boolean {
  return a.wait === b.wait && a.zone === b.zone && a.commercialType === b.commercialType && a.volumeType === b.volumeType && a.sizeClass === b.sizeClass;
}

/**
 * The prediction for a wait with `key` from past waits (oldest first), or undefined when fewer than
 * MIN_SAMPLES whole waits share the key. A past wait's duration is the API's own (apiDurationMs)
 * when recorded; otherwise (older events, a cloud without stamps) it lies between the last miss and
 * the hit, and the midpoint is taken. The window (durationWindow) is the observed range widened on
 * each side by one average gap between samples, where the next sample of the same spread is likely
 * to fall.
 */
export function predictWait(history: readonly WaitRecord[], key: WaitKey): WaitPrediction | undefined {
  const durations: number[] = [];
  for (let i = history.length - 1; i >= 0 && durations.length < MAX_SAMPLES; i--) {
    const r = history[i]!;
    if (!r.whole || !sameWaitKey(r.key, key) || !(r.durationMs >= 0)) continue;
    // The API's duration cannot be longer than the look-based one: the action was stamped after kiln
    // sent it and the change before the look that saw it came back. Longer, the clocks disagree.
    if (typeof r.apiDurationMs === 'number' && r.apiDurationMs >= 0 && r.apiDurationMs <= r.durationMs) {
      durations.push(r.apiDurationMs);
      continue;
    }
    const low = r.lastMissMs !== undefined && r.lastMissMs >= 0 && r.lastMissMs <= r.durationMs ? r.lastMissMs : r.durationMs;
    durations.push((low + r.durationMs) / 2);
  }
  return sinceShift(durations) ?? durationWindow(durations);
}

/**
 * The window of the most recent waits alone, when the cloud's speed has changed: the newest k
 * durations (k ≥ MIN_SAMPLES, the largest such k) have a window that does not overlap the window
 * of the older ones (≥ MIN_SAMPLES too). Then the older ones describe a cloud that is gone, and a
 * median over all of them would follow the change only once half of the samples kept have moved
 * (MAX_SAMPLES / 2 builds, each looking at the old time); this follows it after MIN_SAMPLES. Two
 * windows widened by their samples' gaps do not come apart by chance in a steady cloud.
 * `newestFirst`: durations, newest first. Undefined when there is no such shift.
 */
function sinceShift(newestFirst: readonly number[]): WaitPrediction | undefined {
  for (let k = newestFirst.length - MIN_SAMPLES; k >= MIN_SAMPLES; k--) {
    const recent = durationWindow(newestFirst.slice(0, k))!;
    const older = durationWindow(newestFirst.slice(k))!;
    const apart = recent.expectedMs + recent.spreadMs < older.expectedMs - older.spreadMs || recent.expectedMs - recent.spreadMs > older.expectedMs + older.spreadMs;
    if (apart) return recent;
  }
  return undefined;
}

/**
 * The usual duration and its window from past durations (any order), or undefined with fewer than
 * MIN_SAMPLES: the median ± the distance from the shortest sample to it, widened by one average gap
 * between the samples below the median (where the next short one is likely to fall), and at least
 * MIN_SPREAD_FRACTION of the median. The window is measured on the short side only: a rare very
 * long wait (an incident) must not thin out the looks of every later wait; a wait that runs past
 * the window backs off anyway. The shortest twentieth is left out (one of MAX_SAMPLES), so that one
 * glitch does not open every later window early.
 */
export function durationWindow(pastDurations: readonly number[]): WaitPrediction | undefined {
  const durations = [...pastDurations];
  if (durations.length < MIN_SAMPLES) return undefined;
  durations.sort((a, b) => a - b);
  const n = durations.length;
  const middle = Math.floor((n - 1) / 2);
  const median = n % 2 === 1 ? durations[middle]! : (durations[middle]! + durations[middle + 1]!) / 2;
  const shortest = Math.floor(n / 20);
  const lo = durations[shortest]!;
  const gap = middle > shortest ? (median - lo) / (middle - shortest) : 0;
  const spread = Math.max(median - lo + gap, MIN_SPREAD_FRACTION * median);
  return { expectedMs: Math.round(median), spreadMs: Math.round(spread), samples: n };
}
