// Reading one build for people, through the store interface and with reads only: its events, how
// long its phases took in other builds of its template, and the store's clock (a lease written by
// another host expires by it). `kiln show`, the HTML report and `kiln ui` read a build this way.
import type { BuildEvent, BuildRecord, BuildStore, PhaseDuration } from '../store/index.js';

export interface BuildReading {
  events: BuildEvent[];
  /** The phases of other builds of the same template and builder, for "usually takes". */
  past: PhaseDuration[];
  /** The store's clock, epoch ms. */
  now: number;
}

export async function readBuild(store: Pick<BuildStore, 'events' | 'phaseHistory' | 'clock'>, record: BuildRecord): Promise<BuildReading> {
  const [events, past, now] = await Promise.all([
    store.events(record.id),
    store.phaseHistory({ templateHash: record.templateHash, builderName: record.builderName, excludeBuildId: record.id }),
    store.clock(),
  ]);
  return { events, past, now };
}
