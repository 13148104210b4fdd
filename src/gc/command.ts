// The `kiln gc` command's implementation (its options are declared in src/cli/commands/gc.ts):
// turns flags, environment and the Scaleway config file into GcOptions, runs gc, prints the
// table and summary (or JSON), and sets the exit code: 0 done, 1 some deletions failed, 2 bad input.
import { armCrashPoint } from '../engine/crash.js';
import { deleteKeyPair } from '../engine/keys.js';
import { normalizeZone } from '../scaleway/index.js';
import { DEFAULT_API_URL, ZONES } from '../template/builder.js';
import { ENV_NAMES, readScalewayConfig, type ScalewaySettings, type SettingName } from '../template/credentials.js';
import { parseDuration, formatDuration } from '../template/duration.js';
import { Problems, formatProblems } from '../template/errors.js';
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
import { renderSummary, renderTable } from './render.js';
import { summarizePlan } from './plan.js';
import { DEFAULT_SERVER_STOP_TIMEOUT_MS, describeError } from './remove.js';

export interface GcArgs {
  olderThan?: string;
  zone?: string;
  allZones?: boolean;
  build?: string;
  force?: boolean;
  json?: boolean;
  db?: string;
  apiUrl?: string;
  waitTimeout?: string;
}

const DEFAULT_ZONE = 'fr-par-1';
const DEFAULT_OLDER_THAN_MS = 3_600_000;

/** A mistake in how kiln gc was called (exit code 2). */
export class GcUsageError extends Error {
  override readonly name = 'GcUsageError';
}

function duration(flag: 'older-than' | 'wait-timeout', text: string): number {
  const ms = parseDuration(text);
  const zeroAllowed = flag === 'older-than';
  if (ms === undefined || ms < 0 || (ms === 0 && !zeroAllowed)) {
    throw new GcUsageError(
      `--${flag} "${text}" is not a ${zeroAllowed ? '' : 'positive '}duration. Use a number with a unit, such as 90s, 30m, 2h or 1h30m` +
        (zeroAllowed ? ' (0 for any age).' : '.'),
    );
  }
  return ms;
}

/** Environment first (current, then legacy names), then the Scaleway config file: as the template loader reads them. */
async function scalewaySettings(env: NodeJS.ProcessEnv): Promise<ScalewaySettings> {
  const problems = new Problems();
  const file = await readScalewayConfig(env, undefined, problems);
  if (problems.count > 0) throw new GcUsageError(formatProblems(problems.list).replace(/^the template has/, 'the Scaleway settings have'));
  const settings: ScalewaySettings = { ...file.settings };
  for (const [name, vars] of Object.entries(ENV_NAMES) as Array<[SettingName, { current: string; legacy?: string }]>) {
    const value = env[vars.current] || (vars.legacy ? env[vars.legacy] : undefined);
    if (value) settings[name] = value;
  }
  return settings;
}

/** Validates the flags and settings into runGc's options (everything but the store). */
export async function resolveGcOptions(args: GcArgs, env: NodeJS.ProcessEnv = process.env) {
  // The flags first: a typo is reported before any file or credential is looked at.
  if (args.zone !== undefined && args.allZones) throw new GcUsageError('--zone and --all-zones exclude each other: give one of them.');
  // With --build the user points at one build's leftovers (as `kiln build --on-error abort`
  // suggests): any age, unless they ask otherwise.
  const olderThanMs =
    args.olderThan !== undefined ? duration('older-than', args.olderThan) : args.build !== undefined ? 0 : DEFAULT_OLDER_THAN_MS;
  const serverStopTimeoutMs = args.waitTimeout !== undefined ? duration('wait-timeout', args.waitTimeout) : DEFAULT_SERVER_STOP_TIMEOUT_MS;

  const settings = await scalewaySettings(env);
  if (!settings.secretKey) {
    throw new GcUsageError('no Scaleway secret key: set SCW_SECRET_KEY, or secret_key in the Scaleway config file (~/.config/scw/config.yaml).');
  }
  let zones: string[];
  if (args.allZones) zones = [...ZONES];
  else {
    const given = args.zone ?? settings.zone ?? DEFAULT_ZONE;
    const where = args.zone !== undefined ? '--zone' : 'the default zone (SCW_DEFAULT_ZONE or default_zone in the Scaleway config file)';
    let zone: string;
    try {
      zone = normalizeZone(given);
    } catch (error) {
      throw new GcUsageError(`${where}: ${(error as Error).message}`);
    }
    if (!(ZONES as readonly string[]).includes(zone)) {
      throw new GcUsageError(`${where}: "${given}" is not a Scaleway zone; zones are ${ZONES.join(', ')}.`);
    }
    zones = [zone];
  }
  return {
    apiUrl: args.apiUrl ?? settings.apiUrl ?? DEFAULT_API_URL,
    secretKey: settings.secretKey,
    ...(settings.projectId ? { projectId: settings.projectId } : {}),
    zones,
    olderThanMs,
    force: args.force === true,
    serverStopTimeoutMs,
  };
}

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
    if (buildFilter !== undefined) {
      // A known build may be named by a prefix, as elsewhere in kiln; an unknown id is taken as
      // given (its resources may come from another machine).
      try {
        buildFilter = (await store.findBuild(buildFilter)).id;
      } catch (error) {
        if (!(error instanceof BuildIdError)) throw error;
        if (!(error instanceof UnknownBuildError)) throw new GcUsageError(`--build: ${error.message}`);
      }
    }
    const stateDir = hostStateDir(location);
    const progress = !args.json && (err as NodeJS.WriteStream).isTTY === true;
    const report = await runGc({
      ...options,
      store,
      // The build's key pair lives in this machine's state directory (KILN_STATE_DIR, else beside a SQLite database).
      removeKey: (buildId) => deleteKeyPair(stateDir, buildId),
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
    const problem = location?.kind === 'sqlite' ? storeProblemMessage(error, location.path) : undefined;
    err.write(problem ? `kiln gc: ${problem}\n` : `kiln gc: ${describeError(error)}\nRun the command again once the cause is fixed.\n`);
    return 1;
  } finally {
    await store?.close();
  }
}
