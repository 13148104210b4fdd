// The PostgreSQL event store: the shared store for teams and CI runners (issue 16). The same
// operations as the SQLite store (store.ts) behind the same interface (api.ts): an append and its
// projection in one transaction (the build's row locked FOR UPDATE, so appends to one build are
// serialised and seq stays gap-free), and leases that expire by the database's clock, so that
// processes on different hosts agree on when one has lapsed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import * as cache from './checkpoints-postgres.js';
import type { CacheHistoryEntry, CheckpointClaim, CheckpointMade, CheckpointRecord } from './checkpoints.js';
import { MIGRATIONS_DIR } from './db.js';
import type { BuildEvent, BuildStatus, EventData, EventType, NewEvent } from './events.js';
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

export const PG_MIGRATIONS_DIR = join(MIGRATIONS_DIR, 'postgres');

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

// Rows come back as the SQLite store reads them: JSON columns as their text (one row mapping for
// both stores, and the JSON exactly as written), epoch-ms BIGINTs as numbers (safe below 2^53).
const OID = { int8: 20, json: 114, jsonb: 3802 } as const;
const rowTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === OID.json || oid === OID.jsonb) return (value: string) => value;
    if (oid === OID.int8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** The database's clock in epoch milliseconds, read when the statement runs (not at transaction start). */
const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** A lock key that serialises kiln's migrations across every process sharing the database. */
const MIGRATION_LOCK = 0x6b696c6e; // "kiln"

/**
 * Applies every `NNNN_name.sql` of `dir` not yet recorded, in order, each in its own transaction,
 * under an advisory lock so that two hosts starting at once do not both apply one.
 */
export async function migratePostgres(pool: pg.Pool, dir: string = PG_MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  // The usual case, up to date: one query, no lock (`kiln ls` opens the store on every run).
  const recorded = await pool.query<{ name: string }>('SELECT name FROM schema_migrations').catch((error: Error & { code?: string }) => {
    if (error.code === '42P01') return undefined; // undefined_table: a new database
    throw error;
  });
  if (recorded && files.every((f) => recorded.rows.some((r) => r.name === f))) return [];
  const client = await pool.connect();
  const ran: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
      const applied = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
      for (const file of files) {
        if (applied.has(file)) continue;
        await client.query('BEGIN');
        try {
          await client.query(readFileSync(join(dir, file), 'utf8'));
          await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [file, new Date().toISOString()]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
        }
        ran.push(file);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
  return ran;
}

/**
 * A prepared statement: node-postgres parses and plans it once per connection and then sends only
 * its name and values. The text of each is fixed (a batch of events goes in as arrays), so one
 * statement serves any number of events.
 */
function prepared(name: string, text: string): { name: string; text: string } {
  return { name: `kiln_${name}`, text };
}

/** The events' columns as arrays, one per column: `unnest` turns them back into rows, in order. */
function eventColumns(events: readonly BuildEvent[]): [number[], string[], string[], (string | null)[], number[], string[]] {
  return [
    events.map((e) => e.seq),
    events.map((e) => e.at),
    events.map((e) => e.type),
    events.map((e) => e.phase),
    events.map((e) => e.attempt),
    events.map((e) => JSON.stringify(e.data)),
  ];
}

/** Rows of events from the arrays of eventColumns, parameters $first…$first+5, ordered by seq (insertion order is `id` order). */
const eventsFromArrays = (first: number) =>
  `unnest($${first}::int[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[], $${first + 4}::int[], $${first + 5}::json[])
     AS e (seq, at, type, phase, attempt, data)`;

const INSERT_EVENTS = prepared(
  'insert_events',
  `INSERT INTO events (build_id, seq, at, type, phase, attempt, data)
   SELECT $1, e.seq, e.at, e.type, e.phase, e.attempt, e.data FROM ${eventsFromArrays(2)} ORDER BY e.seq`,
);

/** Inserts one build's events as they are, in one statement. */
async function insertEvents(client: pg.PoolClient, buildId: string, events: readonly BuildEvent[]): Promise<void> {
  await client.query({ ...INSERT_EVENTS, values: [buildId, ...eventColumns(events)] });
}

const PROJECTION_SET = `status = $1, phase = $2, attempt = $3, provisioner_index = $4, resources = $5, artifact = $6,
  error = $7, updated_at = $8, last_seq = $9`;
const UPDATE_PROJECTION = prepared('update_projection', `UPDATE builds SET ${PROJECTION_SET} WHERE id = $10`);
/**
 * The append in one statement, hence one transaction, one round trip and one commit: the
 * projection's UPDATE only if the row is still at the expected `last_seq` ($11), and the events'
 * INSERT only if that UPDATE matched (the CTE yields its row).
 */
const APPEND_AFTER = prepared(
  'append_after',
  `WITH projected AS (UPDATE builds SET ${PROJECTION_SET} WHERE id = $10 AND last_seq = $11 RETURNING id)
   INSERT INTO events (build_id, seq, at, type, phase, attempt, data)
   SELECT projected.id, e.seq, e.at, e.type, e.phase, e.attempt, e.data FROM projected, ${eventsFromArrays(12)} ORDER BY e.seq`,
);
/** Newest first, as SQLite orders them: ISO 8601 text in byte order (the order of builds_by_created), then creation order. */
const NEWEST_FIRST = 'ORDER BY created_at COLLATE "C" DESC, pos DESC';
// The columns of a BuildRow and an EventRow, named: a prepared `SELECT *` fails ("cached plan must
// not change result type") once another host's newer kiln has added a column by a migration.
const BUILD_ROW = `id, template_path, template_hash, builder_name, status, phase, attempt, provisioner_index, spec, on_error, resources,
  artifact, error, ${LEASE_COLUMNS}, host, created_at, updated_at, last_seq`;
const EVENT_ROW = 'build_id, seq, at, type, phase, attempt, data';
const LOCK_BUILD = prepared('lock_build', `SELECT ${BUILD_ROW} FROM builds WHERE id = $1 FOR UPDATE`);
const GET_BUILD = prepared('get_build', `SELECT ${BUILD_ROW} FROM builds WHERE id = $1`);
const EVENTS = prepared('events', `SELECT ${EVENT_ROW} FROM events WHERE build_id = $1 AND seq > $2 ORDER BY seq`);
const EVENTS_WITH_STATE = prepared('events_with_state', `SELECT ${EVENT_ROW} FROM events WHERE build_id = $1 AND seq > $2 AND type <> 'provision.output' ORDER BY seq`);
const LAST_EVENT = prepared('last_event', `SELECT ${EVENT_ROW} FROM events WHERE build_id = $1 AND type = $2 ORDER BY seq DESC LIMIT 1`);

export class PgEventStore implements BuildStore {
  private readonly listeners = new Set<EventListener>();
  /**
   * Each build's record as this store last wrote or read it. While the build's row still has
   * that `last_seq` (nobody else appended: the lease holder is normally the only writer), the next
   * append needs no read: one statement (APPEND_AFTER) updates the row and inserts the events, one
   * round trip and one commit.
   */
  private readonly lastKnown = new Map<string, BuildRecord>();

  private constructor(
    readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  /**
   * Connects to `url` (libpq's PG* environment variables fill in what it leaves out) and brings
   * the schema up to date.
   */
  static async open(url: string): Promise<PgEventStore> {
    const pool = new pg.Pool({ connectionString: url, types: rowTypes, max: 4 });
    // An idle client whose connection drops emits 'error' on the pool; the next query reports it.
    pool.on('error', () => {});
    const store = new PgEventStore(pool, redactUrl(url));
    try {
      await migratePostgres(pool);
    } catch (error) {
      await pool.end();
      throw new Error(`cannot open the PostgreSQL store ${store.location}: ${(error as Error).message}`, { cause: error });
    }
    return store;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (!this.pool.ended) await this.pool.end();
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection lost between two statements is reported by the next one (then retried by the
    // engine's log); unheard, the client's 'error' event would end the process.
    const lost = (): void => {};
    client.on('error', lost);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is dropped from the pool rather than reused.
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  async createBuild(build: NewBuild, first: NewEvent): Promise<BuildEvent> {
    const at = new Date().toISOString();
    const events = await this.appendLocked(build.id, [first], async (client) => {
      await client.query(
        `INSERT INTO builds (id, template_path, template_hash, builder_name, status, spec, on_error, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8)`,
        [build.id, build.templatePath, build.templateHash, build.builderName, JSON.stringify(build.spec ?? null), build.onError, at, at],
      );
    });
    notifyListeners(this.listeners, events);
    return events[0]!;
  }

  async append(buildId: string, event: NewEvent): Promise<BuildEvent> {
    return (await this.appendMany(buildId, [event]))[0]!;
  }

  async appendMany(buildId: string, events: NewEvent[], expect?: { afterSeq: number }): Promise<BuildEvent[]> {
    if (events.length === 0) return [];
    const appended =
      // The fast path only when the log ends where the caller expects (its guard then checks the row).
      (expect === undefined || this.lastKnown.get(buildId)?.lastSeq === expect.afterSeq ? await this.appendAfterLastKnown(buildId, events) : undefined) ??
      (await this.appendLocked(buildId, events, undefined, expect));
    notifyListeners(this.listeners, appended);
    return appended;
  }

  /** The one-statement append (see lastKnown); undefined when the row moved on or is unknown here. */
  private async appendAfterLastKnown(buildId: string, events: NewEvent[]): Promise<BuildEvent[] | undefined> {
    const known = this.lastKnown.get(buildId);
    if (!known) return undefined;
    this.lastKnown.delete(buildId);
    const appended = numberEvents(buildId, known.lastSeq, events);
    const record = appended.reduce(applyEvent, known);
    const result = await this.pool.query({ ...APPEND_AFTER, values: [...projectionColumns(record), buildId, known.lastSeq, ...eventColumns(appended)] });
    if (result.rowCount !== appended.length) return undefined;
    this.lastKnown.set(buildId, record);
    return appended;
  }

  private async appendInTransaction(
    client: pg.PoolClient,
    buildId: string,
    events: NewEvent[],
    expect?: { afterSeq: number },
  ): Promise<{ appended: BuildEvent[]; record: BuildRecord }> {
    const row = (await client.query<BuildRow>({ ...LOCK_BUILD, values: [buildId] })).rows[0];
    if (!row) throw new UnknownBuildError(buildId);
    checkLogEnd(buildId, row.last_seq, expect);
    const appended = numberEvents(buildId, row.last_seq, events);
    await insertEvents(client, buildId, appended);
    const record = appended.reduce(applyEvent, toRecord(row));
    await client.query({ ...UPDATE_PROJECTION, values: [...projectionColumns(record), buildId] });
    return { appended, record };
  }

  /** Appends in a transaction that reads and locks the row first; remembers the record once committed. */
  private async appendLocked(
    buildId: string,
    events: NewEvent[],
    before?: (client: pg.PoolClient) => Promise<void>,
    expect?: { afterSeq: number },
  ): Promise<BuildEvent[]> {
    const { appended, record } = await this.transaction(async (client) => {
      await before?.(client);
      return this.appendInTransaction(client, buildId, events, expect);
    });
    this.lastKnown.set(buildId, record);
    return appended;
  }

  /**
   * Writes a build recorded elsewhere (another store), its row and its log as they are, in one
   * transaction: `kiln db copy`. False, writing nothing, when the store already has a build with
   * this id, so that copying twice records nothing twice.
   */
  async importBuild(record: BuildRecord, events: readonly BuildEvent[]): Promise<boolean> {
    return this.transaction(async (client) => {
      const inserted = await client.query(
        `INSERT INTO builds (id, template_path, template_hash, builder_name, spec, on_error,
           status, phase, attempt, provisioner_index, resources, artifact, error, updated_at, last_seq,
           ${LEASE_COLUMNS}, host, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
         ON CONFLICT (id) DO NOTHING`,
        [
          record.id,
          record.templatePath,
          record.templateHash,
          record.builderName,
          JSON.stringify(record.spec ?? null),
          record.onError,
          ...projectionColumns(record),
          ...leaseColumns(record.lease),
          record.host,
          record.createdAt,
        ],
      );
      if (inserted.rowCount !== 1) return false;
      await insertEvents(client, record.id, events);
      return true;
    });
  }

  async getBuild(id: string): Promise<BuildRecord | undefined> {
    const row = (await this.pool.query<BuildRow>({ ...GET_BUILD, values: [id] })).rows[0];
    return row ? this.remember(toRecord(row)) : undefined;
  }

  /**
   * A record just read is as good a starting point for the next append as one just written (the
   * append checks `last_seq`): `kiln resume` finds its build, and its first append is then one
   * statement too.
   */
  private remember(record: BuildRecord): BuildRecord {
    this.lastKnown.set(record.id, record);
    return record;
  }

  async findBuild(idOrPrefix: string): Promise<BuildRecord> {
    checkBuildIdGiven(idOrPrefix);
    const exact = await this.getBuild(idOrPrefix);
    if (exact) return exact;
    const { rows } = await this.pool.query<BuildRow>(`SELECT * FROM builds WHERE id LIKE $1 ESCAPE '\\' ORDER BY id LIMIT $2`, [
      likePrefix(idOrPrefix),
      PREFIX_MATCHES_SHOWN + 1,
    ]);
    return this.remember(toRecord(onlyMatch(idOrPrefix, rows)));
  }

  async listBuilds(filter: { status?: BuildStatus } = {}): Promise<BuildRecord[]> {
    const { rows } = filter.status
      ? await this.pool.query<BuildRow>(`SELECT * FROM builds WHERE status = $1 ${NEWEST_FIRST}`, [filter.status])
      : await this.pool.query<BuildRow>(`SELECT * FROM builds ${NEWEST_FIRST}`);
    return rows.map(toRecord);
  }

  async listBuildSummaries(filter: { status?: BuildStatus } = {}): Promise<BuildSummary[]> {
    // image_id: the artifact's, computed as the row is written (migration 0017).
    const columns = `id, template_path, builder_name, status, phase, image_id, ${LEASE_COLUMNS}, host, created_at, updated_at`;
    const { rows } = filter.status
      ? await this.pool.query<SummaryRow>(`SELECT ${columns} FROM builds WHERE status = $1 ${NEWEST_FIRST}`, [filter.status])
      : await this.pool.query<SummaryRow>(`SELECT ${columns} FROM builds ${NEWEST_FIRST}`);
    return rows.map(toSummary);
  }

  async events(buildId: string, options: { afterSeq?: number; withoutOutput?: boolean } = {}): Promise<BuildEvent[]> {
    const statement = options.withoutOutput ? EVENTS_WITH_STATE : EVENTS;
    return (await this.pool.query<EventRow>({ ...statement, values: [buildId, options.afterSeq ?? 0] })).rows.map(toEvent);
  }

  async lastEvent(buildId: string, type: EventType): Promise<BuildEvent | undefined> {
    const row = (await this.pool.query<EventRow>({ ...LAST_EVENT, values: [buildId, type] })).rows[0];
    return row ? toEvent(row) : undefined;
  }

  async waitHistory(limit = 1_000): Promise<EventData[]> {
    const { rows } = await this.pool.query<{ data: string }>("SELECT data FROM events WHERE type = 'wait.finished' ORDER BY id DESC LIMIT $1", [limit]);
    return rows.reverse().map((r) => JSON.parse(r.data) as EventData);
  }

  async phaseHistory(of: { templateHash: string; builderName: string; excludeBuildId: string }, scan = 2_000): Promise<PhaseDuration[]> {
    const { rows } = await this.pool.query<{ phase: string; provisionerIndex: number | null; durationMs: number }>(
      `SELECT e.phase AS phase, (e.data->>'provisionerIndex')::float8 AS "provisionerIndex", (e.data->>'durationMs')::float8 AS "durationMs"
       FROM (SELECT build_id, phase, data FROM events WHERE type = 'phase.succeeded' ORDER BY id DESC LIMIT $1) e
       JOIN builds b ON b.id = e.build_id
       WHERE b.template_hash = $2 AND b.builder_name = $3 AND b.id <> $4 AND e.data->>'durationMs' IS NOT NULL`,
      [scan, of.templateHash, of.builderName, of.excludeBuildId],
    );
    return rows.map((r) => ({ phase: r.phase, ...(r.provisionerIndex !== null ? { provisionerIndex: r.provisionerIndex } : {}), durationMs: r.durationMs }));
  }

  async cached<T>(key: string): Promise<T | undefined> {
    const row = (await this.pool.query<{ value: string }>(`SELECT value FROM api_cache WHERE key = $1 AND expires_at > ${DB_NOW_MS}`, [key])).rows[0];
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async cache(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO api_cache (key, value, fetched_at, expires_at) VALUES ($1, $2, ${DB_NOW_MS}, ${DB_NOW_MS} + $3)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`,
      [key, JSON.stringify(value), ttlMs],
    );
  }

  async uncache(key: string): Promise<void> {
    await this.pool.query('DELETE FROM api_cache WHERE key = $1', [key]);
  }

  async clock(): Promise<number> {
    return Number((await this.pool.query<{ now: string }>(`SELECT ${DB_NOW_MS} AS now`)).rows[0]!.now);
  }

  async acquireLease(buildId: string, owner: LeaseOwner, ttlMs: number): Promise<Lease> {
    return this.transaction(async (client) => {
      // FOR UPDATE: of two hosts racing for one build, the second waits here and then sees the first's lease.
      const row = (await client.query<BuildRow & { now_ms: number }>(`SELECT *, ${DB_NOW_MS} AS now_ms FROM builds WHERE id = $1 FOR UPDATE`, [buildId])).rows[0];
      if (!row) throw new UnknownBuildError(buildId);
      checkLeaseFree(buildId, toRecord(row).lease, owner, row.now_ms);
      const lease: Lease = { ...owner, expiresAt: row.now_ms + ttlMs };
      await client.query(`UPDATE builds SET (${LEASE_COLUMNS}) = ($1, $2, $3, $4, $5), host = $2 WHERE id = $6`, [...leaseColumns(lease), buildId]);
      return lease;
    });
  }

  async renewLease(buildId: string, owner: LeaseOwner, ttlMs: number): Promise<boolean> {
    const result = await this.pool.query(`UPDATE builds SET lease_expires_at = ${DB_NOW_MS} + $1 WHERE id = $2 AND lease_token = $3`, [ttlMs, buildId, owner.token]);
    return result.rowCount === 1;
  }

  async startGcRun(run: GcRunStart): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>(
      'INSERT INTO gc_runs (started_at, dry_run, host, pid, zones, older_than_ms, build_filter) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      gcRunStartColumns(run),
    );
    return rows[0]!.id;
  }

  async finishGcRun(id: number, run: GcRunEnd): Promise<void> {
    await this.pool.query('UPDATE gc_runs SET finished_at = $1, found = $2, removed = $3, not_removed = $4, cleaned_builds = $5, exit_code = $6 WHERE id = $7', [
      ...gcRunEndColumns(run),
      id,
    ]);
  }

  async gcRuns(): Promise<GcRunRecord[]> {
    return (await this.pool.query<GcRunRow>('SELECT * FROM gc_runs ORDER BY id')).rows.map(toGcRun);
  }

  async releaseLease(buildId: string, owner: LeaseOwner): Promise<void> {
    await this.pool.query(`UPDATE builds SET (${LEASE_COLUMNS}) = (NULL, NULL, NULL, NULL, NULL) WHERE id = $1 AND lease_token = $2`, [buildId, owner.token]);
  }

  // The build cache (checkpoints-postgres.ts).
  cacheSecret(): Promise<string> {
    return cache.cacheSecret(this.pool);
  }

  claimCheckpoint(claim: CheckpointClaim, takeOverFrom?: string): Promise<CheckpointRecord> {
    return cache.claimCheckpoint(this.pool, claim, takeOverFrom);
  }

  completeCheckpoint(key: string, buildId: string, made: CheckpointMade): Promise<boolean> {
    return cache.completeCheckpoint(this.pool, key, buildId, made);
  }

  importCheckpoint(claim: CheckpointClaim, made: CheckpointMade): Promise<void> {
    return cache.importCheckpoint(this.pool, claim, made);
  }

  dropCheckpoint(key: string, claimedBy?: string): Promise<void> {
    return cache.dropCheckpoint(this.pool, key, claimedBy);
  }

  checkpoints(keys?: readonly string[]): Promise<CheckpointRecord[]> {
    return cache.checkpoints(this.pool, keys);
  }

  recordCheckpointHit(key: string, buildId: string): Promise<void> {
    return cache.recordCheckpointHit(this.pool, key, buildId);
  }

  cacheHistory(scan = 200): Promise<CacheHistoryEntry[]> {
    return cache.cacheHistory(this.pool, scan);
  }
}
