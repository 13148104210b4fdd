// A build's status and duration as people are told them: `kiln ls`, `kiln show`, the HTML report
// and `kiln ui` say the same.
import { EMBEDDED_SIMULATOR, leaseIsLive, type BuildEvent, type BuildSummary, type BuildStore } from '../store/index.js';

/** A build's duration as `kiln ls` gives it: its first event to its last. */
export function durationMs(b: BuildSummary): number {
  return Date.parse(b.updatedAt) - Date.parse(b.createdAt);
}

/** A `kiln build --sim` build whose process is gone: its simulator, and all it built, went with it. */
export const SIMULATOR_GONE = 'failed (simulator gone)';

/** Recorded as running, but the process that ran it is gone (its lease expired). */
export function processGone(b: BuildSummary, now: number): boolean {
  return b.status === 'running' && !leaseIsLive(b.lease, now);
}

/**
 * A build recorded as running whose process is gone (killed, crashed): `kiln resume` continues it —
 * unless it ran against the simulator embedded in `kiln build --sim` (`embeddedSim`, from
 * `endedWithSimulator`): that one ended with its process. `now` is the store's clock
 * (`BuildStore.clock`): a lease written by another host expires by it.
 */
export function displayStatus(b: BuildSummary, now: number, embeddedSim = false): string {
  if (!processGone(b, now)) return b.status;
  return embeddedSim ? SIMULATOR_GONE : 'running (process gone: kiln resume)';
}

/**
 * The builds among `builds` whose process is gone and whose `build.started` says they ran against
 * the embedded simulator: decided when read, from the record, since nothing was left to write
 * their end (kill -9). One look-up per such build; running builds with a live process cost none.
 */
export async function endedWithSimulator(store: Pick<BuildStore, 'lastEvent'>, builds: readonly BuildSummary[], now: number): Promise<Set<string>> {
  const ended = new Set<string>();
  for (const b of builds) {
    if (!processGone(b, now)) continue;
    const started = await store.lastEvent(b.id, 'build.started');
    if (started?.data.simulator === EMBEDDED_SIMULATOR) ended.add(b.id);
  }
  return ended;
}

/** Whether a build's log says it ran against the simulator embedded in `kiln build --sim`. */
export function ranOnEmbeddedSim(events: readonly BuildEvent[]): boolean {
  return events.some((e) => e.type === 'build.started' && e.data.simulator === EMBEDDED_SIMULATOR);
}
