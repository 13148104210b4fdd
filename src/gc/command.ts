// The `kiln gc` command's implementation (its options are declared in src/cli/commands/gc.ts and
// resolved by options.ts): runs gc, prints the table and summary (or JSON), and sets the exit
// code: 0 done, 1 some deletions failed, 2 bad input.
import { armCrashPoint } from '../engine/crash.js';
import { EMBEDDED_SIMULATOR, SIMULATOR_ENDED } from '../engine/embedded-sim.js';
import { deleteKeyPair } from '../engine/keys.js';
import { recordedTarget } from '../template/target.js';
import { formatDuration } from '../template/duration.js';
import {
  BuildIdError,
  hostStateDir,
  openStore,
  resolveStoreLocation,
  storeProblemMessage,
  StoreLocationError,
  UnknownBuildError,
  type BuildStore,
  type StoreLocation,
} from '../store/index.js';
import { runGc, type GcReport } from './index.js';
import { STOPPED } from './remove.js';

/** The exit code of a gc stopped by a signal (as of an interrupted build). */
const EXIT_INTERRUPTED = 130;
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
  let location: StoreLocation | undefined;
  try {
    const options = await resolveGcOptions(args);
    try {
      location = resolveStoreLocation(args.db);
    } catch (error) {
      throw error instanceof StoreLocationError ? new GcUsageError(error.message) : error;
    }
    store = await openStore(location, { onLockWait: (path) => err.write(`kiln gc: the event store ${path} is locked by another process; waiting for it (up to 30 s)…\n`) });
    armCrashPoint(store);
    let buildFilter = args.build;
    let where: Partial<Pick<typeof options, 'apiUrl' | 'zones'>> = {};
    if (buildFilter !== undefined) {
      // A known build may be named by a prefix, as elsewhere in kiln; an unknown id is taken as
      // given (its resources may come from another machine).
      try {
        const record = await store.findBuild(buildFilter);
        buildFilter = record.id;
        if ((await store.lastEvent(record.id, 'build.started'))?.data.simulator === EMBEDDED_SIMULATOR) {
          throw new GcUsageError(SIMULATOR_ENDED(record.id));
        }
        // A known build's resources are where it ran (its recorded zone and API URL), not where
        // the shell points; --zone, --all-zones and --api-url still choose for themselves.
        const target = recordedTarget(record.spec);
        if (target) {
          where = {
            ...(args.apiUrl === undefined ? { apiUrl: target.apiUrl } : {}),
            ...(args.zone === undefined && !args.allZones ? { zones: [target.zone] } : {}),
          };
        }
      } catch (error) {
        if (!(error instanceof BuildIdError)) throw error;
        if (!(error instanceof UnknownBuildError)) throw new GcUsageError(`--build: ${error.message}`);
      }
    }
    const stateDir = hostStateDir(location);
    // Progress on stderr as each deletion ends (n/total), and the first SIGINT/SIGTERM stops at a
    // safe point: the deletions in flight finish, no new one starts, the summary says what is left.
    let total = 0;
    let done = 0;
    const stopping = new AbortController();
    let stoppedBy: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stoppedBy) process.exit(EXIT_INTERRUPTED);
      stoppedBy = signal;
      err.write(`kiln gc: ${signal} received: finishing the deletions in flight, starting no more (press Ctrl-C again to exit at once)\n`);
      stopping.abort();
    };
    if (args.force) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    let report: GcReport;
    try {
      report = await runGc({
        ...options,
        ...where,
        store,
        // The build's key pair lives in this machine's state directory (KILN_STATE_DIR, else beside a SQLite database).
        removeKey: (buildId) => deleteKeyPair(stateDir, buildId),
        ...(buildFilter !== undefined ? { buildFilter } : {}),
        stop: stopping.signal,
        ...(args.json
          ? {}
          : {
              onPlanned: (items) => (total = items.filter((item) => item.action !== 'keep').length),
              onResult: (item, result) => {
                if (result === STOPPED) return;
                done += 1;
                err.write(`${result.status} ${item.type} ${item.id}${result.reason ? `: ${result.reason}` : ''} (${done}/${total})\n`);
              },
            }),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (args.json) {
      out.write(JSON.stringify(reportJson(report)) + '\n');
    } else {
      if (report.items.length > 0) {
        const results = report.dryRun ? undefined : report.results;
        out.write(renderTable(report.items, { now: report.now, showZone: report.zones.length > 1, ...(results ? { results } : {}) }) + '\n\n');
      }
      out.write(renderSummary({ items: report.items, zones: report.zones, ...(report.dryRun ? {} : { results: report.results, cleanedBuilds: report.cleanedBuilds }) }) + '\n');
    }
    if (stoppedBy) {
      const planned = report.results.filter((r) => r !== undefined);
      const left = planned.filter((r) => r === STOPPED).length;
      const removed = planned.filter((r) => r.status === 'removed').length;
      err.write(
        `kiln gc: stopped by ${stoppedBy}: removed ${removed} of ${planned.length}; ` +
          `${left} left untouched (listed as skipped). Run \`kiln gc --force\` again to remove them.\n`,
      );
      return EXIT_INTERRUPTED;
    }
    return report.exitCode;
  } catch (error) {
    if (error instanceof GcUsageError) {
      err.write(`kiln gc: ${error.message}\n`);
      return 2;
    }
    const problem = location?.kind === 'sqlite' ? storeProblemMessage(error, location.path) : undefined;
    err.write(problem ? `kiln gc: ${problem}\n` : `kiln gc: ${describeError(error)}\nRun the command again once the cause is fixed.\n`);
    return 1;
  } finally {
    await store?.close();
  }
}
