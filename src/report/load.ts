// Reading one build for its report, through the store interface `kiln show` uses (read-only).
import type { BuildRecord, BuildStore } from '../store/index.js';
import { buildReport, type BuildReport } from './model.js';

/** What the report and `kiln ui` may ask of a store: reads only (the UI never writes). */
export type StoreReader = Pick<BuildStore, 'location' | 'findBuild' | 'getBuild' | 'listBuildSummaries' | 'events' | 'phaseHistory' | 'clock' | 'gcRuns'>;

/** The report of `record` (found with `store.findBuild`), from its log and the phase history of its template. */
export async function loadBuildReport(store: StoreReader, record: BuildRecord): Promise<BuildReport> {
  const [events, past, now] = await Promise.all([
    store.events(record.id),
    store.phaseHistory({ templateHash: record.templateHash, builderName: record.builderName, excludeBuildId: record.id }),
    store.clock(),
  ]);
  return buildReport(record, events, past, now);
}
