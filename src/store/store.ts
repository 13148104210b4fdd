// The event store: appends build events and keeps the `builds` projection in step, in one
// `BEGIN IMMEDIATE` transaction per append; answers the queries of ls/show/resume; holds the
// one-process-per-build lease.
import * as cache from './checkpoints-sqlite.js';
import type { CacheHistoryEntry, CheckpointClaim, CheckpointMade, CheckpointRecord } from './checkpoints.js';
import { openDatabase, writeWaitingForLock, type Db, type LockWaitListener } from './db.js';
import { mustReachDisk, type BuildEvent, type BuildStatus, type EventData, type EventType, type NewEvent } from './events.js';
import { applyEvent, type BuildRecord, type BuildSummary, type Lease } from './projection.js';
import {
  checkLeaseFree,
  LEASE_COLUMNS,
  leaseColumns,
  checkLogEnd,
  notifyListeners,
  numberEvents,
  projectionColumns,
  toEvent,
  toRecord,
  toSummary,
  UnknownBuildError,
  checkBuildIdGiven,
  likePrefix,
  onlyMatch,
  PREFIX_MATCHES_SHOWN,
  gcRunEndColumns,
  gcRunStartColumns,
  toGcRun,
  type BuildRow,
  type GcRunEnd,
  type GcRunRecord,
  type GcRunRow,
  type GcRunStart,
  type BuildStore,
  type EventListener,
  type EventRow,
  type LeaseOwner,
  type NewBuild,
  type PhaseDuration,
  type SummaryRow,
} from './api.js';

export class EventStore implements BuildStore {
  private readonly listeners = new Set<EventListener>();

  constructor(
    readonly db: Db,
    readonly path: string,
    /** Told when a write waits for another process's lock (writeWaitingForLock). */
    private readonly onLockWait?: LockWaitListener,
  ) {}

  get location(): string {
    return this.path;
  }

  static open(path: string, options: { onLockWait?: LockWaitListener } = {}): EventStore {
    return new EventStore(openDatabase(path, options.onLockWait), path, options.onLockWait);
  }

  /** A write (a transaction or one statement), waiting for another process's lock and saying so. */
  private write<T>(write: () => T): T {
    return writeWaitingForLock(this.db, this.path, this.onLockWait, write);
  }

  close(): void {
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }

  /** Called after each committed append. A listener that throws is ignored: the log comes first. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(events: BuildEvent[]): void {
    notifyListeners(this.listeners, events);
  }

  /** Creates the build's row and appends its first event, in one transaction. */
  createBuild(build: NewBuild, first: NewEvent): BuildEvent {
    const at = new Date().toISOString();
    const events = this.write(() => this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT INTO builds (id, template_path, template_hash, builder_name, status, spec, on_error, created_at, updated_at)
             VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
          )
          .run(build.id, build.templatePath, build.templateHash, build.builderName, JSON.stringify(build.spec ?? null), build.onError, at, at);
        return this.appendInTransaction(build.id, [first]);
      })
      .immediate());
    this.notify(events);
    return events[0]!;
  }

  append(buildId: string, event: NewEvent): BuildEvent {
    return this.appendMany(buildId, [event])[0]!;
  }

  /** Appends several events (e.g. a batch of provisioner output) in one transaction. */
  appendMany(buildId: string, events: NewEvent[], expect?: { afterSeq: number }): BuildEvent[] {
    if (events.length === 0) return [];
    // Only intents and lifecycle events wait for the disk (mustReachDisk); the connection is
    // otherwise left at FULL, for every other write (leases, the cache).
    const relaxed = !events.some((e) => mustReachDisk(e.type));
    if (relaxed) this.db.pragma('synchronous = NORMAL');
    let appended: BuildEvent[];
    try {
      appended = this.write(() => this.db.transaction(() => this.appendInTransaction(buildId, events, expect)).immediate());
    } finally {
      if (relaxed) this.db.pragma('synchronous = FULL');
    }
    this.notify(appended);
    return appended;
  }

  private appendInTransaction(buildId: string, events: NewEvent[], expect?: { afterSeq: number }): BuildEvent[] {
    const row = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(buildId) as BuildRow | undefined;
    if (!row) throw new UnknownBuildError(buildId);
    checkLogEnd(buildId, row.last_seq, expect);
    let record = toRecord(row);
    const insert = this.db.prepare('INSERT INTO events (build_id, seq, at, type, phase, attempt, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const appended = numberEvents(buildId, record.lastSeq, events);
    for (const event of appended) {
      insert.run(buildId, event.seq, event.at, event.type, event.phase, event.attempt, JSON.stringify(event.data));
      record = applyEvent(record, event);
    }
    this.db
      .prepare(
        `UPDATE builds SET status = ?, phase = ?, attempt = ?, provisioner_index = ?, resources = ?, artifact = ?, error = ?,
           updated_at = ?, last_seq = ? WHERE id = ?`,
      )
      .run(...projectionColumns(record), buildId);
    return appended;
  }

  getBuild(id: string): BuildRecord | undefined {
    const row = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(id) as BuildRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** A build by its full id or an unambiguous prefix (as `git` does for commits). */
  findBuild(idOrPrefix: string): BuildRecord {
    checkBuildIdGiven(idOrPrefix);
    const exact = this.getBuild(idOrPrefix);
    if (exact) return exact;
    const rows = this.db
      .prepare(`SELECT * FROM builds WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?`)
      .all(likePrefix(idOrPrefix), PREFIX_MATCHES_SHOWN + 1) as BuildRow[];
    return toRecord(onlyMatch(idOrPrefix, rows));
  }

  /** Builds, newest first. */
  listBuilds(filter: { status?: BuildStatus } = {}): BuildRecord[] {
    const rows = (
      filter.status
        ? this.db.prepare('SELECT * FROM builds WHERE status = ? ORDER BY created_at DESC, rowid DESC').all(filter.status)
        : this.db.prepare('SELECT * FROM builds ORDER BY created_at DESC, rowid DESC').all()
    ) as BuildRow[];
    return rows.map(toRecord);
  }

  /**
   * Builds, newest first, with only what a listing shows: no spec or resources to read and parse,
   * so `kiln ls` stays fast with thousands of builds.
   */
  listBuildSummaries(filter: { status?: BuildStatus } = {}): BuildSummary[] {
    const columns = `id, template_path, builder_name, status, phase, json_extract(artifact, '$.imageId') AS image_id,
      ${LEASE_COLUMNS}, host, created_at, updated_at`;
    const rows = (
      filter.status
        ? this.db.prepare(`SELECT ${columns} FROM builds WHERE status = ? ORDER BY created_at DESC, rowid DESC`).all(filter.status)
        : this.db.prepare(`SELECT ${columns} FROM builds ORDER BY created_at DESC, rowid DESC`).all()
    ) as SummaryRow[];
    return rows.map(toSummary);
  }

  /**
   * A build's events in order. `withoutOutput` leaves out `provision.output` (provisioner output
   * lines): they carry no state, so folding the log (resume) does not need to read them.
   */
  events(buildId: string, options: { afterSeq?: number; withoutOutput?: boolean } = {}): BuildEvent[] {
    const sql = options.withoutOutput
      ? "SELECT * FROM events WHERE build_id = ? AND seq > ? AND type <> 'provision.output' ORDER BY seq"
      : 'SELECT * FROM events WHERE build_id = ? AND seq > ? ORDER BY seq';
    const rows = this.db.prepare(sql).all(buildId, options.afterSeq ?? 0) as EventRow[];
    return rows.map(toEvent);
  }

  /** The build's latest event of `type`, without reading the rest of its log. */
  lastEvent(buildId: string, type: EventType): BuildEvent | undefined {
    const row = this.db.prepare('SELECT * FROM events WHERE build_id = ? AND type = ? ORDER BY seq DESC LIMIT 1').get(buildId, type) as EventRow | undefined;
    return row ? toEvent(row) : undefined;
  }

  /**
   * The data of the latest `limit` `wait.finished` events of all builds, oldest first: the history
   * wait predictions learn from (one query on a partial index).
   */
  waitHistory(limit = 1_000): EventData[] {
    const rows = this.db
      .prepare("SELECT data FROM events INDEXED BY events_wait_finished WHERE type = 'wait.finished' ORDER BY rowid DESC LIMIT ?")
      .all(limit) as { data: string }[];
    return rows.reverse().map((r) => JSON.parse(r.data) as EventData);
  }

  /**
   * How long each phase took in other builds of the same template and builder, among the latest
   * `scan` finished phases of the store (bounded work however large the store): the history
   * `kiln show` sets a build's phases against.
   */
  phaseHistory(of: { templateHash: string; builderName: string; excludeBuildId: string }, scan = 2_000): PhaseDuration[] {
    const rows = this.db
      .prepare(
        `SELECT e.phase AS phase, json_extract(e.data, '$.provisionerIndex') AS provisionerIndex, json_extract(e.data, '$.durationMs') AS durationMs
         FROM (SELECT build_id, phase, data FROM events INDEXED BY events_phase_succeeded WHERE type = 'phase.succeeded' ORDER BY rowid DESC LIMIT ?) e
         JOIN builds b ON b.id = e.build_id
         WHERE b.template_hash = ? AND b.builder_name = ? AND b.id <> ? AND json_extract(e.data, '$.durationMs') IS NOT NULL`,
      )
      .all(scan, of.templateHash, of.builderName, of.excludeBuildId) as { phase: string; provisionerIndex: number | null; durationMs: number }[];
    return rows.map((r) => ({ phase: r.phase, ...(r.provisionerIndex !== null ? { provisionerIndex: r.provisionerIndex } : {}), durationMs: r.durationMs }));
  }

  /** A cached answer under `key` that has not expired at `now`, or undefined. */
  cached<T>(key: string, now: number = Date.now()): T | undefined {
    const row = this.db.prepare('SELECT value FROM api_cache WHERE key = ? AND expires_at > ?').get(key, now) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  /** Keeps `value` under `key` until `ttlMs` from `now`. */
  cache(key: string, value: unknown, ttlMs: number, now: number = Date.now()): void {
    this.write(() => this.db
      .prepare('INSERT INTO api_cache (key, value, fetched_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at')
      .run(key, JSON.stringify(value), now, now + ttlMs));
  }

  /** Forgets the cached answer under `key` (it proved wrong). */
  uncache(key: string): void {
    this.write(() => this.db.prepare('DELETE FROM api_cache WHERE key = ?').run(key));
  }

  /**
   * Takes the build's lease for `owner`. A live foreign lease is refused (LeaseHeldError); an
   * expired one, or one held by a dead process on this host, is taken over.
   */
  /** One machine, one clock. */
  clock(): number {
    return Date.now();
  }

  acquireLease(buildId: string, owner: LeaseOwner, ttlMs: number, now: number = Date.now()): Lease {
    return this.write(() => this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(buildId) as BuildRow | undefined;
        if (!row) throw new UnknownBuildError(buildId);
        checkLeaseFree(buildId, toRecord(row).lease, owner, now);
        const lease: Lease = { ...owner, expiresAt: now + ttlMs };
        this.db
          .prepare(`UPDATE builds SET (${LEASE_COLUMNS}) = (?, ?, ?, ?, ?), host = ? WHERE id = ?`)
          .run(...leaseColumns(lease), lease.host, buildId);
        return lease;
      })
      .immediate());
  }

  /** Extends the lease if `owner` still holds it; false when it was lost. */
  renewLease(buildId: string, owner: LeaseOwner, ttlMs: number, now: number = Date.now()): boolean {
    const result = this.write(() => this.db
      .prepare('UPDATE builds SET lease_expires_at = ? WHERE id = ? AND lease_token = ?')
      .run(now + ttlMs, buildId, owner.token));
    return result.changes === 1;
  }

  startGcRun(run: GcRunStart): number {
    const info = this.write(() => this.db
      .prepare('INSERT INTO gc_runs (started_at, dry_run, host, pid, zones, older_than_ms, build_filter) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(...gcRunStartColumns(run)));
    return Number(info.lastInsertRowid);
  }

  finishGcRun(id: number, run: GcRunEnd): void {
    this.write(() => this.db
      .prepare('UPDATE gc_runs SET finished_at = ?, found = ?, removed = ?, not_removed = ?, cleaned_builds = ?, exit_code = ? WHERE id = ?')
      .run(...gcRunEndColumns(run), id));
  }

  gcRuns(): GcRunRecord[] {
    return (this.db.prepare('SELECT * FROM gc_runs ORDER BY id').all() as GcRunRow[]).map(toGcRun);
  }

  releaseLease(buildId: string, owner: LeaseOwner): void {
    this.write(() => this.db
      .prepare(`UPDATE builds SET (${LEASE_COLUMNS}) = (NULL, NULL, NULL, NULL, NULL) WHERE id = ? AND lease_token = ?`)
      .run(buildId, owner.token));
  }

  // The build cache (checkpoints-sqlite.ts).
  cacheSecret(): string {
    return cache.cacheSecret(this.db);
  }

  claimCheckpoint(claim: CheckpointClaim, takeOverFrom?: string): CheckpointRecord {
    return cache.claimCheckpoint(this.db, claim, takeOverFrom);
  }

  completeCheckpoint(key: string, buildId: string, made: CheckpointMade): boolean {
    return cache.completeCheckpoint(this.db, key, buildId, made);
  }

  importCheckpoint(claim: CheckpointClaim, made: CheckpointMade): void {
    cache.importCheckpoint(this.db, claim, made);
  }

  dropCheckpoint(key: string, claimedBy?: string): void {
    cache.dropCheckpoint(this.db, key, claimedBy);
  }

  checkpoints(keys?: readonly string[]): CheckpointRecord[] {
    return cache.checkpoints(this.db, keys);
  }

  recordCheckpointHit(key: string, buildId: string): void {
    cache.recordCheckpointHit(this.db, key, buildId);
  }

  cacheHistory(scan = 200): CacheHistoryEntry[] {
    return cache.cacheHistory(this.db, scan);
  }
}
