// The `kiln gc` command's implementation (its options are declared in src/cli/commands/gc.ts and
// resolved by options.ts): runs gc, prints the table and summary (or JSON), and sets the exit
// code: 0 done, 1 some deletions failed, 2 bad input.
import { armCrashPoint } from '../engine/crash.js';
import { deleteKeyPair } from '../engine/keys.js';
import { formatDuration } from '../template/duration.js';
import { hostStateDir, openStore, resolveStoreLocation, UnknownBuildError, type BuildStore } from '../store/index.js';
import { runGc, type GcReport } from './index.js';
import { renderSummary, renderTable } from './render.js';
import { summarizePlan } from './plan.js';
import { describeError, GcUsageError } from './errors.js';
import { resolveGcOptions, type GcArgs } from './options.js';

/** The JSON form of a report: the plan and, after --force, each resource's result. */
export function reportJson(report: GcReport) {
  const summary = summarizePlan(report.items);
  const counted = (status: string) => report.results.filter((r) => r?.status === status).length;
  return {
    runId: report.runId,
    dryRun: report.dryRun,
    zones: report.zones,
    olderThan: formatDuration(report.olderThanMs),
    build: report.buildFilter ?? null,
    resources: report.items.map((item, index) => ({
      type: item.type,
      id: item.id,
      name: item.name,
      zone: item.zone,
      build: item.buildId ?? null,
      createdAt: item.createdAt === undefined ? null : new Date(item.createdAt).toISOString(),
      ageSeconds: item.createdAt === undefined ? null : Math.max(0, Math.floor((report.now - item.createdAt) / 1000)),
      state: item.state,
      action: item.action,
      reason: item.reason,
      ...(item.serverId !== undefined ? { serverId: item.serverId } : {}),
      ...(item.api ? { api: item.api } : {}),
      result: report.results[index] ?? null,
    })),
    summary: {
      found: summary.found,
      orphans: summary.orphanTotal,
      orphansByType: summary.orphans,
      kept: summary.kept,
      removed: counted('removed'),
      failed: counted('failed'),
      skipped: counted('skipped'),
      untaggedIgnored: report.untaggedIgnored,
    },
    cleanedBuilds: report.cleanedBuilds,
    exitCode: report.exitCode,
  };
}

/** Runs `kiln gc`; returns the process exit code. */
export async function gcMain(args: GcArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let store: BuildStore | undefined;
  try {
    const options = await resolveGcOptions(args);
    const location = resolveStoreLocation(args.db);
    store = await openStore(location);
    armCrashPoint(store);
    let buildFilter = args.build;
    if (buildFilter !== undefined) {
      // A known build may be named by a prefix, as elsewhere in kiln; an unknown id is taken as
      // given (its resources may come from another machine).
      try {
        buildFilter = (await store.findBuild(buildFilter)).id;
      } catch (error) {
        if (!(error instanceof UnknownBuildError)) throw new GcUsageError(`--build: ${(error as Error).message}`);
      }
    }
    const progress = !args.json && (err as NodeJS.WriteStream).isTTY === true;
    const report = await runGc({
      ...options,
      store,
      // The build's key pair lives in this machine's state directory (KILN_STATE_DIR, else beside a SQLite database).
      removeKey: (buildId) => deleteKeyPair(hostStateDir(location), buildId),
      ...(buildFilter !== undefined ? { buildFilter } : {}),
      ...(progress
        ? { onResult: (item, result) => err.write(`${result.status} ${item.type} ${item.id}${result.reason ? `: ${result.reason}` : ''}\n`) }
        : {}),
    });
    if (args.json) {
      out.write(JSON.stringify(reportJson(report)) + '\n');
    } else {
      if (report.items.length > 0) {
        const results = report.dryRun ? undefined : report.results;
        out.write(renderTable(report.items, { now: report.now, showZone: report.zones.length > 1, ...(results ? { results } : {}) }) + '\n\n');
      }
      out.write(renderSummary({ items: report.items, zones: report.zones, ...(report.dryRun ? {} : { results: report.results, cleanedBuilds: report.cleanedBuilds }) }) + '\n');
    }
    return report.exitCode;
  } catch (error) {
    if (error instanceof GcUsageError) {
      err.write(`kiln gc: ${error.message}\n`);
      return 2;
    }
    err.write(`kiln gc: ${describeError(error)}\nRun the command again once the cause is fixed.\n`);
    return 1;
  } finally {
    await store?.close();
  }
}
