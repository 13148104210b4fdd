// The one store interface (DESIGN.md, "The spine"): what the engine, ls, show, resume and gc may
// ask of an event store, whichever database holds it. The SQLite store answers synchronously
// (an embedded database: no I/O worth waiting for), the PostgreSQL store with promises; callers
// that serve both `await` each answer. Also what both stores share: the lease rule, the errors,
// and the mapping of a row (same column names in both dialects) to a record.
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { PhaseName } from '../../machines/phases.js';
import { isPhaseName } from '../../machines/phases.js';
import type { CacheHistoryEntry, CheckpointClaim, CheckpointMade, CheckpointRecord } from './checkpoints.js';
import type { BuildEvent, BuildStatus, EventData, EventType, NewEvent, OnError } from './events.js';
import type { BuildRecord, BuildSummary, Lease } from './projection.js';

export type MaybePromise<T> = T | Promise<T>;

export interface NewBuild {
  id: string;
  templatePath: string;
  templateHash: string;
  builderName: string;
  /** Must already be redacted (`redactSpec`): the store keeps it as given. */
  spec: unknown;
  onError: OnError;
}

/**
 * Who takes a lease. `token` alone decides whether a lease is one's own: pid and host name repeat
 * across containers (pid 1 in each, one `--hostname` for a whole CI pool). `pid` and `host` are for
 * people to read; `pidSpace` says where `pid` means something (see pidSpaceOf).
 */
export interface LeaseOwner {
  token: string;
  pid: number;
  host: string;
  pidSpace: string | null;
}

/** This process's token: random, made once per process. */
const PROCESS_TOKEN = randomUUID();

/**
 * Where a pid names one process: this kernel boot (boot_id) and this pid namespace (its inode), as
 * `<boot id>/<namespace inode>`; null where /proc does not tell (another OS, /proc not mounted).
 * Two processes with the same pid space can check each other's pid; two containers on one host
 * (one boot id, two namespaces), or two machines, cannot.
 */
export function pidSpaceOf(procRoot = '/proc', ownNamespace = `${procRoot}/self/ns/pid`): string | null {
  try {
    const boot = readFileSync(`${procRoot}/sys/kernel/random/boot_id`, 'utf8').trim();
    const namespace = /^pid:\[(\d+)\]$/.exec(readlinkSync(ownNamespace))?.[1];
    return boot && namespace ? `${boot}/${namespace}` : null;
  } catch {
    return null;
  }
}

let ownPidSpace: string | null | undefined;
export const thisProcess = (): LeaseOwner => ({ token: PROCESS_TOKEN, pid: process.pid, host: hostname(), pidSpace: (ownPidSpace ??= pidSpaceOf()) });

export type EventListener = (event: BuildEvent) => void;

export interface PhaseDuration {
  phase: string;
  provisionerIndex?: number;
  durationMs: number;
}

/** A `kiln gc` run as it starts (the gc_runs audit log: a run never finished was killed). */
export interface GcRunStart {
  dryRun: boolean;
  host: string;
  pid: number;
  zones: readonly string[];
  olderThanMs: number;
  buildFilter: string | undefined;
}

/** What a `kiln gc` run found and did, recorded as it ends (gc decides the entries' shape). */
export interface GcRunEnd {
  found: readonly object[];
  removed: readonly object[];
  notRemoved: readonly object[];
  cleanedBuilds: readonly string[];
  exitCode: number;
}

export interface GcRunRecord extends GcRunStart {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  found: unknown[];
  removed: unknown[];
  notRemoved: unknown[];
  cleanedBuilds: string[];
  exitCode: number | null;
}

export interface GcRunRow {
  id: number;
  started_at: string;
  finished_at: string | null;
  dry_run: number;
  host: string;
  pid: number;
  zones: string;
  older_than_ms: number;
  build_filter: string | null;
  found: string;
  removed: string;
  not_removed: string;
  cleaned_builds: string;
  exit_code: number | null;
}

export function toGcRun(row: GcRunRow): GcRunRecord {
  return {
    id: row.id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    dryRun: row.dry_run === 1,
    host: row.host,
    pid: row.pid,
    zones: JSON.parse(row.zones) as string[],
    olderThanMs: row.older_than_ms,
    buildFilter: row.build_filter ?? undefined,
    found: JSON.parse(row.found) as unknown[],
    removed: JSON.parse(row.removed) as unknown[],
    notRemoved: JSON.parse(row.not_removed) as unknown[],
    cleanedBuilds: JSON.parse(row.cleaned_builds) as string[],
    exitCode: row.exit_code,
  };
}

/** The values of a gc run's start, in the order both stores' INSERT lists them. */
export function gcRunStartColumns(run: GcRunStart): [string, number, string, number, string, number, string | null] {
  return [new Date().toISOString(), run.dryRun ? 1 : 0, run.host, run.pid, JSON.stringify(run.zones), run.olderThanMs, run.buildFilter ?? null];
}

/** The values of a gc run's end, in the order both stores' UPDATE lists them. */
export function gcRunEndColumns(run: GcRunEnd): [string, string, string, string, string, number] {
  return [new Date().toISOString(), JSON.stringify(run.found), JSON.stringify(run.removed), JSON.stringify(run.notRemoved), JSON.stringify(run.cleanedBuilds), run.exitCode];
}

export interface BuildStore {
  /** Where the store lives, for messages: a file path, or a URL without its password. */
  readonly location: string;
  close(): MaybePromise<void>;
  /** Called after each committed append. A listener that throws is ignored: the log comes first. */
  subscribe(listener: EventListener): () => void;
  /** Creates the build's row and appends its first event, in one transaction. */
  createBuild(build: NewBuild, first: NewEvent): MaybePromise<BuildEvent>;
  append(buildId: string, event: NewEvent): MaybePromise<BuildEvent>;
  /**
   * Appends several events (e.g. a batch of provisioner output) in one transaction. With
   * `expect.afterSeq`, only if the build's log still ends there (else LogMovedError, nothing
   * written): a writer that retries after a lost answer never records twice.
   */
  appendMany(buildId: string, events: NewEvent[], expect?: { afterSeq: number }): MaybePromise<BuildEvent[]>;
  getBuild(id: string): MaybePromise<BuildRecord | undefined>;
  /** A build by its full id or an unambiguous prefix (as `git` does for commits). */
  findBuild(idOrPrefix: string): MaybePromise<BuildRecord>;
  /** Builds, newest first. */
  listBuilds(filter?: { status?: BuildStatus }): MaybePromise<BuildRecord[]>;
  /** Builds, newest first, with only what a listing shows (fast with thousands of builds). */
  listBuildSummaries(filter?: { status?: BuildStatus }): MaybePromise<BuildSummary[]>;
  /** A build's events in order; `withoutOutput` leaves out `provision.output` (it carries no state). */
  events(buildId: string, options?: { afterSeq?: number; withoutOutput?: boolean }): MaybePromise<BuildEvent[]>;
  /** The build's latest event of `type`, without reading the rest of its log. */
  lastEvent(buildId: string, type: EventType): MaybePromise<BuildEvent | undefined>;
  /** The data of the latest `limit` `wait.finished` events of all builds, oldest first. */
  waitHistory(limit?: number): MaybePromise<EventData[]>;
  /** How long each phase took in other builds of the same template and builder (latest `scan` finished phases). */
  phaseHistory(of: { templateHash: string; builderName: string; excludeBuildId: string }, scan?: number): MaybePromise<PhaseDuration[]>;
  /** A cached answer under `key` that has not expired, or undefined. */
  cached<T>(key: string): MaybePromise<T | undefined>;
  /** Keeps `value` under `key` for `ttlMs`. */
  cache(key: string, value: unknown, ttlMs: number): MaybePromise<void>;
  /** Forgets the cached answer under `key` (it proved wrong). */
  uncache(key: string): MaybePromise<void>;
  /**
   * Takes the build's lease for `owner` for `ttlMs` by the store's clock. A live foreign lease is
   * refused (LeaseHeldError); an expired one, or one held by a dead process on this host, is taken over.
   */
  acquireLease(buildId: string, owner: LeaseOwner, ttlMs: number): MaybePromise<Lease>;
  /** Extends the lease if `owner` still holds it; false when it was lost. */
  renewLease(buildId: string, owner: LeaseOwner, ttlMs: number): MaybePromise<boolean>;
  releaseLease(buildId: string, owner: LeaseOwner): MaybePromise<void>;
  /** The store's clock (epoch ms), by which leases expire: every host judges a lease by the same time. */
  clock(): MaybePromise<number>;
  /** Records a `kiln gc` run as it starts; returns its id for finishGcRun. */
  startGcRun(run: GcRunStart): MaybePromise<number>;
  finishGcRun(id: number, run: GcRunEnd): MaybePromise<void>;
  /** The recorded gc runs, oldest first. */
  gcRuns(): MaybePromise<GcRunRecord[]>;

  // The build cache (checkpoints.ts).
  /** The store's own secret for the cache keys' keyed hashes, made at the first call: every later call, on any host, gets the same. */
  cacheSecret(): MaybePromise<string>;
  /**
   * Claims `claim.key` for its build: a new row when no row has the key, or the claim taken over
   * from `takeOverFrom` when that build still holds it unfinished (it died). Returns the row as it
   * now is: claimed by this build, by another, or available.
   */
  claimCheckpoint(claim: CheckpointClaim, takeOverFrom?: string): MaybePromise<CheckpointRecord>;
  /** Marks the key's checkpoint available if `buildId` holds its claim (or made it already); false otherwise. */
  completeCheckpoint(key: string, buildId: string, made: CheckpointMade): MaybePromise<boolean>;
  /** Records a checkpoint found in the cloud (a teammate's) as available, unless the key is known already. */
  importCheckpoint(claim: CheckpointClaim, made: CheckpointMade): MaybePromise<void>;
  /** Forgets a checkpoint (removed, or gone from the cloud); with `claimedBy`, only that build's unfinished claim. */
  dropCheckpoint(key: string, claimedBy?: string): MaybePromise<void>;
  /** The checkpoints with these keys (every one when none are given), newest claim first. */
  checkpoints(keys?: readonly string[]): MaybePromise<CheckpointRecord[]>;
  /** Counts a build that started from the key's checkpoint. */
  recordCheckpointHit(key: string, buildId: string): MaybePromise<void>;
  /** The latest `scan` builds that checked the cache, newest first: their keys, and how long their provisioners and checkpoints took. */
  cacheHistory(scan?: number): MaybePromise<CacheHistoryEntry[]>;
}

/** Another live process drives this build. */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
  constructor(
    readonly buildId: string,
    readonly holder: Lease,
  ) {
    super(
      `build ${buildId} is being run by process ${holder.pid} on ${holder.host} (lease valid until ` +
        `${new Date(holder.expiresAt).toISOString()}); wait for it to finish or stop that process first`,
    );
  }
}

/** An append with `expect.afterSeq` found the build's log longer: someone else (or an earlier try) wrote to it. */
export class LogMovedError extends Error {
  override readonly name = 'LogMovedError';
  constructor(
    readonly buildId: string,
    readonly lastSeq: number,
    readonly expectedSeq: number,
  ) {
    super(`build ${buildId}'s log ends at event ${lastSeq} where its writer expected ${expectedSeq}: another process wrote to it`);
  }
}

/** Throws LogMovedError unless the log ends where `expect` says (no expectation: anywhere). */
export function checkLogEnd(buildId: string, lastSeq: number, expect: { afterSeq: number } | undefined): void {
  if (expect && lastSeq !== expect.afterSeq) throw new LogMovedError(buildId, lastSeq, expect.afterSeq);
}

/** A build id, as a user gave it, that names no single build: empty, unknown, or a prefix of several. */
export class BuildIdError extends Error {
  override readonly name: string = 'BuildIdError';
}

export class UnknownBuildError extends BuildIdError {
  override readonly name = 'UnknownBuildError';
  constructor(readonly buildId: string) {
    super(`no build with id ${buildId} in this database; \`kiln ls\` lists the known builds`);
  }
}

/** A prefix that several builds' ids begin with. */
export class AmbiguousBuildIdError extends BuildIdError {
  override readonly name = 'AmbiguousBuildIdError';
  constructor(
    readonly prefix: string,
    readonly matches: readonly string[],
  ) {
    super(`the build id prefix "${prefix}" matches several builds (${matches.join(', ')}${matches.length >= PREFIX_MATCHES_SHOWN ? ', …' : ''}); give more characters`);
  }
}

/** How many builds an ambiguous prefix's message names (the stores fetch one more to know there are more). */
export const PREFIX_MATCHES_SHOWN = 5;

/*
 * The one rule by which a user's build id names a build, in both stores' `findBuild` (which resume,
 * show and gc use): the exact id, else the one build whose id begins with it. A store calls
 * `checkBuildIdGiven`, looks the exact id up, then lists up to PREFIX_MATCHES_SHOWN + 1 builds
 * LIKE `likePrefix(…)` and hands them to `onlyMatch`.
 */

/** An empty id would match every build as a prefix: refused with what to give instead. */
export function checkBuildIdGiven(idOrPrefix: string): void {
  if (idOrPrefix.trim() === '') throw new BuildIdError('no build id given: name a build (or the start of its id); `kiln ls` lists them');
}

/** A LIKE pattern for ids beginning with `prefix` (`%`, `_` and `\\` taken literally, with ESCAPE '\\'). */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

/** The one build of `rows` (builds whose id begins with `prefix`), or why there is not one. */
export function onlyMatch<T extends { id: string }>(prefix: string, rows: readonly T[]): T {
  if (rows.length === 1) return rows[0]!;
  if (rows.length > 1) throw new AmbiguousBuildIdError(prefix, rows.slice(0, PREFIX_MATCHES_SHOWN).map((r) => r.id));
  throw new UnknownBuildError(prefix);
}

/**
 * True when `error` says the store could not be reached (a refused or dropped connection, a server
 * shutting down or starting up): worth trying again shortly, unlike a refused statement. One
 * predicate for every caller that retries (the engine's log writer).
 */
export function isStoreUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // Node's socket errors, and PostgreSQL's SQLSTATE classes 08 (connection exception) and 57P
  // (operator intervention: admin shutdown, crash shutdown, cannot connect now).
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  if (/^08/.test(code) || /^57P0[1-3]$/.test(code)) return true;
  // node-postgres reports a connection closed under a query, or a pool that could not connect in time, in words only.
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

/** The store stayed unreachable longer than the engine waits: the build stopped, safely, to be resumed. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** Not for the phase policy to retry: the build stops and `kiln resume` continues it. */
  readonly retryable = false;
  constructor(
    readonly location: string,
    waitedMs: number,
    cause: unknown,
  ) {
    super(`the event store ${location} was unreachable for ${Math.round(waitedMs / 1000)} s (${(cause as Error)?.message ?? String(cause)})`, { cause });
  }
}

/** True when a process with this pid exists on this host. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether this process can see the lease holder's pid: only in the same pid space (same boot, same
 * pid namespace) — never by host name, which containers share.
 */
export function holderVisible(lease: Pick<Lease, 'pidSpace'>, here: string | null = thisProcess().pidSpace): boolean {
  return lease.pidSpace !== null && lease.pidSpace === here;
}

/** Whether a lease is held by a live process: unexpired, and (where its pid can be checked) its pid still exists. */
export function leaseIsLive(lease: Lease | null, now: number = Date.now()): boolean {
  if (!lease || lease.expiresAt <= now) return false;
  return !holderVisible(lease) || pidAlive(lease.pid);
}

/**
 * The lease rule both stores apply inside their locking transaction: `owner` may take the lease
 * when it holds it already (same token), when it has expired at `now` (the store's clock), or when
 * the holder's process is provably gone: the store recorded the same pid space as the owner's, and
 * that pid no longer exists. Anywhere else (another container, another machine, an older kiln that
 * recorded no pid space) only expiry frees it. Throws LeaseHeldError when refused.
 */
export function checkLeaseFree(buildId: string, held: Lease | null, owner: LeaseOwner, now: number): void {
  if (!held || held.token === owner.token || held.expiresAt <= now) return;
  const provablyDead = held.pidSpace !== null && held.pidSpace === owner.pidSpace && !pidAlive(held.pid);
  if (!provablyDead) throw new LeaseHeldError(buildId, held);
}

// Rows: both dialects use the same column names, and the PostgreSQL store reads JSON columns as
// text, so one mapping serves both.

export interface BuildRow {
  id: string;
  template_path: string;
  template_hash: string;
  builder_name: string;
  status: string;
  phase: string | null;
  attempt: number;
  provisioner_index: number;
  spec: string;
  on_error: string;
  resources: string;
  artifact: string | null;
  error: string | null;
  lease_pid: number | null;
  lease_host: string | null;
  lease_expires_at: number | null;
  lease_token: string | null;
  lease_pid_space: string | null;
  host: string | null;
  created_at: string;
  updated_at: string;
  last_seq: number;
}

export interface EventRow {
  build_id: string;
  seq: number;
  at: string;
  type: string;
  phase: string | null;
  attempt: number;
  data: string;
}

export type SummaryRow = Pick<BuildRow, 'id' | 'template_path' | 'builder_name' | 'status' | 'phase' | 'lease_pid' | 'lease_host' | 'lease_expires_at' | 'lease_token' | 'lease_pid_space' | 'host' | 'created_at' | 'updated_at'> & {
  image_id: string | null;
};

export function toRecord(row: BuildRow): BuildRecord {
  return {
    id: row.id,
    templatePath: row.template_path,
    templateHash: row.template_hash,
    builderName: row.builder_name,
    status: row.status as BuildStatus,
    phase: row.phase && isPhaseName(row.phase) ? row.phase : null,
    attempt: row.attempt,
    provisionerIndex: row.provisioner_index,
    spec: JSON.parse(row.spec) as unknown,
    onError: row.on_error as OnError,
    resources: JSON.parse(row.resources) as BuildRecord['resources'],
    artifact: row.artifact ? (JSON.parse(row.artifact) as BuildRecord['artifact']) : null,
    error: row.error ? (JSON.parse(row.error) as BuildRecord['error']) : null,
    lease: toLease(row),
    host: row.host,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSeq: row.last_seq,
  };
}

/** The lease columns of a row, in the order the stores' statements take them. */
export const LEASE_COLUMNS = 'lease_pid, lease_host, lease_expires_at, lease_token, lease_pid_space';

export function leaseColumns(lease: Lease | null): [number | null, string | null, number | null, string | null, string | null] {
  return [lease?.pid ?? null, lease?.host ?? null, lease?.expiresAt ?? null, lease?.token ?? null, lease?.pidSpace ?? null];
}

export function toLease(row: Pick<BuildRow, 'lease_pid' | 'lease_host' | 'lease_expires_at' | 'lease_token' | 'lease_pid_space'>): Lease | null {
  if (row.lease_pid === null || row.lease_host === null || row.lease_expires_at === null) return null;
  return {
    // A lease an older kiln took has no token: one no process of today's holds.
    token: row.lease_token ?? `untokened:${row.lease_pid}@${row.lease_host}`,
    pid: row.lease_pid,
    host: row.lease_host,
    pidSpace: row.lease_pid_space ?? null,
    expiresAt: row.lease_expires_at,
  };
}

export function toSummary(row: SummaryRow): BuildSummary {
  return {
    id: row.id,
    templatePath: row.template_path,
    builderName: row.builder_name,
    status: row.status as BuildStatus,
    phase: row.phase && isPhaseName(row.phase) ? row.phase : null,
    artifact: row.image_id ? { imageId: row.image_id } : null,
    lease: toLease(row),
    host: row.host,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toEvent(row: EventRow): BuildEvent {
  return {
    buildId: row.build_id,
    seq: row.seq,
    at: row.at,
    type: row.type as EventType,
    phase: row.phase && isPhaseName(row.phase) ? (row.phase as PhaseName) : null,
    attempt: row.attempt,
    data: JSON.parse(row.data) as BuildEvent['data'],
  };
}

/** The events `events` get when appended to `record`: numbered after its last, stamped now. */
export function numberEvents(buildId: string, lastSeq: number, events: readonly NewEvent[]): BuildEvent[] {
  return events.map((input, index) => ({
    buildId,
    seq: lastSeq + 1 + index,
    at: new Date().toISOString(),
    type: input.type,
    phase: input.phase ?? null,
    attempt: input.attempt ?? 0,
    data: input.data ?? {},
  }));
}

/** The values of the projection columns an append updates, in the order both stores' UPDATE lists them. */
export function projectionColumns(record: BuildRecord): [string, string | null, number, number, string, string | null, string | null, string, number] {
  return [
    record.status,
    record.phase,
    record.attempt,
    record.provisionerIndex,
    JSON.stringify(record.resources),
    record.artifact ? JSON.stringify(record.artifact) : null,
    record.error ? JSON.stringify(record.error) : null,
    record.updatedAt,
    record.lastSeq,
  ];
}

/** Calls each listener with each event; a listener that throws (a renderer's bug) must not stop a build. */
export function notifyListeners(listeners: Iterable<EventListener>, events: readonly BuildEvent[]): void {
  const all = [...listeners];
  for (const event of events) {
    for (const listener of all) {
      try {
        listener(event);
      } catch {
        // The log comes first.
      }
    }
  }
}
