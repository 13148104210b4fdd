// The build cache's queries on the PostgreSQL store (see checkpoints.ts and
// migrations/postgres/0020_build_cache.sql); PgEventStore's methods of the same names call these.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import {
  claimColumns,
  madeColumns,
  toCacheHistory,
  toCheckpoint,
  type CacheHistoryEntry,
  type CacheHistoryRow,
  type CheckpointClaim,
  type CheckpointMade,
  type CheckpointRecord,
  type CheckpointRow,
} from './checkpoints.js';

const INSERT_CLAIM = `INSERT INTO checkpoints (key, build_id, api_url, zone, template_path, builder_name, provisioner_index, provisioner_type, manifest, claimed_at, status)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'claimed') ON CONFLICT (key) DO NOTHING`;
/** A checkpoint made elsewhere, inserted available at once: never seen claimed by a build that is not making it. */
const INSERT_AVAILABLE = `INSERT INTO checkpoints (key, build_id, api_url, zone, template_path, builder_name, provisioner_index, provisioner_type, manifest, claimed_at,
    image_id, snapshots, size_bytes, reach_ms, created_at, status)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'available') ON CONFLICT (key) DO NOTHING`;
const COMPLETE = `UPDATE checkpoints SET status = 'available', image_id = $1, snapshots = $2, size_bytes = $3, reach_ms = $4, created_at = $5 WHERE key = $6 AND build_id = $7`;

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export async function cacheSecret(pool: Queryable): Promise<string> {
  // Made once: of two hosts racing, the second insert does nothing and both read the first's.
  await pool.query('INSERT INTO cache_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [randomBytes(32).toString('hex')]);
  return (await pool.query<{ secret: string }>('SELECT secret FROM cache_secret WHERE id = 1')).rows[0]!.secret;
}

/** One statement each: the insert, the take-over if asked for, then the row as it now is. */
export async function claimCheckpoint(pool: Queryable, claim: CheckpointClaim, takeOverFrom?: string): Promise<CheckpointRecord> {
  const columns = claimColumns(claim);
  await pool.query(INSERT_CLAIM, columns);
  if (takeOverFrom !== undefined) {
    const [key, ...rest] = columns;
    await pool.query(
      `UPDATE checkpoints SET build_id = $1, api_url = $2, zone = $3, template_path = $4, builder_name = $5, provisioner_index = $6, provisioner_type = $7, manifest = $8, claimed_at = $9
       WHERE key = $10 AND status = 'claimed' AND build_id = $11`,
      [...rest, key, takeOverFrom],
    );
  }
  return toCheckpoint((await pool.query<CheckpointRow>('SELECT * FROM checkpoints WHERE key = $1', [claim.key])).rows[0]!);
}

export async function completeCheckpoint(pool: Queryable, key: string, buildId: string, made: CheckpointMade): Promise<boolean> {
  return (await pool.query(COMPLETE, [...madeColumns(made), key, buildId])).rowCount === 1;
}

export async function importCheckpoint(pool: Queryable, claim: CheckpointClaim, made: CheckpointMade): Promise<void> {
  await pool.query(INSERT_AVAILABLE, [...claimColumns(claim), ...madeColumns(made)]);
}

export async function dropCheckpoint(pool: Queryable, key: string, claimedBy?: string): Promise<void> {
  if (claimedBy === undefined) await pool.query('DELETE FROM checkpoints WHERE key = $1', [key]);
  else await pool.query(`DELETE FROM checkpoints WHERE key = $1 AND status = 'claimed' AND build_id = $2`, [key, claimedBy]);
}

export async function checkpoints(pool: Queryable, keys?: readonly string[]): Promise<CheckpointRecord[]> {
  const { rows } =
    keys === undefined
      ? await pool.query<CheckpointRow>('SELECT * FROM checkpoints ORDER BY claimed_at COLLATE "C" DESC')
      : await pool.query<CheckpointRow>('SELECT * FROM checkpoints WHERE key = ANY($1::text[]) ORDER BY claimed_at COLLATE "C" DESC', [keys]);
  return rows.map(toCheckpoint);
}

export async function recordCheckpointHit(pool: Queryable, key: string, buildId: string): Promise<void> {
  await pool.query('UPDATE checkpoints SET hits = hits + 1, last_hit_at = $1, last_hit_build = $2 WHERE key = $3', [new Date().toISOString(), buildId, key]);
}

export async function cacheHistory(pool: Queryable, scan: number): Promise<CacheHistoryEntry[]> {
  const { rows } = await pool.query<CacheHistoryRow>(
    `SELECT c.build_id AS build_id, c.data AS checked, e.phase AS phase, (e.data->>'provisionerIndex')::float8 AS provisioner_index,
            (e.data->>'durationMs')::float8 AS duration_ms, e.data->'facts' AS facts
     FROM (SELECT build_id, data, id FROM events WHERE type = 'cache.checked' ORDER BY id DESC LIMIT $1) c
     LEFT JOIN events e ON e.build_id = c.build_id AND e.type = 'phase.succeeded' AND e.phase IN ('provision', 'checkpoint')
     ORDER BY c.id DESC, e.seq`,
    [scan],
  );
  return toCacheHistory(rows);
}
