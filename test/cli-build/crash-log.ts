// What the crash matrix (crash-matrix.ts) checks in a build's event log once a case has been
// brought to its end: the log a user, `kiln show`, resume and gc read must be whole and honest
// whatever the kill point, not only the cloud.
import assert from 'node:assert/strict';
import { INTENT_RESULT, type BuildEvent, type BuildStatus, type EventData, type EventType } from '../../src/store/index.js';

/** The status each lifecycle event leaves a build in (DESIGN.md, "The spine"; src/store/projection.ts). */
const STATUS_AFTER: Partial<Record<EventType, BuildStatus>> = {
  'build.started': 'running',
  'build.resumed': 'running',
  'build.interrupted': 'interrupted',
  'build.failed': 'failed',
  'build.succeeded': 'succeeded',
  'build.cleaned': 'cleaned',
};

/** The status the log itself says the build ended in (its last lifecycle event). */
export function statusOfLog(events: readonly BuildEvent[]): BuildStatus | undefined {
  return events.map((e) => STATUS_AFTER[e.type]).filter((s) => s !== undefined).at(-1);
}

const RESULT_INTENT = new Map(Object.entries(INTENT_RESULT).map(([intent, result]) => [result as EventType, intent as EventType]));

/** The data fields that tell one resource (one item of tracked.ts) from another of the same kind. */
const ITEM_KEYS = ['serverId', 'volumeId', 'snapshotId', 'imageId', 'nicId', 'privateNetworkId', 'name', 'key', 'api'];

/** Whether two events of one intent/result pair are about the same item: no identifying field differs. */
function sameItem(a: EventData, b: EventData): boolean {
  return ITEM_KEYS.every((k) => !(k in a) || !(k in b) || a[k] === b[k]);
}

function describe(e: BuildEvent): string {
  const item = Object.fromEntries(ITEM_KEYS.filter((k) => k in e.data).map((k) => [k, e.data[k]]));
  return `#${e.seq} ${e.type} (${e.phase ?? 'no phase'}) ${JSON.stringify(item)}`;
}

export interface LogCheck {
  /** How the case was brought to its end: a resume, or `kiln gc` (which removes what an intent left without recording a result). */
  endedBy: 'resume' | 'gc';
}

/**
 * The log after recovery:
 * - seq runs 1, 2, 3… with no gap and no repeat;
 * - every result of an intent/result pair (INTENT_RESULT) closes exactly one open intent of the same
 *   item: never a result without its intent, never two results for one intent;
 * - every intent is closed by its result (answered or `reconciled`), or made again by a later
 *   process: an intent left open is followed by `build.resumed` before the same item's next intent
 *   (the process that appended it died; its successor reconciled and found nothing, or repeated a
 *   delete or an action). The matrix injects no ambiguous API failure, the one other reason;
 * - after a resume no intent is left open; after gc one may be (gc removes by tags and records
 *   only the build's `build.cleaned`), and the cloud check proves nothing of it is left.
 */
export function checkLog(events: readonly BuildEvent[], o: LogCheck): void {
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    'seq numbers run 1, 2, 3… with no gap',
  );
  const open: BuildEvent[] = [];
  const problems: string[] = [];
  for (const e of events) {
    if (e.type in INTENT_RESULT) {
      const earlier = open.findIndex((i) => i.type === e.type && sameItem(i.data, e.data));
      if (earlier >= 0) {
        const left = open[earlier]!;
        if (!events.some((r) => r.type === 'build.resumed' && r.seq > left.seq && r.seq < e.seq)) {
          problems.push(`${describe(left)} has no result, yet the same process made its call again (${describe(e)})`);
        }
        open.splice(earlier, 1);
      }
      open.push(e);
      continue;
    }
    const intent = RESULT_INTENT.get(e.type);
    if (!intent) continue;
    const index = open.findLastIndex((i) => i.type === intent && sameItem(i.data, e.data));
    if (index < 0) problems.push(`${describe(e)} closes no open ${intent}: a result recorded twice, or without its intent`);
    else open.splice(index, 1);
  }
  if (o.endedBy === 'resume') for (const left of open) problems.push(`${describe(left)} has no result after the resume`);
  assert.deepEqual(problems, [], 'every intent has exactly one result (or was made again after a crash)');
}
