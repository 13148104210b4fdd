// The build cache's queries on the SQLite store (see checkpoints.ts and migrations/0020_build_cache.sql);
// EventStore's methods of the same names call these.
import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';
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
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'claimed') ON CONFLICT (key) DO NOTHING`;

export function cacheSecret(db: Db): string {
  // Made once: of two processes racing, the second insert does nothing and both read the first's.
  db.prepare('INSERT INTO cache_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING').run(randomBytes(32).toString('hex'));
  return (db.prepare('SELECT secret FROM cache_secret WHERE id = 1').get() as { secret: string }).secret;
}

function checkpointRow(db: Db, key: string): CheckpointRecord {
  return toCheckpoint(db.prepare('SELECT * FROM checkpoints WHERE key = ?').get(key) as CheckpointRow);
}

export function claimCheckpoint(db: Db, claim: CheckpointClaim, takeOverFrom?: string): CheckpointRecord {
  return db
    .transaction(() => {
      const [key, buildId, ...rest] = claimColumns(claim);
      db.prepare(INSERT_CLAIM).run(key, buildId, ...rest);
      if (takeOverFrom !== undefined) {
        db.prepare(
          `UPDATE checkpoints SET build_id = ?, api_url = ?, zone = ?, template_path = ?, builder_name = ?, provisioner_index = ?, provisioner_type = ?, manifest = ?, claimed_at = ?
           WHERE key = ? AND status = 'claimed' AND build_id = ?`,
        ).run(buildId, ...rest, key, takeOverFrom);
      }
      return checkpointRow(db, claim.key);
    })
    .immediate();
}

export function completeCheckpoint(db: Db, key: string, buildId: string, made: CheckpointMade): boolean {
  const result = db
    .prepare(`UPDATE checkpoints SET status = 'available', image_id = ?, snapshots = ?, size_bytes = ?, reach_ms = ?, created_at = ? WHERE key = ? AND build_id = ?`)
    .run(...madeColumns(made), key, buildId);
  return result.changes === 1;
}

export function importCheckpoint(db: Db, claim: CheckpointClaim, made: CheckpointMade): void {
  // Inserted available at once: never seen claimed by a build that is not making it.
  db.prepare(
    `INSERT INTO checkpoints (key, build_id, api_url, zone, template_path, builder_name, provisioner_index, provisioner_type, manifest, claimed_at,
       image_id, snapshots, size_bytes, reach_ms, created_at, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'available') ON CONFLICT (key) DO NOTHING`,
  ).run(...claimColumns(claim), ...madeColumns(made));
}

export function dropCheckpoint(db: Db, key: string, claimedBy?: string): void {
  if (claimedBy === undefined) db.prepare('DELETE FROM checkpoints WHERE key = ?').run(key);
  else db.prepare(`DELETE FROM checkpoints WHERE key = ? AND status = 'claimed' AND build_id = ?`).run(key, claimedBy);
}

export function checkpoints(db: Db, keys?: readonly string[]): CheckpointRecord[] {
  const rows = (
    keys === undefined
      ? db.prepare('SELECT * FROM checkpoints ORDER BY claimed_at DESC').all()
      : db.prepare('SELECT * FROM checkpoints WHERE key IN (SELECT value FROM json_each(?)) ORDER BY claimed_at DESC').all(JSON.stringify(keys))
  ) as CheckpointRow[];
  return rows.map(toCheckpoint);
}

export function recordCheckpointHit(db: Db, key: string, buildId: string): void {
  db.prepare('UPDATE checkpoints SET hits = hits + 1, last_hit_at = ?, last_hit_build = ? WHERE key = ?').run(new Date().toISOString(), buildId, key);
}

export function cacheHistory(db: Db, scan: number): CacheHistoryEntry[] {
  const rows = db
    .prepare(
      `SELECT c.build_id AS build_id, c.data AS checked, e.phase AS phase, json_extract(e.data, '$.provisionerIndex') AS provisioner_index,
              json_extract(e.data, '$.durationMs') AS duration_ms, json_extract(e.data, '$.facts') AS facts
       FROM (SELECT build_id, data, rowid AS pos FROM events INDEXED BY events_cache_checked WHERE type = 'cache.checked' ORDER BY rowid DESC LIMIT ?) c
       LEFT JOIN events e ON e.build_id = c.build_id AND e.type = 'phase.succeeded' AND e.phase IN ('provision', 'checkpoint')
       ORDER BY c.pos DESC, e.seq`,
    )
    .all(scan) as CacheHistoryRow[];
  return toCacheHistory(rows);
}
