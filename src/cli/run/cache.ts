// `kiln cache ls`, `kiln cache rm` and `kiln gc --cache` (incremental builds): the checkpoints of the
// build cache — this store's and, by tag in the cloud, a teammate's — listed, and removed with
// their snapshots (dry run unless --force). The survey, the rules and the removal are gc's
// (src/gc/cache.ts, cache-remove.ts); this file reads the flags and prints.
import { basename } from 'node:path';
import type { BuildStore } from '../../store/index.js';
import {
  describeError,
  formatAge,
  formatColumns,
  GcDiscoveryError,
  GcUsageError,
  judgeCache,
  renderTable,
  selectCheckpoints,
  surveyCache,
  zoneClients,
  type CacheEntry,
  type CacheVerdict,
  removeCheckpoints,
  type CacheRemoval,
} from '../../gc/index.js';
import { resolveGcOptions, type GcArgs } from '../../gc/options.js';
import { DEFAULT_CACHE_MAX_AGE_MS } from '../../engine/index.js';
import { formatDuration } from '../../template/duration.js';
import { parseAge } from './cache-flags.js';
import { EXIT } from './exit.js';
import { openStoreFor, storeFailure } from './open-store.js';

export interface CacheCommandArgs extends Pick<GcArgs, 'zone' | 'allZones' | 'apiUrl' | 'db' | 'json' | 'force'> {
  /** `kiln cache rm`'s keys or image ids. */
  names?: string[];
}

export interface GcCacheArgs extends GcArgs {
  cache?: boolean;
  keep?: number;
}


const GB = 1e9;
const size = (bytes: number | null) => (bytes === null ? '?' : bytes >= GB ? `${(bytes / GB).toFixed(1)} GB` : `${Math.max(1, Math.round(bytes / 1e6))} MB`);
const short = (key: string) => key.slice(0, 12);

function templateOf(e: CacheEntry): string {
  if (!e.templatePath) return e.builderName ? e.builderName : '(not in this store)';
  return `${basename(e.templatePath)}${e.builderName ? ` (${e.builderName})` : ''}`;
}

function provisionerOf(e: CacheEntry): string {
  if (e.provisionerIndex === null) return '?';
  return `${e.provisionerIndex}${e.provisionerType ? ` (${e.provisionerType})` : ''}`;
}

/** The JSON form of one checkpoint (also under each verdict of `cache rm --json` and `gc --cache --json`). */
export function entryJson(e: CacheEntry, now: number) {
  return {
    key: e.key,
    zone: e.zone,
    status: e.status,
    imageId: e.imageId,
    imageState: e.imageState,
    snapshots: e.snapshots,
    build: e.buildId,
    template: e.templatePath,
    builder: e.builderName,
    provisionerIndex: e.provisionerIndex,
    provisionerType: e.provisionerType,
    createdAt: e.createdAt === undefined ? null : new Date(e.createdAt).toISOString(),
    ageSeconds: e.createdAt === undefined ? null : Math.max(0, Math.floor((now - e.createdAt) / 1000)),
    sizeBytes: e.sizeBytes,
    hits: e.hits,
    savesPerHitMs: e.reachMs,
    savedMs: e.reachMs === null ? null : e.hits * e.reachMs,
    foundIn: e.foundIn,
    usedBy: e.usedBy,
  };
}

/** The table of `kiln cache ls`. */
export function renderCacheTable(entries: readonly CacheEntry[], now: number, showZone: boolean): string {
  const header = ['KEY', 'TEMPLATE', 'PROVISIONER', 'AGE', 'SIZE', 'HITS', 'SAVED', 'IMAGE', 'STATUS'];
  if (showZone) header.splice(1, 0, 'ZONE');
  const rows = entries.map((e) => {
    const row = [
      short(e.key),
      templateOf(e),
      provisionerOf(e),
      e.createdAt === undefined ? '?' : formatAge(Math.max(0, now - e.createdAt)),
      size(e.sizeBytes),
      String(e.hits),
      e.reachMs === null ? '?' : formatDuration(e.hits * e.reachMs),
      e.imageId ?? '-',
      e.status + (e.usedBy.length > 0 ? `, in use by ${e.usedBy.join(', ')}` : '') + (e.foundIn === 'cloud' ? ', found by tag' : ''),
    ];
    if (showZone) row.splice(1, 0, e.zone);
    return row;
  });
  return formatColumns([header, ...rows]);
}

/** Resolves the settings, opens the store and surveys the cache; every failure told in kiln's words. */
async function withCache<T>(
  command: string,
  args: GcArgs,
  err: NodeJS.WritableStream,
  run: (o: { store: BuildStore; entries: CacheEntry[]; now: number; options: Awaited<ReturnType<typeof resolveGcOptions>>; clients: ReturnType<typeof zoneClients> }) => Promise<T>,
): Promise<T | number> {
  let options: Awaited<ReturnType<typeof resolveGcOptions>>;
  try {
    options = await resolveGcOptions(args);
  } catch (error) {
    if (!(error instanceof GcUsageError)) throw error;
    err.write(`kiln ${command}: ${error.message}\n`);
    return EXIT.invalid;
  }
  const opened = await openStoreFor(command, args.db, err);
  if ('exitCode' in opened) return opened.exitCode;
  const { store } = opened;
  try {
    const clients = zoneClients(options);
    const now = Date.now();
    const entries = await surveyCache(store, clients, options.apiUrl, options.projectId);
    return await run({ store, entries, now, options, clients });
  } catch (error) {
    if (error instanceof GcUsageError) {
      err.write(`kiln ${command}: ${error.message}\n`);
      return EXIT.invalid;
    }
    const problem = storeFailure(error);
    err.write(`kiln ${command}: ${problem ?? describeError(error)}\n${error instanceof GcDiscoveryError ? '' : 'Run the command again once the cause is fixed.\n'}`);
    return EXIT.failed;
  } finally {
    await store.close();
  }
}

/** `kiln cache ls`. */
export async function cacheLsMain(args: CacheCommandArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const code = await withCache('cache ls', args, err, async ({ entries, now, options }) => {
    if (args.json) {
      out.write(JSON.stringify(entries.map((e) => entryJson(e, now))) + '\n');
      return EXIT.ok;
    }
    if (entries.length === 0) {
      out.write(`No checkpoints in ${options.zones.join(', ')}. \`kiln build --checkpoint-after N\` makes one (see "Incremental builds" in the README).\n`);
      return EXIT.ok;
    }
    const saved = entries.reduce((sum, e) => sum + (e.reachMs ?? 0) * e.hits, 0);
    const bytes = entries.reduce((sum, e) => sum + (e.sizeBytes ?? 0), 0);
    out.write(renderCacheTable(entries, now, options.zones.length > 1) + '\n\n');
    out.write(`${entries.length} checkpoint${entries.length === 1 ? '' : 's'}, ${size(bytes)} of snapshots; hits saved ${formatDuration(saved)} of provisioning. ` + 'Remove with `kiln cache rm <key|image-id>` or `kiln gc --cache`.\n');
    return EXIT.ok;
  });
  return code;
}

/** Prints a removal's plan or results, as `kiln gc` prints its own, and returns its exit code. */
function printRemoval(command: string, removal: CacheRemoval, now: number, json: boolean, out: NodeJS.WritableStream, showZone: boolean): number {
  if (json) {
    out.write(
      JSON.stringify({
        runId: removal.runId,
        dryRun: removal.dryRun,
        checkpoints: removal.verdicts.map((v) => ({ ...entryJson(v.entry, now), action: v.remove ? 'delete' : 'keep', reason: v.reason })),
        resources: removal.items.map((item, i) => ({ type: item.type, id: item.id, zone: item.zone, ...(item.api ? { api: item.api } : {}), action: item.action, reason: item.reason, result: removal.results[i] ?? null })),
        exitCode: removal.exitCode,
      }) + '\n',
    );
    return removal.exitCode;
  }
  const going = removal.verdicts.filter((v) => v.remove);
  if (removal.items.length > 0) out.write(renderTable(removal.items, { now, showZone, ...(removal.dryRun ? {} : { results: removal.results }) }) + '\n\n');
  const kept = removal.verdicts.length - going.length;
  if (going.length === 0) out.write(`${command}: nothing to remove (${kept} checkpoint${kept === 1 ? '' : 's'} kept).\n`);
  else if (removal.dryRun) {
    out.write(`${command}: ${going.length} checkpoint${going.length === 1 ? '' : 's'} would be removed with ${going.reduce((n, v) => n + v.entry.snapshots.length, 0)} snapshot(s), ${kept} kept. Nothing was changed; run again with --force to remove them.\n`);
  } else {
    const failed = removal.results.filter((r) => r && r.status !== 'removed').length;
    out.write(`${command}: removed ${going.length} checkpoint${going.length === 1 ? '' : 's'} (${removal.results.filter((r) => r?.status === 'removed').length} images and snapshots), ${failed} failed, ${kept} kept.${failed > 0 ? ` Run \`${command} --force\` again to retry the failed ones.` : ''}\n`);
  }
  return removal.exitCode;
}

/** `kiln cache rm <key|image-id…>`. */
export async function cacheRmMain(args: CacheCommandArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const names = (args.names ?? []).map(String).filter((n) => n.trim() !== '');
  if (names.length === 0) {
    err.write('kiln cache rm: name at least one checkpoint, by its key (or its first 8 characters) or its image id; `kiln cache ls` lists them.\n');
    return EXIT.invalid;
  }
  return withCache('cache rm', args, err, async ({ store, entries, now, options, clients }) => {
    const { verdicts, problems } = selectCheckpoints(entries, names);
    if (problems.length > 0) {
      err.write(problems.map((p) => `kiln cache rm: ${p}\n`).join('') + 'Nothing was changed.\n');
      return EXIT.invalid;
    }
    const removal = await removeCheckpoints(verdicts, { store, clients, apiUrl: options.apiUrl, zones: options.zones, olderThanMs: 0, force: options.force });
    return printRemoval('kiln cache rm', removal, now, args.json === true, out, options.zones.length > 1);
  });
}

/** `kiln gc --cache [--older-than 7d] [--keep N]`. */
export async function gcCacheMain(args: GcCacheArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (args.build !== undefined) {
    err.write('kiln gc: --cache and --build exclude each other: checkpoints outlive their builds. Name checkpoints with `kiln cache rm <key|image-id>` instead.\n');
    return EXIT.invalid;
  }
  if (args.keep !== undefined && (!Number.isInteger(args.keep) || args.keep < 0)) {
    err.write(`kiln gc: --keep ${String(args.keep)} is not a count: give a whole number, 0 or more (the newest checkpoints kept per template and provisioner).\n`);
    return EXIT.invalid;
  }
  // Without --older-than: with --keep, any age (keep the newest N, remove the rest); alone, the cache's default max age.
  let olderThanMs = args.keep !== undefined ? 0 : DEFAULT_CACHE_MAX_AGE_MS;
  if (args.olderThan !== undefined) {
    const ms = parseAge(args.olderThan);
    if (ms === undefined || ms < 0) {
      err.write(`kiln gc: --older-than "${args.olderThan}" is not a duration. Use a number with a unit, such as 7d, 2h or 30m (0 for any age).\n`);
      return EXIT.invalid;
    }
    olderThanMs = ms;
  }
  return withCache('gc', { ...args, olderThan: '0' }, err, async ({ store, entries, now, options, clients }) => {
    const verdicts: CacheVerdict[] = judgeCache(entries, { now, olderThanMs, ...(args.keep !== undefined ? { keep: args.keep } : {}) });
    const removal = await removeCheckpoints(verdicts, { store, clients, apiUrl: options.apiUrl, zones: options.zones, olderThanMs, force: options.force });
    return printRemoval('kiln gc --cache', removal, now, args.json === true, out, options.zones.length > 1);
  });
}

