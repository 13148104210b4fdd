// Where a build makes checkpoints when no flag says (incremental builds): a pure function of
// recorded events, as the waits' predictions are. After provisioner i when the time past builds
// took to get there from the last checkpoint — the provisioners of the same keys, so the same
// template up to there — clearly exceeds what a checkpoint costs here: past checkpoints of this
// zone and server type, or else the waits a checkpoint is made of (stop, snapshot, image, boot).
import type { CacheHistoryEntry } from '../store/index.js';

/** "Clearly exceeds": provisioning worth at least this many checkpoints' cost… */
export const CHECKPOINT_WORTH = 2;
/** …and a minute at least: a checkpoint saving less is not worth the image it keeps in the cloud. */
export const MIN_SAVING_MS = 60_000;

export interface PlacementInput {
  /** This build's key after each provisioner. */
  keys: readonly string[];
  /** Past builds that checked the cache (BuildStore.cacheHistory). */
  history: readonly CacheHistoryEntry[];
  /** Checkpoint costs are learnt for the same zone and server type. */
  here: { zone: string; commercialType: string };
  /** A checkpoint's cost when no past checkpoint of this kind is known, ms. */
  fallbackCostMs: number;
}

export interface Placement {
  /** After which provisioners (0-based, never the last). */
  positions: number[];
  /** What a checkpoint costs here, ms, and whether past checkpoints say so (or the fallback). */
  costMs: number;
  costLearnt: boolean;
  /** How long each provisioner usually takes (median of past builds with its key); undefined: never seen. */
  provisionerMs: (number | undefined)[];
}

const median = (values: readonly number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function placeCheckpoints(input: PlacementInput): Placement {
  const past = input.history.map((h) => ({ keys: Array.isArray(h.checked.keys) ? (h.checked.keys as unknown[]).map(String) : [], checked: h.checked, phases: h.phases }));
  const costs = past
    .filter((h) => h.checked.zone === input.here.zone && h.checked.commercialType === input.here.commercialType)
    .flatMap((h) => h.phases.filter((p) => p.phase === 'checkpoint' && typeof p.facts?.checkpointMade === 'string' && typeof p.durationMs === 'number').map((p) => p.durationMs!));
  const learnt = median(costs);
  const costMs = learnt ?? input.fallbackCostMs;
  const provisionerMs = input.keys.map((key, index) =>
    median(
      past
        .filter((h) => h.keys[index] === key)
        .flatMap((h) => h.phases.filter((p) => p.phase === 'provision' && p.provisionerIndex === index && typeof p.durationMs === 'number').map((p) => p.durationMs!)),
    ),
  );
  const positions: number[] = [];
  let since = 0;
  for (let i = 0; i < input.keys.length - 1; i++) {
    const ms = provisionerMs[i];
    // A provisioner never seen with this key: nothing is known from here on.
    if (ms === undefined) break;
    since += ms;
    if (since >= Math.max(CHECKPOINT_WORTH * costMs, MIN_SAVING_MS)) {
      positions.push(i);
      since = 0;
    }
  }
  return { positions, costMs, costLearnt: learnt !== undefined, provisionerMs };
}
