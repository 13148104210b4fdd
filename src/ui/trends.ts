// Phase durations across the builds of one template (pure): for each phase, each build's duration
// and the median and p90 of the latest builds up to it, so that a chart shows which phase got
// slower and when. A phase's duration is the one `BuildStore.phaseHistory` and `kiln show`'s
// "usually" read: the `durationMs` of its `phase.succeeded` event.
import type { BuildEvent } from '../store/index.js';

/** Builds whose durations make one point's median and p90 (the point's build and those before it). */
export const TREND_WINDOW = 10;

export interface BuildPhases {
  buildId: string;
  /** Epoch ms of the build's start. */
  at: number;
  /** Phase key (`provision #1` for a provisioner) → its duration in that build. */
  durations: Map<string, number>;
}

export interface PhaseTrend {
  phase: string;
  /** Parallel arrays, oldest build first; null where the build did not run the phase. */
  at: number[];
  buildIds: string[];
  value: (number | null)[];
  median: (number | null)[];
  p90: (number | null)[];
  /** The latest window's median against the one before it (undefined without two windows' worth). */
  change?: { latestMedian: number; previousMedian: number; ratio: number };
}

/** A change worth a reader's eye: a fifth or more, and at least this much (small phases jitter by large ratios). */
const NOTABLE_RATIO = 1.2;
const NOTABLE_MS = 250;

/** Whether the phase got slower, faster, or stayed about the same between the two windows. */
export function changeKind(change: PhaseTrend['change']): 'slower' | 'faster' | 'same' | undefined {
  if (!change) return undefined;
  const delta = change.latestMedian - change.previousMedian;
  if (change.ratio >= NOTABLE_RATIO && delta >= NOTABLE_MS) return 'slower';
  if (change.ratio <= 1 / NOTABLE_RATIO && -delta >= NOTABLE_MS) return 'faster';
  return 'same';
}

/** The p-quantile (0..1) of sorted values, by linear interpolation between the closest ranks. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** The phases a build's log says succeeded, with their durations (a phase that ran twice, after a resume, counts its last run). */
export function phaseDurations(buildId: string, events: readonly BuildEvent[]): BuildPhases {
  const durations = new Map<string, number>();
  for (const e of events) {
    if (e.type !== 'phase.succeeded' || !e.phase || typeof e.data.durationMs !== 'number' || e.data.reason === 'failure') continue;
    const key = typeof e.data.provisionerIndex === 'number' ? `${e.phase} #${e.data.provisionerIndex}` : e.phase;
    durations.set(key, e.data.durationMs);
  }
  return { buildId, at: events.length > 0 ? Date.parse(events[0]!.at) : 0, durations };
}

/** One trend per phase, in the order the builds ran them. `builds` in any order. */
export function phaseTrends(builds: readonly BuildPhases[], window: number = TREND_WINDOW): PhaseTrend[] {
  const ordered = [...builds].sort((a, b) => a.at - b.at);
  const phases: string[] = [];
  for (const b of ordered) for (const key of b.durations.keys()) if (!phases.includes(key)) phases.push(key);
  return phases.map((phase) => {
    const value = ordered.map((b) => b.durations.get(phase) ?? null);
    const seen: number[] = [];
    const median: (number | null)[] = [];
    const p90: (number | null)[] = [];
    for (const v of value) {
      if (v !== null) seen.push(v);
      const last = [...seen.slice(-window)].sort((x, y) => x - y);
      median.push(v === null || last.length === 0 ? null : quantile(last, 0.5));
      p90.push(v === null || last.length === 0 ? null : quantile(last, 0.9));
    }
    const trend: PhaseTrend = { phase, at: ordered.map((b) => b.at), buildIds: ordered.map((b) => b.buildId), value, median, p90 };
    if (seen.length >= 4) {
      // The latest builds (up to a window) against as many before them.
      const half = Math.min(window, Math.floor(seen.length / 2));
      const latestMedian = quantile([...seen.slice(-half)].sort((x, y) => x - y), 0.5);
      const previousMedian = quantile([...seen.slice(-2 * half, -half)].sort((x, y) => x - y), 0.5);
      trend.change = { latestMedian, previousMedian, ratio: previousMedian > 0 ? latestMedian / previousMedian : 1 };
    }
    return trend;
  });
}
