// `kiln db copy`: a local SQLite history into the shared PostgreSQL store, build by build, each
// build (row and log) in one transaction; a build the target already has is left alone, so an
// interrupted copy is simply run again.
import { leaseIsLive, type BuildStore } from './api.js';
import type { PgEventStore } from './postgres.js';

export interface CopyReport {
  copied: string[];
  /** Already in the target (copied before): not written again. */
  alreadyThere: string[];
  /** Still driven by a live process: its log is still growing; copy it once it ends. */
  running: string[];
}

export async function copyBuilds(from: BuildStore, to: PgEventStore): Promise<CopyReport> {
  const report: CopyReport = { copied: [], alreadyThere: [], running: [] };
  // Oldest first, so that the target lists them in the same order.
  for (const record of (await from.listBuilds()).reverse()) {
    if (record.status === 'running' && leaseIsLive(record.lease)) {
      report.running.push(record.id);
      continue;
    }
    const copied = await to.importBuild(record, await from.events(record.id));
    (copied ? report.copied : report.alreadyThere).push(record.id);
  }
  return report;
}
