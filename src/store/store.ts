// The event store: appends build events and keeps the `builds` projection in step, in one
// `BEGIN IMMEDIATE` transaction per append; answers the queries of ls/show/resume; holds the
// one-process-per-build lease.
import { hostname } from 'node:os';
import type { PhaseName } from '../../machines/phases.js';
import { isPhaseName } from '../../machines/phases.js';
import { openDatabase, type Db } from './db.js';
import type { BuildEvent, BuildStatus, EventData, EventType, NewEvent, OnError } from './events.js';
import { applyEvent, type BuildRecord, type BuildSummary, type Lease } from './projection.js';

export interface NewBuild {
  id: string;
  templatePath: string;
  templateHash: string;
  builderName: string;
  /** Must already be redacted (`redactSpec`): the store keeps it as given. */
  spec: unknown;
  onError: OnError;
}

export interface LeaseOwner {
  pid: number;
  host: string;
}

export const thisProcess = (): LeaseOwner => ({ pid: process.pid, host: hostname() });

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

export class UnknownBuildError extends Error {
  override readonly name = 'UnknownBuildError';
  constructor(readonly buildId: string) {
    super(`no build with id ${buildId} in this database; \`kiln ls\` lists the known builds`);
  }
}

export type EventListener = (event: BuildEvent) => void;

interface BuildRow {
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
  created_at: string;
  updated_at: string;
  last_seq: number;
}

interface EventRow {
  build_id: string;
  seq: number;
  at: string;
  type: string;
  phase: string | null;
  attempt: number;
  data: string;
}

function toRecord(row: BuildRow): BuildRecord {
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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSeq: row.last_seq,
  };
}

type SummaryRow = Pick<BuildRow, 'id' | 'template_path' | 'builder_name' | 'status' | 'phase' | 'lease_pid' | 'lease_host' | 'lease_expires_at' | 'created_at' | 'updated_at'> & {
  image_id: string | null;
};

function toLease(row: Pick<BuildRow, 'lease_pid' | 'lease_host' | 'lease_expires_at'>): Lease | null {
  return row.lease_pid !== null && row.lease_host !== null && row.lease_expires_at !== null
    ? { pid: row.lease_pid, host: row.lease_host, expiresAt: row.lease_expires_at }
    : null;
}

function toSummary(row: SummaryRow): BuildSummary {
  return {
    id: row.id,
    templatePath: row.template_path,
    builderName: row.builder_name,
    status: row.status as BuildStatus,
    phase: row.phase && isPhaseName(row.phase) ? row.phase : null,
    artifact: row.image_id ? { imageId: row.image_id } : null,
    lease: toLease(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEvent(row: EventRow): BuildEvent {
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

/** True when a process with this pid exists on this host. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lease is held by a live process: unexpired, and (on this host) its pid still exists. */
export function leaseIsLive(lease: Lease | null, now: number = Date.now()): boolean {
  if (!lease || lease.expiresAt <= now) return false;
  return lease.host !== hostname() || pidAlive(lease.pid);
}

export class EventStore {
  private readonly listeners = new Set<EventListener>();

  constructor(
    readonly db: Db,
    readonly path: string,
  ) {}

  static open(path: string): EventStore {
    return new EventStore(openDatabase(path), path);
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
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch {
          // A renderer's bug must not stop a build.
        }
      }
    }
  }

  /** Creates the build's row and appends its first event, in one transaction. */
  createBuild(build: NewBuild, first: NewEvent): BuildEvent {
    const at = new Date().toISOString();
    const events = this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT INTO builds (id, template_path, template_hash, builder_name, status, spec, on_error, created_at, updated_at)
             VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
          )
          .run(build.id, build.templatePath, build.templateHash, build.builderName, JSON.stringify(build.spec ?? null), build.onError, at, at);
        return this.appendInTransaction(build.id, [first]);
      })
      .immediate();
    this.notify(events);
    return events[0]!;
  }

  append(buildId: string, event: NewEvent): BuildEvent {
    return this.appendMany(buildId, [event])[0]!;
  }

  /** Appends several events (e.g. a batch of provisioner output) in one transaction. */
  appendMany(buildId: string, events: NewEvent[]): BuildEvent[] {
    if (events.length === 0) return [];
    const appended = this.db.transaction(() => this.appendInTransaction(buildId, events)).immediate();
    this.notify(appended);
    return appended;
  }

  private appendInTransaction(buildId: string, events: NewEvent[]): BuildEvent[] {
    const row = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(buildId) as BuildRow | undefined;
    if (!row) throw new UnknownBuildError(buildId);
    let record = toRecord(row);
    const insert = this.db.prepare('INSERT INTO events (build_id, seq, at, type, phase, attempt, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const appended: BuildEvent[] = [];
    for (const input of events) {
      const event: BuildEvent = {
        buildId,
        seq: record.lastSeq + 1,
        at: new Date().toISOString(),
        type: input.type,
        phase: input.phase ?? null,
        attempt: input.attempt ?? 0,
        data: input.data ?? {},
      };
      insert.run(buildId, event.seq, event.at, event.type, event.phase, event.attempt, JSON.stringify(event.data));
      record = applyEvent(record, event);
      appended.push(event);
    }
    this.db
      .prepare(
        `UPDATE builds SET status = ?, phase = ?, attempt = ?, provisioner_index = ?, resources = ?, artifact = ?, error = ?,
           updated_at = ?, last_seq = ? WHERE id = ?`,
      )
      .run(
        record.status,
        record.phase,
        record.attempt,
        record.provisionerIndex,
        JSON.stringify(record.resources),
        record.artifact ? JSON.stringify(record.artifact) : null,
        record.error ? JSON.stringify(record.error) : null,
        record.updatedAt,
        record.lastSeq,
        buildId,
      );
    return appended;
  }

  getBuild(id: string): BuildRecord | undefined {
    const row = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(id) as BuildRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** A build by its full id or an unambiguous prefix (as `git` does for commits). */
  findBuild(idOrPrefix: string): BuildRecord {
    const exact = this.getBuild(idOrPrefix);
    if (exact) return exact;
    const rows = this.db
      .prepare(`SELECT * FROM builds WHERE id LIKE ? ESCAPE '\\' LIMIT 2`)
      .all(idOrPrefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%') as BuildRow[];
    if (rows.length === 1) return toRecord(rows[0]!);
    if (rows.length > 1) throw new Error(`build id prefix ${idOrPrefix} matches several builds; give more characters`);
    throw new UnknownBuildError(idOrPrefix);
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
      lease_pid, lease_host, lease_expires_at, created_at, updated_at`;
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
  phaseHistory(of: { templateHash: string; builderName: string; excludeBuildId: string }, scan = 2_000): { phase: string; provisionerIndex?: number; durationMs: number }[] {
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
    this.db
      .prepare('INSERT INTO api_cache (key, value, fetched_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at')
      .run(key, JSON.stringify(value), now, now + ttlMs);
  }

  /** Forgets the cached answer under `key` (it proved wrong). */
  uncache(key: string): void {
    this.db.prepare('DELETE FROM api_cache WHERE key = ?').run(key);
  }

  /**
   * Takes the build's lease for `owner`. A live foreign lease is refused (LeaseHeldError); an
   * expired one, or one held by a dead process on this host, is taken over.
   */
  acquireLease(buildId: string, owner: LeaseOwner, ttlMs: number, now: number = Date.now()): Lease {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(buildId) as BuildRow | undefined;
        if (!row) throw new UnknownBuildError(buildId);
        const held = toRecord(row).lease;
        if (held && held.expiresAt > now && !(held.pid === owner.pid && held.host === owner.host)) {
          const deadHereHolder = held.host === owner.host && !pidAlive(held.pid);
          if (!deadHereHolder) throw new LeaseHeldError(buildId, held);
        }
        const lease: Lease = { pid: owner.pid, host: owner.host, expiresAt: now + ttlMs };
        this.db
          .prepare('UPDATE builds SET lease_pid = ?, lease_host = ?, lease_expires_at = ? WHERE id = ?')
          .run(lease.pid, lease.host, lease.expiresAt, buildId);
        return lease;
      })
      .immediate();
  }

  /** Extends the lease if `owner` still holds it; false when it was lost. */
  renewLease(buildId: string, owner: LeaseOwner, ttlMs: number, now: number = Date.now()): boolean {
    const result = this.db
      .prepare('UPDATE builds SET lease_expires_at = ? WHERE id = ? AND lease_pid = ? AND lease_host = ?')
      .run(now + ttlMs, buildId, owner.pid, owner.host);
    return result.changes === 1;
  }

  releaseLease(buildId: string, owner: LeaseOwner): void {
    this.db
      .prepare('UPDATE builds SET lease_pid = NULL, lease_host = NULL, lease_expires_at = NULL WHERE id = ? AND lease_pid = ? AND lease_host = ?')
      .run(buildId, owner.pid, owner.host);
  }
}
